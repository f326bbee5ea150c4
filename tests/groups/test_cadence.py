import datetime as dt

import pytest

from groups.cadence import LAST_WEEK, next_meeting_date, nth_weekday

TUESDAY = 1


@pytest.mark.parametrize(
    ("week", "expected"),
    [(1, dt.date(2026, 12, 1)), (2, dt.date(2026, 12, 8)), (LAST_WEEK, dt.date(2026, 12, 29))],
)
def test_nth_weekday_of_december_2026(week, expected):
    assert nth_weekday(2026, 12, week, TUESDAY) == expected


def test_next_meeting_is_this_month_when_still_ahead():
    assert next_meeting_date(week=2, weekday=TUESDAY, after=dt.date(2026, 11, 2)) == dt.date(
        2026, 11, 10
    )


def test_next_meeting_skips_to_next_month_once_the_day_has_passed():
    assert next_meeting_date(week=2, weekday=TUESDAY, after=dt.date(2026, 11, 10)) == dt.date(
        2026, 12, 8
    )


def test_next_meeting_crosses_the_year():
    assert next_meeting_date(week=2, weekday=TUESDAY, after=dt.date(2026, 12, 20)) == dt.date(
        2027, 1, 12
    )


def test_on_a_meeting_day_the_evening_meeting_is_proposed(settings):
    import zoneinfo

    from groups.models import Group

    group = Group(cadence_week=2, cadence_weekday=TUESDAY, cadence_time=dt.time(18, 0))
    morning = dt.datetime(2026, 11, 10, 10, 0, tzinfo=zoneinfo.ZoneInfo("Europe/Paris"))
    evening = group.next_meeting_start(after=morning)
    assert evening == dt.datetime(2026, 11, 10, 18, 0, tzinfo=zoneinfo.ZoneInfo("Europe/Paris"))
    assert group.next_meeting_start(after=evening).date() == dt.date(2026, 12, 8)


@pytest.mark.parametrize("week", [1, 2, 4, LAST_WEEK])
def test_the_last_month_of_the_calendar_has_its_weekdays(week):
    # December 9999's month grid would run into days of year 10000.
    day = nth_weekday(9999, 12, week, TUESDAY)

    assert (day.year, day.month, day.weekday()) == (9999, 12, TUESDAY)


def test_no_meeting_after_the_end_of_the_calendar():
    assert next_meeting_date(week=2, weekday=TUESDAY, after=dt.date(9999, 12, 20)) is None
    assert next_meeting_date(week=2, weekday=TUESDAY, after=dt.date.max) is None
