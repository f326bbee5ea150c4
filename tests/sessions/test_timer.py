"""The gentle timer (issue 12, part 4): per session, the countdown shows on
every screen (as before), on the facilitator's only, or nowhere; the others
read the step's budget, « environ 15 min », and never an overrun. Chosen when
planning, changeable live by the facilitator.
"""

import datetime as dt
import html

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from sessions import services
from sessions.models import Session
from sessions.roles import CLIENT, CONSULTANT, FACILITATOR, ROOM
from sessions.state import load_state, render_regions
from sessions.steps import Step
from tests.conftest import go_live
from tests.sessions.test_plan import future as later
from tests.sessions.test_plan import local_input, plan_data, plan_url

NOON = dt.datetime(2031, 3, 4, 12, 0, tzinfo=dt.UTC)


def header(session, audience):
    return html.unescape(render_regions(load_state(session.pk), audience, regions=("header",)))


def counts_down(session, audience):
    return "data-countdown" in header(session, audience)


@pytest.mark.parametrize(
    ("timer", "who_counts"),
    [
        (Session.Timer.EVERYONE, {FACILITATOR, CLIENT, CONSULTANT, ROOM}),
        (Session.Timer.FACILITATOR, {FACILITATOR}),
        (Session.Timer.NOWHERE, set()),
    ],
)
def test_who_sees_the_countdown(planned_session, timer, who_counts):
    Session.objects.filter(pk=planned_session.pk).update(timer=timer)
    session = go_live(planned_session, Step.CONTRIBUTIONS)

    for audience in (FACILITATOR, CLIENT, CONSULTANT, ROOM):
        shown = header(session, audience)
        assert ("data-countdown" in shown) is (audience in who_counts), audience
        if audience not in who_counts:
            # The step's budget, in words: 35 minutes at the contributions of a 2 h session.
            assert '<p class="timer gentle">environ 35 min</p>' in shown


def test_the_budget_in_words_counts_the_minutes_added_and_never_runs_over(
    planned_session, facilitator
):
    Session.objects.filter(pk=planned_session.pk).update(timer=Session.Timer.NOWHERE)
    with time_machine.travel(NOON, tick=False):
        session = go_live(planned_session, Step.DEMAND)
        services.session_add_time(session=session, by=facilitator)
    # Long after the step's end: still the budget, no « dépassé », no minus.
    with time_machine.travel(NOON + dt.timedelta(hours=3), tick=False):
        shown = header(session, CLIENT)
    assert "environ 15 min" in shown
    assert "overrun" not in shown and "-" not in shown.split("timer gentle", 1)[1][:40]


def test_the_facilitator_changes_it_live_and_every_header_follows(
    planned_session, facilitator, django_capture_on_commit_callbacks, monkeypatch
):
    session = go_live(planned_session, Step.EXPOSE)
    published = []
    monkeypatch.setattr(services.broadcast, "publish_delta", published.append)

    with django_capture_on_commit_callbacks(execute=True):
        services.session_set_timer(session=session, by=facilitator, timer="facilitator")

    assert Session.objects.get(pk=session.pk).timer == "facilitator"
    sent = published[0].render()["fr"]
    assert "data-countdown" in sent[FACILITATOR]
    assert "data-countdown" not in sent[CLIENT] and "environ 15 min" in sent[CLIENT]
    assert 'id="live-header"' in sent[CONSULTANT] and 'id="live-board"' not in sent[CONSULTANT]


@pytest.mark.parametrize("who", ["client_user", "member"])
def test_only_the_facilitator_changes_it(request, planned_session, who):
    session = go_live(planned_session, Step.EXPOSE)
    with pytest.raises(PermissionDenied):
        services.session_set_timer(
            session=session, by=request.getfixturevalue(who), timer="nowhere"
        )
    assert Session.objects.get(pk=session.pk).timer == Session.Timer.EVERYONE


def test_before_the_start_it_is_chosen_when_planning(planned_session, facilitator):
    with pytest.raises(ValidationError, match="pas en cours"):
        services.session_set_timer(session=planned_session, by=facilitator, timer="nowhere")


def test_an_unknown_choice_is_refused_in_french(login, planned_session, facilitator):
    session = go_live(planned_session, Step.EXPOSE)
    response = login(facilitator).post(
        reverse("session_timer", args=[session.code]), {"timer": "bientôt"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 400
    assert "Sélectionnez un choix valide" in html.unescape(response.content.decode())
    assert Session.objects.get(pk=session.pk).timer == Session.Timer.EVERYONE


def test_the_plan_form_sets_it_and_leaves_it_to_everyone_by_default(login, member, group):
    client = login(member)
    client.post(plan_url(group), plan_data(scheduled_at=local_input(later(days=25))))
    client.post(
        plan_url(group), plan_data(scheduled_at=local_input(later(days=60)), timer="facilitator")
    )

    timers = list(
        Session.objects.filter(group=group).order_by("scheduled_at").values_list("timer", flat=True)
    )
    assert timers == ["everyone", "facilitator"]
    page = html.unescape(client.get(plan_url(group)).content.decode())
    assert "sur l'écran de l'animateur seulement" in page
