"""Conducting a session: start, move between steps, add time, close.

Only the session's facilitator does any of it; the POST names the step it
leaves, so a double click or two facilitators at once move the session once.
"""

import datetime as dt
import html

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from sessions import services
from sessions.models import HandRaise, Learning, Session
from sessions.steps import Step
from tests.conftest import go_live

HTMX = {"HX-Request": "true"}
CHANGED_STEP = "La séance a déjà changé d'étape : voici où elle en est."
NOT_LIVE = "La séance n'est pas en cours : rien ne peut y être ajouté."


def text(response):
    return html.unescape(response.content.decode())


def url(name, session):
    return reverse(name, args=[session.code])


def start(client, session, *, include_retour, **extra):
    data = {"include_retour": "on"} if include_retour else {}
    return client.post(url("session_start", session), data, **extra)


def move(client, session, from_step, direction="next", **extra):
    data = {"from_step": from_step, "direction": direction}
    return client.post(url("session_move", session), data, **extra)


def assert_redirects_to_sign_in(response):
    assert response.status_code == 302
    assert response.url.startswith(reverse("login") + "?next=")


# Starting


def test_facilitator_starts_with_the_retour_step(login, facilitator, planned_session):
    response = start(login(facilitator), planned_session, include_retour=True)

    assert response.status_code == 302
    assert response.url == url("session_detail", planned_session)
    planned_session.refresh_from_db()
    assert planned_session.status == Session.Status.LIVE
    assert planned_session.step == Step.RETOUR
    assert planned_session.include_retour is True
    assert planned_session.started_at is not None
    assert planned_session.step_started_at == planned_session.started_at


def test_facilitator_starts_straight_at_the_expose_without_retour(
    login, facilitator, planned_session
):
    response = start(login(facilitator), planned_session, include_retour=False)

    assert response.status_code == 302
    planned_session.refresh_from_db()
    assert planned_session.status == Session.Status.LIVE
    assert planned_session.step == Step.EXPOSE
    assert planned_session.include_retour is False


def test_start_with_htmx_answers_nothing_the_broadcast_does_not_bring(
    login, facilitator, planned_session
):
    # The facilitator's screen changes with everyone's, from the broadcast.
    response = start(login(facilitator), planned_session, include_retour=False, headers=HTMX)

    assert response.status_code == 204
    assert response.content == b""
    planned_session.refresh_from_db()
    assert planned_session.step == Step.EXPOSE


def test_starting_a_live_session_again_answers_409(login, facilitator, planned_session):
    client = login(facilitator)
    start(client, planned_session, include_retour=False)
    planned_session.refresh_from_db()
    started = planned_session.started_at, planned_session.version

    response = start(client, planned_session, include_retour=True, headers=HTMX)

    assert response.status_code == 409
    assert CHANGED_STEP in text(response)
    planned_session.refresh_from_db()
    assert (planned_session.started_at, planned_session.version) == started
    assert planned_session.step == Step.EXPOSE


def test_start_without_a_client_is_refused_in_french(login, facilitator, planned_session):
    planned_session.participations.filter(role="client").delete()

    response = start(login(facilitator), planned_session, include_retour=False, headers=HTMX)

    assert response.status_code == 400
    assert "Choisissez d'abord le client de la séance." in text(response)
    planned_session.refresh_from_db()
    assert planned_session.status == Session.Status.PLANNED


@pytest.mark.parametrize("who", ["client_user", "member"])
def test_client_or_consultant_cannot_start_the_session(request, login, planned_session, who):
    response = start(login(request.getfixturevalue(who)), planned_session, include_retour=False)

    assert response.status_code == 403
    planned_session.refresh_from_db()
    assert planned_session.status == Session.Status.PLANNED
    assert planned_session.version == 0


# Moving


def test_facilitator_moves_to_the_next_step(login, facilitator, planned_session):
    go_live(planned_session, Step.EXPOSE)

    response = move(login(facilitator), planned_session, Step.EXPOSE)

    assert response.status_code == 302
    planned_session.refresh_from_db()
    assert planned_session.step == Step.CLARIFICATION


def test_facilitator_moves_back_to_the_previous_step(login, facilitator, planned_session):
    go_live(planned_session, Step.DEMAND)

    response = move(login(facilitator), planned_session, Step.DEMAND, "previous")

    assert response.status_code == 302
    planned_session.refresh_from_db()
    assert planned_session.step == Step.CLARIFICATION


