"""`make run` loads demo data; running it twice adds nothing; it holds on every day.

A newcomer runs `make run` on whatever day it is: the demo must be right on
each of them (it once put two closed sessions on 13 October 2026 when run on
2 December 2026).
"""

import datetime as dt
import io
import zoneinfo

import pytest
import time_machine
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone

from groups import cadence
from groups.models import Group, Membership, Topic
from sessions.models import (
    ActionItem,
    Contribution,
    Feedback,
    Learning,
    PrivateNote,
    Question,
    Session,
)

PARIS = zoneinfo.ZoneInfo("Europe/Paris")


def run():
    call_command("seed_demo", stdout=io.StringIO())


def counts():
    return (
        Group.objects.count(),
        Membership.objects.count(),
        Topic.objects.count(),
        Session.objects.count(),
        ActionItem.objects.count(),
        Feedback.objects.count(),
    )


def assert_demo_holds(now: dt.datetime) -> None:
    """What a newcomer's first run must show, whatever `now` is."""
    group = Group.objects.get(name="Groupe pilote")
    today = timezone.localdate(now)
    sessions = list(group.sessions.order_by("scheduled_at"))
    closed = [s for s in sessions if s.status == Session.Status.CLOSED]
    planned = [s for s in sessions if s.status == Session.Status.PLANNED]
    assert len(closed) == 4 and len(planned) == 3, now
    days = [timezone.localdate(s.scheduled_at) for s in sessions]
    assert len(set(days)) == 7, (now, days)
    for session, day in zip(sessions, days, strict=True):
        # A date of the group's cadence, at its hour.
        assert day == cadence.nth_weekday(
            day.year, day.month, group.cadence_week, group.cadence_weekday
        ), (now, day)
        assert timezone.localtime(session.scheduled_at).time() == group.cadence_time
    # The four last meetings before today, then the three after it.
    assert days[4] == cadence.next_meeting_date(
        week=group.cadence_week, weekday=group.cadence_weekday, after=today
    )
    assert days[3] == cadence.previous_meeting_date(
        week=group.cadence_week, weekday=group.cadence_weekday, before=today
    )
    assert all(day < today for day in days[:4]) and days[4] > today
    # A cycle in progress: 4 of 7 held, one « sans trace », launched before.
    [cycle] = group.cycles.all()
    assert cycle.planned_sessions == 7 and cycle.is_open
    assert [s.cycle_id for s in sessions] == [cycle.pk] * 7
    assert [s.no_trace for s in closed] == [True, False, False, False]
    assert cycle.launch_at < sessions[0].scheduled_at and cycle.charter_adopted_at
    assert cycle.adoptions.count() == 7
    assert planned[0].scheduled_at > now
    first = sessions[0].scheduled_at
    assert all(m.joined_at <= first for m in group.memberships.all())
    for session in closed:
        assert session.started_at == session.scheduled_at
        assert session.scheduled_at < session.closed_at <= now
        for model in (Question, Contribution, ActionItem, Learning, Feedback, PrivateNote):
            for written in model.objects.filter(session=session).values_list(
                "created_at", flat=True
            ):
                assert session.scheduled_at <= written <= session.closed_at, (now, model)
    told = closed[-1]
    assert told.scheduled_at < told.demand_validated_at < told.closed_at
    for action in told.actionitems.all():
        if action.progress_at:
            assert told.closed_at <= action.progress_at <= now, now
        if action.is_open:
            assert action.due_date == timezone.localdate(planned[0].scheduled_at)


@pytest.fixture
def demo_people(db):
    """The demo's accounts, made once: each day below then seeds the group alone."""
    run()
    Group.objects.filter(name="Groupe pilote").delete()


def seed_on(moment: dt.datetime) -> None:
    with time_machine.travel(moment, tick=False):
        savepoint = transaction.savepoint()
        try:
            run()
            assert_demo_holds(moment)
        finally:
            transaction.savepoint_rollback(savepoint)


def test_seed_demo_makes_the_pilot_group(db):
    run()

    group = Group.objects.get(name="Groupe pilote")
    assert group.memberships.filter(role="facilitator").count() == 1
    assert group.memberships.filter(role="member").count() == 6
    assert all(m.user.email.endswith("@demo.codev") for m in group.memberships.all())
    assert group.topics.filter(status="open").count() == 3
    assert_demo_holds(timezone.now())


def test_seed_demo_is_idempotent(db):
    run()
    first = counts()
    run()
    assert counts() == first


def test_seed_demo_on_2_december_2026_puts_each_session_on_its_own_date(demo_people):
    seed_on(dt.datetime(2026, 12, 2, 10, tzinfo=PARIS))


def test_seed_demo_holds_on_every_day_of_a_year(demo_people):
    day = dt.date(2027, 1, 1)
    while day.year == 2027:
        seed_on(dt.datetime.combine(day, dt.time(10), tzinfo=PARIS))
        day += dt.timedelta(days=1)


@pytest.mark.parametrize(
    "moment",
    [
        dt.datetime(2028, 2, 29, 12, tzinfo=PARIS),
        dt.datetime(2026, 12, 31, 23, 59, tzinfo=PARIS),
        dt.datetime(2027, 1, 1, 0, 0, tzinfo=PARIS),
        # Daylight saving time starts (02:00 → 03:00) and ends (03:00 → 02:00).
        dt.datetime(2027, 3, 28, 3, 30, tzinfo=PARIS),
        dt.datetime(2027, 10, 31, 2, 30, fold=1, tzinfo=PARIS),
        # A meeting day, before and after the evening's meeting.
        dt.datetime(2026, 12, 8, 9, tzinfo=PARIS),
        dt.datetime(2026, 12, 8, 22, tzinfo=PARIS),
    ],
    ids=str,
)
def test_seed_demo_holds_on_the_days_calendars_get_wrong(demo_people, moment):
    seed_on(moment)
