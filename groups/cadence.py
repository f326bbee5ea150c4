"""Monthly cadence: « 2e mardi du mois, 18 h » and the next date it gives."""

import calendar
import datetime as dt

LAST_WEEK = 5


def nth_weekday(year: int, month: int, week: int, weekday: int) -> dt.date:
    """The `week`-th `weekday` (0 = Monday) of a month; week LAST_WEEK is the last one.

    Worked out from the month alone: calendar's month grids run into the
    neighbouring months' days, which for December 9999 do not exist.
    """
    first_weekday, length = calendar.monthrange(year, month)
    days = range(1 + (weekday - first_weekday) % 7, length + 1, 7)
    return dt.date(year, month, days[-1] if week == LAST_WEEK else days[week - 1])


def next_meeting_date(*, week: int, weekday: int, after: dt.date) -> dt.date | None:
    """The first date of the cadence strictly after `after`; None past year 9999."""
    year, month = after.year, after.month
    while year <= dt.MAXYEAR:
        candidate = nth_weekday(year, month, week, weekday)
        if candidate > after:
            return candidate
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return None


def previous_meeting_date(*, week: int, weekday: int, before: dt.date) -> dt.date | None:
    """The last date of the cadence strictly before `before`; None before year 1."""
    year, month = before.year, before.month
    while year >= dt.MINYEAR:
        candidate = nth_weekday(year, month, week, weekday)
        if candidate < before:
            return candidate
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
    return None