def test_moving_restarts_the_step_clock(login, facilitator, planned_session):
    go_live(planned_session, Step.EXPOSE)
    Session.objects.filter(pk=planned_session.pk).update(
        step_started_at=timezone.now() - dt.timedelta(minutes=20)
    )
    before = timezone.now()

    move(login(facilitator), planned_session, Step.EXPOSE)

    planned_session.refresh_from_db()
    assert planned_session.step_started_at >= before


def test_facilitator_walks_the_six_steps_after_the_retour_in_order(
    login, facilitator, planned_session
):
    client = login(facilitator)
    start(client, planned_session, include_retour=True)
    visited = [Step.RETOUR]

    for _ in range(6):
        move(client, planned_session, visited[-1])
        planned_session.refresh_from_db()
        visited.append(planned_session.step)

    assert visited == [
        Step.RETOUR,
        Step.EXPOSE,
        Step.CLARIFICATION,
        Step.DEMAND,
        Step.CONTRIBUTIONS,
        Step.ACTION_PLAN,
        Step.LEARNINGS,
    ]


def test_htmx_move_answers_204_and_bumps_the_version(login, facilitator, planned_session):
    go_live(planned_session, Step.CLARIFICATION)

    response = move(login(facilitator), planned_session, Step.CLARIFICATION, headers=HTMX)

    assert response.status_code == 204
    assert response.content == b""
    planned_session.refresh_from_db()
    assert (planned_session.step, planned_session.version) == (Step.DEMAND, 1)


@pytest.mark.parametrize("who", ["client_user", "member"])
@pytest.mark.parametrize("direction", ["next", "previous"])
def test_client_or_consultant_cannot_move_the_step(request, login, planned_session, who, direction):
    go_live(planned_session, Step.DEMAND)

    response = move(login(request.getfixturevalue(who)), planned_session, Step.DEMAND, direction)

    assert response.status_code == 403
    planned_session.refresh_from_db()
    assert planned_session.step == Step.DEMAND
    assert planned_session.version == 0


def test_double_click_moves_once_and_the_second_post_answers_409(
    login, facilitator, planned_session
):
    go_live(planned_session, Step.CLARIFICATION)
    client = login(facilitator)

    first = move(client, planned_session, Step.CLARIFICATION, headers=HTMX)
    second = move(client, planned_session, Step.CLARIFICATION, headers=HTMX)

    assert first.status_code == 204
    assert second.status_code == 409
    planned_session.refresh_from_db()
    assert planned_session.step == Step.DEMAND
    assert planned_session.version == 1
    # The 409 is the full state, where the session is now, with a French
    # explanation (static/js/live.js applies it as a full state).
    assert text(second).startswith('<template data-sync data-full data-to="1"></template>')
    assert CHANGED_STEP in text(second)
    assert '<span class="step-number">3</span> Demande' in text(second)


def test_double_click_without_javascript_also_moves_once(login, facilitator, planned_session):
    go_live(planned_session, Step.EXPOSE)
    client = login(facilitator)

    move(client, planned_session, Step.EXPOSE)
    second = move(client, planned_session, Step.EXPOSE)

    assert second.status_code == 409
    assert CHANGED_STEP in text(second)
    planned_session.refresh_from_db()
    assert planned_session.step == Step.CLARIFICATION


def test_second_facilitator_click_on_a_stale_step_loses_to_the_first(facilitator, planned_session):
    # Two screens showed « exposé »; the first click won, the second is stale.
    go_live(planned_session, Step.EXPOSE)
    services.session_move(
        session=planned_session, by=facilitator, from_step=Step.EXPOSE, forward=True
    )
    stale = Session.objects.get(pk=planned_session.pk)
    stale.step = Step.EXPOSE  # what the second screen's copy still believes

    with pytest.raises(services.StepConflict):
        services.session_move(session=stale, by=facilitator, from_step=Step.EXPOSE, forward=True)

    planned_session.refresh_from_db()
    assert planned_session.step == Step.CLARIFICATION
    assert planned_session.version == 1


def test_moving_past_the_last_step_is_refused(login, facilitator, planned_session):
    go_live(planned_session, Step.LEARNINGS)

    response = move(login(facilitator), planned_session, Step.LEARNINGS, headers=HTMX)

    assert response.status_code == 400
    assert "C&#x27;est la dernière étape : il reste à clore la séance." in response.content.decode()
    planned_session.refresh_from_db()
    assert planned_session.step == Step.LEARNINGS
    assert planned_session.status == Session.Status.LIVE
    assert planned_session.version == 0


