"""Dates people type, and dates stored: the first are bounded, and every
computation on the second is total.

Python's calendar ends on 31 December 9999: a session planned for that evening
in Paris is already in year 10000 in UTC, and its end, its time in another
zone or the month after it raise OverflowError — a 500 on every page that
shows it, for every member, for good. So:

- what a person types is kept within FIRST_DAY and PLANNING_AHEAD from now,
  with a French message (`validate_planned`, the forms);
- what is read back from the database lies within EARLIEST and LATEST
  (`BoundedDateTimeField`), a few days from the ends of the calendar, so that
  any time zone (±14 h) stays inside it; rows stored before the bounds, or by
  hand, show at the nearest end instead of breaking the page;
- a duration is added with `shift`, which stops at LATEST.
"""

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

EARLIEST = dt.datetime(1, 1, 3, tzinfo=dt.UTC)
LATEST = dt.datetime(9999, 12, 28, tzinfo=dt.UTC)

# A group meets about once a month over years: five years ahead is more than
# any group plans, and 2000 is before any group's history was kept.
PLANNING_AHEAD = dt.timedelta(days=5 * 365)
FIRST_DAY = dt.date(2000, 1, 1)


def clamp(value: dt.datetime) -> dt.datetime:
    return min(max(value, EARLIEST), LATEST)


def shift(value: dt.datetime, delta: dt.timedelta) -> dt.datetime:
    """`value + delta`, within EARLIEST and LATEST whatever either is."""
    try:
        return clamp(clamp(value) + delta)
    except OverflowError:
        return LATEST if delta > dt.timedelta(0) else EARLIEST


def planning_horizon() -> dt.datetime:
    """The latest moment a session may be planned for, from now."""
    return timezone.now() + PLANNING_AHEAD


def validate_day(day: dt.date) -> None:
    """FIRST_DAY to the planning horizon: for a date someone types."""
    last = timezone.localdate(planning_horizon())
    if day < FIRST_DAY:
        raise ValidationError(
            _("Choisissez une date à partir du %(first)s.")
            % {"first": date_format(FIRST_DAY, "DATE_FORMAT")},
            code="too_early",
        )
    if day > last:
        raise ValidationError(
            _("Choisissez une date dans les cinq ans qui viennent, le %(last)s au plus tard.")
            % {"last": date_format(last, "DATE_FORMAT")},
            code="too_late",
        )


def validate_planned(value: dt.datetime) -> None:
    """The bounds of a session's date and time (the form, the admin)."""
    validate_day(timezone.localdate(clamp(value)))


class BoundedDateTimeField(models.DateTimeField):
    """A DateTimeField whose values are read back within EARLIEST and LATEST."""

    def from_db_value(self, value, expression, connection):
        return None if value is None else clamp(value)
