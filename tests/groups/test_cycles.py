"""The codev cycle: starting it, the launch session's charter, who is next,
the review and the decision; who may do what (lead, member, stranger,
anonymous); query counts that do not grow with sessions and cycles."""

import datetime as dt
import html
import io
import math
import re

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from groups import cycles
from groups.models import CharterAdoption, Cycle, Membership, Topic
from sessions import services
from sessions.models import CycleReview, Feedback, Participation, Session

pytestmark = pytest.mark.django_db


def text(response):
    """What a person reads: the page without its tags."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", response.content.decode())).split())


def start_data(group, count=5, **overrides):
    launch = timezone.localtime(timezone.now() + dt.timedelta(days=7)).replace(
        hour=18, minute=0, second=0, microsecond=0
    )
    data = {
        "planned_sessions": count,
        "facilitation": Cycle.Facilitation.ANIMATEUR,
        "launch_at": launch.strftime("%Y-%m-%dT%H:%M"),
        "launch_place": "Salle 4",
    }
    for index in range(1, count + 1):
        data[f"date_{index}"] = (launch + dt.timedelta(days=30 * index)).strftime("%Y-%m-%dT%H:%M")
    data.update(overrides)
    return data


def make_cycle(group, by, count=5, **fields):
    # Whole minutes, as the reminders' window counts them.
    launch = (timezone.now() + dt.timedelta(days=7)).replace(second=0, microsecond=0)
    return cycles.cycle_start(
        group=group,
        by=by,
        planned_sessions=count,
        facilitation=fields.pop("facilitation", Cycle.Facilitation.ANIMATEUR),
        repeat_clients=fields.pop("repeat_clients", False),
        launch_at=launch,
        launch_place="",
        session_dates=[launch + dt.timedelta(days=30 * i) for i in range(1, count + 1)],
    )


def hold(session, client, facilitator, rating=None):
    Participation.objects.create(session=session, user=facilitator, role="facilitator")
    Participation.objects.create(session=session, user=client, role="client")
    Session.objects.filter(pk=session.pk).update(
        status=Session.Status.CLOSED, closed_at=session.scheduled_at
    )
    if rating:
        Feedback.objects.create(session=session, author=facilitator, rating=rating)


# ------------------------------------------------------------ start


def test_the_start_form_proposes_one_session_per_member_on_the_cadence(login, group, facilitator):
    response = login(facilitator).get(reverse("cycle_start", args=[group.code]))
    assert response.status_code == 200
    form = response.context["form"]
    assert form.count == 5  # five members, the animateur not counted
    starts = [form[f"date_{i}"].initial for i in range(1, 6)]
    assert all(starts)
    # On the group's cadence, after the launch, one a month.
    assert all(cycles.cadence_dates(group, 1, s - dt.timedelta(minutes=1))[0] == s for s in starts)
    assert starts == sorted(starts)


def test_starting_a_cycle_plans_its_sessions_and_opens_the_launch(login, group, facilitator):
    response = login(facilitator).post(reverse("cycle_start", args=[group.code]), start_data(group))
    cycle = Cycle.objects.get(group=group)
    assert response.status_code == 302
    assert response.url == reverse("cycle_launch", args=[group.code, cycle.number])
    assert cycle.number == 1 and cycle.planned_sessions == 5
    assert cycle.sessions.count() == 5
    assert set(cycle.sessions.values_list("status", flat=True)) == {Session.Status.PLANNED}


def test_recompute_redraws_the_dates_for_the_count_typed_and_saves_nothing(
    login, group, facilitator
):
    data = start_data(group, count=5)
    data["planned_sessions"] = 7
    data["recompute"] = "1"
    response = login(facilitator).post(reverse("cycle_start", args=[group.code]), data)
    assert response.status_code == 200
    assert response.context["form"].count == 7
    assert not Cycle.objects.exists()


def test_a_session_before_the_launch_is_refused_in_french(login, group, facilitator):
    data = start_data(group)
    data["date_2"] = (timezone.localtime() + dt.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    response = login(facilitator).post(reverse("cycle_start", args=[group.code]), data)
    assert response.status_code == 400
    assert "après la séance de lancement" in text(response)
    assert 'value="Salle 4"' in response.content.decode()  # nothing typed is lost
    assert not Cycle.objects.exists()


@pytest.mark.parametrize("count", ["1", "25", "abc", "-3", "99999999999999999999"])
def test_a_bad_count_is_a_french_error_not_a_500(login, group, facilitator, count):
    data = start_data(group, planned_sessions=count)
    response = login(facilitator).post(reverse("cycle_start", args=[group.code]), data)
    assert response.status_code == 400
    assert not Cycle.objects.exists()


def test_a_second_open_cycle_is_refused(group, facilitator):
    make_cycle(group, facilitator)
    with pytest.raises(ValidationError):
        make_cycle(group, facilitator)


def test_a_session_planned_while_the_cycle_has_room_joins_it(login, group, facilitator):
    cycle = make_cycle(group, facilitator, count=3)
    Session.objects.filter(cycle=cycle).order_by("-scheduled_at").first().delete()
    assert cycles.cycle_with_room(group) == cycle
    Session.objects.create(
        group=group, scheduled_at=timezone.now() + dt.timedelta(days=200), cycle=cycle
    )
    assert cycles.cycle_with_room(group) is None


# ------------------------------------------------------------ who may


@pytest.mark.parametrize(
    "name, method",
    [
        ("cycle_start", "get"),
        ("cycle_launch", "get"),
        ("charter_adopt", "post"),
        ("charter_amend", "post"),
        ("cycle_settle", "post"),
        ("charter_close", "post"),
        ("cycle_review", "get"),
        ("my_cycle_review", "get"),
    ],
)
def test_strangers_get_404_and_anonymous_sign_in(
    client, login, group, facilitator, outsider, name, method
):
    cycle = make_cycle(group, facilitator)
    args = [group.code] if name == "cycle_start" else [group.code, cycle.number]
    url = reverse(name, args=args)
    anonymous = getattr(client, method)(url)
    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous.url
    assert getattr(login(outsider), method)(url).status_code == 404


@pytest.mark.parametrize("name", ["charter_amend", "cycle_settle", "charter_close"])
def test_a_member_cannot_lead_the_launch(login, group, facilitator, member, name):
    cycle = make_cycle(group, facilitator)
    response = login(member).post(reverse(name, args=[group.code, cycle.number]), {})
    assert response.status_code == 403


def test_a_member_cannot_start_a_cycle_in_a_group_with_an_animateur(login, group, member):
    assert login(member).get(reverse("cycle_start", args=[group.code])).status_code == 403


def test_any_member_leads_a_group_without_animateur(login, group, facilitator, member):
    Membership.objects.filter(user=facilitator).update(role=Membership.Role.MEMBER)
    response = login(member).post(reverse("cycle_start", args=[group.code]), start_data(group))
    assert response.status_code == 302


def test_an_unknown_cycle_is_404(login, group, facilitator):
    make_cycle(group, facilitator)
    response = login(facilitator).get(reverse("cycle_launch", args=[group.code, 9]))
    assert response.status_code == 404


# ------------------------------------------------------------ the launch


def test_members_adopt_the_charter_and_the_lead_closes_the_adoption(
    login, client, group, facilitator, member
):
    cycle = make_cycle(group, facilitator)
    url = reverse("charter_adopt", args=[group.code, cycle.number])
    assert login(member).post(url).status_code == 302
    assert login(member).post(url).status_code == 302  # twice: once
    assert CharterAdoption.objects.filter(cycle=cycle).count() == 1
    page = login(facilitator).get(reverse("cycle_launch", args=[group.code, cycle.number]))
    assert "a adopté la charte" in text(page)
    login(facilitator).post(reverse("charter_close", args=[group.code, cycle.number]))
    cycle.refresh_from_db()
    assert cycle.charter_adopted_at is not None


def test_an_amended_charter_is_adopted_again(login, group, facilitator, member):
    cycle = make_cycle(group, facilitator)
    login(member).post(reverse("charter_adopt", args=[group.code, cycle.number]))
    response = login(facilitator).post(
        reverse("charter_amend", args=[group.code, cycle.number]),
        {"charter": "Confidentialité. <b>Bienveillance</b>."},
    )
    assert response.status_code == 302
    assert not cycle.adoptions.exists()
    page = login(member).get(reverse("cycle_launch", args=[group.code, cycle.number]))
    assert "&lt;b&gt;Bienveillance&lt;/b&gt;" in page.content.decode()


def test_an_empty_charter_is_refused_in_french(login, group, facilitator):
    cycle = make_cycle(group, facilitator)
    response = login(facilitator).post(
        reverse("charter_amend", args=[group.code, cycle.number]), {"charter": "  "}
    )
    assert response.status_code == 400
    assert "La charte ne peut pas être vide." in text(response)


def test_the_settings_set_the_format_of_the_cycles_planned_sessions(login, group, facilitator):
    cycle = make_cycle(group, facilitator)
    response = login(facilitator).post(
        reverse("cycle_settle", args=[group.code, cycle.number]),
        {"default_format": 90, "facilitation": "rotating", "repeat_clients": "on"},
    )
    assert response.status_code == 302
    cycle.refresh_from_db()
    assert cycle.facilitation == "rotating" and cycle.repeat_clients
    assert set(cycle.sessions.values_list("format_minutes", flat=True)) == {90}


# ------------------------------------------------------------ who is next


def test_the_group_page_shows_the_cycle_and_proposes_the_next_client(
    login, group, facilitator, client_user, consultants
):
    cycle = make_cycle(group, facilitator)
    first = cycle.sessions.order_by("scheduled_at").first()
    hold(first, client_user, facilitator)
    Topic.objects.create(group=group, proposed_by=consultants[2], title="Un <em>sujet</em>")
    page = login(consultants[0]).get(reverse("group_detail", args=[group.code]))
    body = text(page)
    assert "Cycle 1 · 1 séance tenue sur 5" in body
    assert "Prochain client proposé : David Trois" in body
    assert "&lt;em&gt;" in page.content.decode()
    view = page.context["cycle_view"]
    assert [t.user for t in view.waiting] == [consultants[0], consultants[1], *consultants[2:]]


def test_a_member_is_client_once_unless_the_group_allows_it(group, facilitator, client_user):
    cycle = make_cycle(group, facilitator)
    first, second = cycle.sessions.order_by("scheduled_at")[:2]
    hold(first, client_user, facilitator)
    with pytest.raises(ValidationError, match="déjà été client"):
        services.session_set_roles(
            session=second,
            by=facilitator,
            facilitator=facilitator,
            client=client_user,
            consultants=[],
        )
    Cycle.objects.filter(pk=cycle.pk).update(repeat_clients=True)
    second.refresh_from_db()
    services.session_set_roles(
        session=second,
        by=facilitator,
        facilitator=facilitator,
        client=client_user,
        consultants=[],
    )


def test_rotating_facilitation_proposes_the_last_client(
    group, facilitator, client_user, consultants
):
    cycle = make_cycle(group, facilitator, facilitation=Cycle.Facilitation.ROTATING)
    hold(cycle.sessions.order_by("scheduled_at").first(), client_user, facilitator)
    memberships = list(group.memberships.select_related("user"))
    view = cycles.overview(cycle, memberships, [])
    assert view.proposed_facilitator == client_user
    assert view.proposed_client == consultants[0]


def test_position_numbers_a_session_by_date(group, facilitator):
    cycle = make_cycle(group, facilitator, count=4)
    third = Session.objects.select_related("cycle").filter(cycle=cycle).order_by("scheduled_at")[2]
    assert cycles.position(third) == (3, 4)


@pytest.mark.parametrize("cycles_count, sessions_count", [(1, 2), (3, 6)])
def test_the_group_page_queries_do_not_grow(
    django_assert_max_num_queries,
    login,
    group,
    facilitator,
    client_user,
    cycles_count,
    sessions_count,
):
    for number in range(cycles_count):
        cycle = make_cycle(group, facilitator, count=sessions_count)
        for session in cycle.sessions.all():
            hold(session, client_user, facilitator)
        if number < cycles_count - 1:
            cycles.cycle_decide(cycle=cycle, decision=Cycle.Decision.SAME)
    browser = login(facilitator)
    with django_assert_max_num_queries(16):
        assert browser.get(reverse("group_detail", args=[group.code])).status_code == 200
    with django_assert_max_num_queries(14):
        assert (
            browser.get(reverse("cycle_review", args=[group.code, cycles_count])).status_code == 200
        )


# ------------------------------------------------------------ the review


def test_the_review_opens_after_the_last_session_and_shares_what_is_shared(
    login, group, facilitator, client_user, consultants
):
    cycle = make_cycle(group, facilitator, count=2)
    first, second = cycle.sessions.order_by("scheduled_at")
    url = reverse("my_cycle_review", args=[group.code, cycle.number])
    data = {
        "learnt": "Écouter avant de conseiller",
        "practice": "Moins de réunions",
        "shared": "Merci à tous <3",
    }
    hold(first, client_user, facilitator, rating=4)
    assert login(consultants[0]).post(url, data).status_code == 400  # not yet
    hold(second, consultants[0], facilitator, rating=5)
    assert login(consultants[0]).post(url, data).status_code == 302
    review = CycleReview.objects.get(cycle=cycle, author=consultants[0])
    assert review.learnt == "Écouter avant de conseiller"
    page = login(consultants[1]).get(reverse("cycle_review", args=[group.code, cycle.number]))
    body = page.content.decode()
    assert "Merci à tous &lt;3" in body
    assert "Écouter avant de conseiller" not in html.unescape(body)  # private
    assert "Moins de réunions" not in html.unescape(body)
    assert page.context["chart"] is not None  # the ratings over the cycle
    carnet = login(consultants[0]).get(reverse("logbook"))
    assert "Écouter avant de conseiller" in text(carnet)


def test_an_empty_review_is_refused_in_french(login, group, facilitator, client_user):
    cycle = make_cycle(group, facilitator, count=2)
    for session in cycle.sessions.all():
        hold(session, client_user, facilitator)
    url = reverse("my_cycle_review", args=[group.code, cycle.number])
    response = login(client_user).post(url, {"learnt": " ", "practice": "", "shared": ""})
    assert response.status_code == 400
    assert "Écrivez au moins une partie" in text(response)


def test_the_decision_ends_the_cycle_and_a_new_one_keeps_the_old_readable(
    login, group, facilitator, client_user, member
):
    cycle = make_cycle(group, facilitator, count=2)
    for session in cycle.sessions.all():
        hold(session, client_user, facilitator)
    url = reverse("cycle_review", args=[group.code, cycle.number])
    assert login(member).post(url, {"decision": "same"}).status_code == 403
    response = login(facilitator).post(url, {"decision": "same"})
    assert response.status_code == 302
    assert response.url == reverse("cycle_start", args=[group.code])
    cycle.refresh_from_db()
    assert cycle.ended_at is not None and cycle.decision == "same"
    second = make_cycle(group, facilitator)
    assert second.number == 2
    assert login(member).get(url).status_code == 200
    page = login(member).get(reverse("group_detail", args=[group.code]))
    assert "Cycle 1" in text(page) and "Cycle 2" in text(page)


def test_a_decision_before_the_last_session_is_refused(login, group, facilitator):
    cycle = make_cycle(group, facilitator, count=2)
    url = reverse("cycle_review", args=[group.code, cycle.number])
    response = login(facilitator).post(url, {"decision": "stop"})
    assert response.status_code == 400
    cycle.refresh_from_db()
    assert cycle.ended_at is None


def test_a_bad_decision_value_is_400(login, group, facilitator, client_user):
    cycle = make_cycle(group, facilitator, count=2)
    for session in cycle.sessions.all():
        hold(session, client_user, facilitator)
    url = reverse("cycle_review", args=[group.code, cycle.number])
    assert login(facilitator).post(url, {"decision": "<x>"}).status_code == 400


# ------------------------------------------------------------ reminders and calendar


def test_the_reminder_names_the_number_in_the_cycle_and_asks_the_next_client_to_prepare(
    group, facilitator, client_user, consultants, mailoutbox
):
    from django.core.management import call_command

    cycle = make_cycle(group, facilitator, count=3)
    first, second, _third = cycle.sessions.order_by("scheduled_at")
    hold(first, client_user, facilitator)
    days = math.ceil((second.scheduled_at - timezone.now()) / dt.timedelta(days=1))
    call_command("send_reminders", "--days", str(days), stdout=io.StringIO())
    by_person = {mail.to[0]: mail for mail in mailoutbox}
    assert len(by_person) == 6
    mail = by_person[consultants[0].email]
    assert "(séance 2 sur 3)" in mail.subject
    assert "séance 2 sur 3 du cycle 1" in mail.body
    assert "préparez votre sujet" in mail.body  # Bruno, first by name, is proposed
    assert "titre" in mail.body
    assert "préparez votre sujet" not in by_person[consultants[1].email].body


def test_the_calendar_carries_the_cycle_and_its_launch(client, group, facilitator):
    from icalendar import Calendar

    from groups.models import CalendarFeed

    make_cycle(group, facilitator, count=3)
    feed = CalendarFeed.objects.create(user=facilitator)
    response = client.get(reverse("calendar_feed", args=[feed.token]))
    summaries = [
        str(event["summary"]) for event in Calendar.from_ical(response.content).walk("VEVENT")
    ]
    assert "Séance de lancement du cycle 1 — Groupe test" in summaries
    assert "Codéveloppement — Groupe test (séance 3 sur 3)" in summaries
    assert len(summaries) == 4


@pytest.mark.parametrize("name", ["cycle_review", "my_cycle_review"])
def test_an_empty_post_is_a_french_refusal_not_a_500(login, group, facilitator, name):
    cycle = make_cycle(group, facilitator, count=2)
    response = login(facilitator).post(reverse(name, args=[group.code, cycle.number]), {})
    assert response.status_code == 400
    assert "toutes les séances du cycle" in text(response)