@pytest.mark.parametrize(("first", "include_retour"), [(Step.EXPOSE, False), (Step.RETOUR, True)])
def test_moving_before_the_first_step_is_refused(
    login, facilitator, planned_session, first, include_retour
):
    go_live(planned_session, first, include_retour=include_retour)

    response = move(login(facilitator), planned_session, first, "previous", headers=HTMX)

    assert response.status_code == 400
    assert "C&#x27;est la première étape." in response.content.decode()
    planned_session.refresh_from_db()
    assert planned_session.step == first
    assert planned_session.version == 0


def test_the_retour_step_is_skipped_going_back_when_not_included(
    login, facilitator, planned_session
):
    go_live(planned_session, Step.EXPOSE, include_retour=False)

    move(login(facilitator), planned_session, Step.EXPOSE, "previous")

    planned_session.refresh_from_db()
    assert planned_session.step == Step.EXPOSE


def test_a_planned_session_cannot_be_moved(login, facilitator, planned_session):
    response = move(login(facilitator), planned_session, "", headers=HTMX)

    assert response.status_code == 409
    planned_session.refresh_from_db()
    assert planned_session.status == Session.Status.PLANNED
    assert planned_session.step == ""


# Extra time


def test_five_more_minutes_adds_to_the_current_step(login, facilitator, planned_session):
    go_live(planned_session, Step.CONTRIBUTIONS)
    client = login(facilitator)

    client.post(url("session_add_time", planned_session))
    client.post(url("session_add_time", planned_session))

    planned_session.refresh_from_db()
    assert planned_session.extra_minutes == 10
    # 35 minutes budgeted for contributions in the 2 h format, plus 10.
    assert planned_session.step_budget_seconds == 45 * 60


def test_extra_minutes_are_shown_in_the_step_timer(login, facilitator, planned_session):
    go_live(planned_session, Step.EXPOSE)

    client = login(facilitator)
    response = client.post(url("session_add_time", planned_session), headers=HTMX)

    assert response.status_code == 204
    planned_session.refresh_from_db()
    ends_at = planned_session.step_started_at + dt.timedelta(minutes=15 + 5)
    page = client.get(url("session_detail", planned_session)).content.decode()
    assert f'data-ends-at="{ends_at.isoformat()}"' in page


@pytest.mark.parametrize("direction", ["next", "previous"])
def test_extra_minutes_reset_on_the_next_step(login, facilitator, planned_session, direction):
    go_live(planned_session, Step.DEMAND)
    client = login(facilitator)
    client.post(url("session_add_time", planned_session))
    planned_session.refresh_from_db()
    assert planned_session.extra_minutes == 5

    move(client, planned_session, Step.DEMAND, direction)

    planned_session.refresh_from_db()
    assert planned_session.step != Step.DEMAND
    assert planned_session.extra_minutes == 0


TIME_CAPPED = (
    "Cette étape a déjà reçu 3 h de plus, le maximum : le minuteur continue en "
    "dépassement, passez à l'étape suivante quand vous voulez."
)


def test_extra_time_stops_at_three_hours_with_a_french_message(login, facilitator, planned_session):
    go_live(planned_session, Step.CONTRIBUTIONS)
    Session.objects.filter(pk=planned_session.pk).update(extra_minutes=175)
    client = login(facilitator)

    assert client.post(url("session_add_time", planned_session), headers=HTMX).status_code == 204
    response = client.post(url("session_add_time", planned_session), headers=HTMX)

    assert response.status_code == 400
    assert TIME_CAPPED in text(response)
    planned_session.refresh_from_db()
    assert planned_session.extra_minutes == 180


def test_extra_time_cap_is_in_the_update_itself(facilitator, planned_session):
    # A click that read the session before another one reached the cap still
    # cannot pass it: the check is the UPDATE's own WHERE, not the instance.
    go_live(planned_session, Step.EXPOSE)
    Session.objects.filter(pk=planned_session.pk).update(extra_minutes=180)
    stale = Session.objects.get(pk=planned_session.pk)
    stale.extra_minutes = 0

    with pytest.raises(ValidationError):
        services.session_add_time(session=stale, by=facilitator)

    planned_session.refresh_from_db()
    assert planned_session.extra_minutes == 180


def test_the_database_refuses_more_extra_time_than_the_cap(planned_session):
    with pytest.raises(IntegrityError), transaction.atomic():
        Session.objects.filter(pk=planned_session.pk).update(extra_minutes=181)


@pytest.mark.parametrize("who", ["client_user", "member"])
def test_client_or_consultant_cannot_add_time(request, login, planned_session, who):
    go_live(planned_session, Step.EXPOSE)

    response = login(request.getfixturevalue(who)).post(url("session_add_time", planned_session))

    assert response.status_code == 403
    planned_session.refresh_from_db()
    assert planned_session.extra_minutes == 0


