"""No date, typed or already stored, can break a page for the others.

The planning form takes a date from now to MAX_PLANNING_AHEAD (an action's due
date: 2000 to the same horizon), with a French message that keeps what was
typed. Rows stored before the bounds, or by hand, with dates at the ends of the
calendar (year 1, 31 December 9999 at 23:59 UTC, which is already year 10000
in Paris) still show on every page, feed, export and reminder run.
"""

import datetime as dt
import html
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command
from django.urls import reverse

from groups.models import CalendarFeed, User
from sessions.models import ActionItem, Session
from sessions.steps import Step
from tests.conftest import go_live

UTC = dt.UTC
NOW = dt.datetime(2026, 12, 2, 10, tzinfo=UTC)

EXTREMES = {
    "end of year 9999": dt.datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
    "31 December 9999 in Paris": dt.datetime(9999, 12, 31, 22, 59, tzinfo=UTC),
    "year 1": dt.datetime(1, 1, 1, tzinfo=UTC),
}


@pytest.fixture(autouse=True)
def fixed_clock():
    with time_machine.travel(NOW, tick=False):
        yield


def store(session, when, **fields):
    # As a row written before the bounds existed: no form, no save().
    Session.objects.filter(pk=session.pk).update(scheduled_at=when, **fields)
    session.refresh_from_db()
    return session


def pages_of(session, feed):
    group = session.group
    return [
        reverse("home"),
        reverse("group_detail", args=[group.code]),
        reverse("session_plan", args=[group.code]),
        reverse("group_history", args=[group.code]),
        reverse("session_detail", args=[session.code]),
        reverse("logbook"),
        reverse("logbook_markdown"),
        reverse("account_data_json"),
        reverse("account_data_markdown"),
        reverse("calendar_feed", args=[feed.token]),
    ]


@pytest.mark.parametrize("when", EXTREMES.values(), ids=EXTREMES)
@pytest.mark.parametrize("status", ["planned", "live", "closed"])
def test_a_stored_extreme_date_breaks_no_page(login, client_user, planned_session, when, status):
    if status == "live":
        go_live(planned_session, Step.ACTION_PLAN)
    ActionItem.objects.create(session=planned_session, author=client_user, text="Appeler")
    if status == "closed":
        go_live(planned_session, Step.LEARNINGS)
        Session.objects.filter(pk=planned_session.pk).update(status=Session.Status.CLOSED)
    # The longest format a custom split can make, the longest the field holds.
    session = store(planned_session, when, format_minutes=32767)
    feed = CalendarFeed.objects.create(user=client_user)
    client = login(client_user)

    pages = pages_of(session, feed)
    if status == "closed":
        pages += [
            reverse("session_report", args=[session.code]),
            reverse("session_report_markdown", args=[session.code]),
        ]
    for page in pages:
        assert client.get(page).status_code == 200, page


@pytest.mark.parametrize("when", EXTREMES.values(), ids=EXTREMES)
def test_a_stored_extreme_date_breaks_no_reminder_run(planned_session, when):
    store(planned_session, when)

    for days in (1, 3, 30):
        call_command("send_reminders", days=days, dry_run=True, stdout=StringIO())


def test_a_huge_reminder_window_is_refused_not_a_crash(db):
    with pytest.raises(Exception, match="--days"):
        call_command("send_reminders", days=10**9, dry_run=True, stdout=StringIO())


# What a person types


def text(response):
    return html.unescape(response.content.decode())


def plan(client, group, scheduled_at):
    data = {"scheduled_at": scheduled_at, "place": "Salle 7", "format_minutes": 120}
    return client.post(reverse("session_plan", args=[group.code]), data)


TOO_LATE = "Choisissez une date dans les cinq ans qui viennent, le 1 décembre 2031 au plus tard."


@pytest.mark.parametrize("typed", ["9999-12-31T23:59", "2031-12-02T09:00", "3000-01-01T18:00"])
def test_a_date_past_five_years_is_refused_in_french_and_kept(login, member, group, typed):
    response = plan(login(member), group, typed)

    assert response.status_code == 400
    assert TOO_LATE in text(response)
    assert f'value="{typed}"' in text(response)
    assert not Session.objects.exists()


def test_the_last_day_within_five_years_is_accepted(login, member, group):
    response = plan(login(member), group, "2031-12-01T18:00")

    assert response.status_code == 302
    assert Session.objects.get().scheduled_at.year == 2031


@pytest.mark.parametrize("typed", ["0001-01-01T00:00", "1999-12-31T18:00"])
def test_a_date_before_2000_is_refused_in_french(login, member, group, typed):
    response = plan(login(member), group, typed)

    assert response.status_code == 400
    assert "Choisissez une date" in text(response)
    assert not Session.objects.exists()


def test_the_plan_page_still_proposes_the_next_meeting_after_a_far_stored_session(
    login, member, planned_session
):
    store(planned_session, EXTREMES["end of year 9999"])

    response = login(member).get(reverse("session_plan", args=[planned_session.group.code]))

    # The group meets on the 2nd Tuesday at 18:00 (its default cadence): the
    # session stored in year 9999 is not followed, today is.
    assert response.status_code == 200
    assert 'value="2026-12-08T18:00"' in text(response)


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("9999-12-31", TOO_LATE),
        ("1970-01-01", "Choisissez une date à partir du 1 janvier 2000."),
    ],
)
def test_an_action_due_date_out_of_bounds_is_refused_in_french(
    login, client_user, planned_session, typed, message
):
    go_live(planned_session, Step.ACTION_PLAN)

    response = login(client_user).post(
        reverse("action_add", args=[planned_session.code]),
        {"text": "Appeler Paul", "due_date": typed},
        headers={"HX-Request": "true"},
    )

    assert response.status_code == 400
    assert message in text(response)
    assert "Appeler Paul" in text(response)
    assert not ActionItem.objects.exists()


@pytest.mark.parametrize("due", [dt.date.max, dt.date.min])
def test_a_stored_extreme_due_date_breaks_no_page(login, client_user, planned_session, due):
    go_live(planned_session, Step.ACTION_PLAN)
    ActionItem.objects.create(
        session=planned_session, author=client_user, text="Un jour", due_date=due
    )
    client = login(client_user)

    for page in pages_of(planned_session, CalendarFeed.objects.create(user=client_user)):
        assert client.get(page).status_code == 200, page
    call_command("send_reminders", days=1, dry_run=True, stdout=StringIO())


@pytest.mark.parametrize("when", EXTREMES.values(), ids=EXTREMES)
def test_a_stored_extreme_date_breaks_no_admin_page(client, facilitator, planned_session, when):
    store(planned_session, when)
    User.objects.filter(pk=facilitator.pk).update(is_staff=True, is_superuser=True)
    client.force_login(facilitator)
    changelist = reverse("admin:codev_sessions_session_changelist")

    for page in [
        changelist,
        changelist + "?status=planned",
        reverse("admin:codev_sessions_session_change", args=[planned_session.pk]),
    ]:
        assert client.get(page).status_code == 200, page
