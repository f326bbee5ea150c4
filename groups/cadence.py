"""Monthly cadence: « 2e mardi du mois, 18 h » and the next date it gives."""

import calendar
import datetime as dt

LAST_WEEK = 5


def nth_weekday(year: int, month: int, week: int, weekday: int) -> dt.date:
    """The `week`-th `weekday` (0 = Monday) of a month; week LAST_WEEK is the last one."""
    days = [
        day
        for day in calendar.Calendar().itermonthdates(year, month)
        if day.month == month and day.weekday() == weekday
    ]
    return days[-1] if week == LAST_WEEK else days[week - 1]


def next_meeting_date(*, week: int, weekday: int, after: dt.date) -> dt.date:
    """The first date of the cadence strictly after `after`."""
    year, month = after.year, after.month
    while True:
        candidate = nth_weekday(year, month, week, weekday)
        if candidate > after:
            return candidate
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)


def previous_meeting_date(*, week: int, weekday: int, before: dt.date) -> dt.date:
    """The last date of the cadence strictly before `before`."""
    year, month = before.year, before.month
    while True:
        candidate = nth_weekday(year, month, week, weekday)
        if candidate < before:
            return candidate
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