def test_time_cannot_be_added_before_the_start(login, facilitator, planned_session):
    response = login(facilitator).post(url("session_add_time", planned_session), headers=HTMX)

    assert response.status_code == 400
    assert NOT_LIVE in text(response)
    planned_session.refresh_from_db()
    assert planned_session.extra_minutes == 0


# Closing


def test_facilitator_closes_the_session_at_the_learnings_step(login, facilitator, planned_session):
    go_live(planned_session, Step.LEARNINGS)

    response = login(facilitator).post(url("session_close", planned_session))

    assert response.status_code == 302
    assert response.url == url("session_detail", planned_session)
    planned_session.refresh_from_db()
    assert planned_session.status == Session.Status.CLOSED
    assert planned_session.closed_at is not None


@pytest.mark.parametrize(
    "step",
    [
        Step.RETOUR,
        Step.EXPOSE,
        Step.CLARIFICATION,
        Step.DEMAND,
        Step.CONTRIBUTIONS,
        Step.ACTION_PLAN,
    ],
)
def test_closing_before_the_learnings_step_is_refused_in_french(
    login, facilitator, planned_session, step
):
    go_live(planned_session, step, include_retour=True)

    response = login(facilitator).post(url("session_close", planned_session), headers=HTMX)

    assert response.status_code == 400
    assert "cela se fait à l'étape Apprentissages" in text(response)
    planned_session.refresh_from_db()
    assert planned_session.status == Session.Status.LIVE
    assert planned_session.version == 0


@pytest.mark.parametrize("who", ["client_user", "member"])
def test_client_or_consultant_cannot_close_the_session(request, login, planned_session, who):
    go_live(planned_session, Step.LEARNINGS)

    response = login(request.getfixturevalue(who)).post(url("session_close", planned_session))

    assert response.status_code == 403
    planned_session.refresh_from_db()
    assert planned_session.status == Session.Status.LIVE


def test_closing_clears_the_speaking_queue(login, facilitator, member, planned_session):
    go_live(planned_session, Step.LEARNINGS)
    HandRaise.objects.create(session=planned_session, author=member)

    login(facilitator).post(url("session_close", planned_session))

    assert not HandRaise.objects.filter(session=planned_session).exists()


def test_closed_session_page_shows_the_summary(login, facilitator, member, planned_session):
    go_live(planned_session, Step.LEARNINGS)
    Learning.objects.create(session=planned_session, author=member, text="Écouter avant tout")
    client = login(facilitator)
    client.post(url("session_close", planned_session))

    response = login(member).get(url("session_detail", planned_session))

    assert response.status_code == 200
    assert [t.name for t in response.templates][0] == "sessions/summary.html"
    content = text(response)
    assert "Écouter avant tout" in content
    assert "terminée" in content
    # Read-only: no live regions, no form to add anything.
    assert 'id="live-board"' not in content
    assert 'id="live-composer"' not in content
    assert url("learning_post", planned_session) not in content


@pytest.mark.parametrize(
    ("name", "who", "data"),
    [
        ("learning_post", "member", {"text": "Trop tard"}),
        ("feedback_post", "member", {"rating": "4"}),
        ("question_post", "member", {"kind": "fact", "text": "Trop tard"}),
        ("contribution_post", "member", {"kind": "suggestion", "text": "Trop tard"}),
        ("action_add", "client_user", {"text": "Trop tard"}),
        ("demand_save", "client_user", {"text": "Trop tard"}),
        ("expose_save", "client_user", {"title": "Trop tard"}),
        ("hand_toggle", "member", {}),
        ("session_add_time", "facilitator", {}),
    ],
)
@pytest.mark.parametrize("headers", [HTMX, {}], ids=["htmx", "no-js"])
def test_closed_session_refuses_additions_in_french(
    request, login, facilitator, planned_session, name, who, data, headers
):
    go_live(planned_session, Step.LEARNINGS)
    login(facilitator).post(url("session_close", planned_session))
    planned_session.refresh_from_db()
    closed_version = planned_session.version

    response = login(request.getfixturevalue(who)).post(
        url(name, planned_session), data, headers=headers
    )

    assert response.status_code == 400
    assert NOT_LIVE in text(response)
    planned_session.refresh_from_db()
    assert planned_session.version == closed_version
    assert planned_session.status == Session.Status.CLOSED
    assert not planned_session.learnings.exists()
    assert not planned_session.feedbacks.exists()
    assert not planned_session.handraises.exists()
    assert planned_session.extra_minutes == 0


def test_closed_session_cannot_be_moved_or_closed_again(login, facilitator, planned_session):
    go_live(planned_session, Step.LEARNINGS)
    client = login(facilitator)
    client.post(url("session_close", planned_session))

    assert move(client, planned_session, Step.LEARNINGS, "previous").status_code == 409
    assert client.post(url("session_close", planned_session)).status_code == 400
    planned_session.refresh_from_db()
    assert planned_session.status == Session.Status.CLOSED
    assert planned_session.step == Step.LEARNINGS


# The version every region carries


def test_every_successful_write_bumps_the_version(login, facilitator, planned_session):
    client = login(facilitator)
    versions = []

    def record():
        planned_session.refresh_from_db()
        versions.append(planned_session.version)

    start(client, planned_session, include_retour=True)
    record()
    move(client, planned_session, Step.RETOUR)
    record()
    client.post(url("session_add_time", planned_session))
    record()
    move(client, planned_session, Step.EXPOSE, "previous")
    record()
    for step in [Step.RETOUR, Step.EXPOSE, Step.CLARIFICATION, Step.DEMAND]:
        move(client, planned_session, step)
    record()
    for step in [Step.CONTRIBUTIONS, Step.ACTION_PLAN]:
        move(client, planned_session, step)
    record()
    client.post(url("session_close", planned_session))
    record()

    assert versions == [1, 2, 3, 4, 8, 10, 11]


def test_refused_writes_leave_the_version_alone(login, facilitator, member, planned_session):
    go_live(planned_session, Step.EXPOSE)

    move(login(member), planned_session, Step.EXPOSE)  # 403
    move(login(facilitator), planned_session, Step.DEMAND)  # 409, stale
    login(facilitator).post(url("session_close", planned_session))  # 400, wrong step

    planned_session.refresh_from_db()
    assert planned_session.version == 0
    assert planned_session.step == Step.EXPOSE


# Who sees the page and its controls


def test_facilitator_sees_the_controls_and_others_do_not(
    login, facilitator, client_user, member, planned_session
):
    go_live(planned_session, Step.CLARIFICATION)

    for user, sees_controls in [(facilitator, True), (client_user, False), (member, False)]:
        content = text(login(user).get(url("session_detail", planned_session)))
        assert ("Étape suivante" in content) is sees_controls, user
        assert ("Clore la séance" in content) is False, user
        assert ("+5 min" in content) is sees_controls, user


def test_facilitator_sees_the_close_button_at_the_learnings_step(
    login, facilitator, planned_session
):
    go_live(planned_session, Step.LEARNINGS)

    content = text(login(facilitator).get(url("session_detail", planned_session)))

    assert "Clore la séance" in content
    assert "Étape suivante" not in content


STEP_POSTS = ["session_start", "session_move", "session_add_time", "session_close"]


def test_stranger_gets_404_on_the_live_page(login, outsider, planned_session):
    go_live(planned_session, Step.EXPOSE)

    response = login(outsider).get(url("session_detail", planned_session))

    assert response.status_code == 404
    assert "Groupe test" not in text(response)


@pytest.mark.parametrize("name", STEP_POSTS)
def test_stranger_gets_404_on_each_step_post(login, outsider, planned_session, name):
    go_live(planned_session, Step.LEARNINGS)
    data = {"from_step": Step.LEARNINGS, "direction": "previous", "include_retour": "on"}

    response = login(outsider).post(url(name, planned_session), data)

    assert response.status_code == 404
    planned_session.refresh_from_db()
    assert planned_session.step == Step.LEARNINGS
    assert planned_session.status == Session.Status.LIVE
    assert planned_session.version == 0


def test_stranger_cannot_start_a_planned_session(login, outsider, planned_session):
    response = start(login(outsider), planned_session, include_retour=False)

    assert response.status_code == 404
    planned_session.refresh_from_db()
    assert planned_session.status == Session.Status.PLANNED


def test_anonymous_is_sent_to_sign_in_from_the_live_page(client, planned_session):
    go_live(planned_session, Step.EXPOSE)

    assert_redirects_to_sign_in(client.get(url("session_detail", planned_session)))


@pytest.mark.parametrize("name", STEP_POSTS)
def test_anonymous_step_post_is_sent_to_sign_in(client, planned_session, name):
    go_live(planned_session, Step.EXPOSE)

    response = client.post(url(name, planned_session), {"from_step": Step.EXPOSE})

    assert_redirects_to_sign_in(response)
    planned_session.refresh_from_db()
    assert planned_session.step == Step.EXPOSE
    assert planned_session.version == 0


@pytest.mark.parametrize("name", STEP_POSTS)
def test_step_posts_refuse_get(login, facilitator, planned_session, name):
    assert login(facilitator).get(url(name, planned_session)).status_code == 405
