"""A group's history: the sessions it held, who has been client, the topics
waiting, and how the sessions were rated over time.

A fixed number of queries however many sessions the group held: the ratings
are an annotation and the clients one prefetch.
"""

import dataclasses
import datetime as dt
import math

from django.contrib.auth.decorators import login_required
from django.db.models import Avg, Count, Exists, OuterRef, Prefetch
from django.shortcuts import render
from django.views.decorators.http import require_GET

from groups.access import get_group_for
from groups.models import Membership, Topic
from sessions.access import joined_in_time
from sessions.models import Participation, Session

# The chart's own units (its viewBox); the page scales it to the screen.
# Integers, because the template would write a float the French way ("12,5")
# and break the SVG.
# Small enough that its 14-unit text stays readable on a 360 px phone.
CHART_WIDTH = 360
CHART_HEIGHT = 200
CHART_LEFT = 36  # room for the 1–5 labels, and half of the first date
CHART_RIGHT = 34  # half of the last date, centred under its point
CHART_TOP = 14
CHART_BOTTOM = 34  # room for the dates
# Beyond this many, only every n-th date is written under the axis (the last
# one always), so that they never overlap; every point keeps its own <title>.
CHART_MAX_DATE_LABELS = 5
RATINGS = range(1, 6)


@dataclasses.dataclass(frozen=True)
class ChartPoint:
    session: Session
    x: int
    y: int
    labelled: bool


@dataclasses.dataclass(frozen=True)
class RatingChart:
    points: list[ChartPoint]
    ticks: list[tuple[int, int]]  # (rating, y)
    width: int = CHART_WIDTH
    height: int = CHART_HEIGHT
    left: int = CHART_LEFT
    right: int = CHART_WIDTH - CHART_RIGHT
    bottom: int = CHART_HEIGHT - CHART_BOTTOM

    @property
    def polyline(self) -> str:
        return " ".join(f"{p.x},{p.y}" for p in self.points)


def _rating_y(rating: float) -> int:
    plot_height = CHART_HEIGHT - CHART_TOP - CHART_BOTTOM
    return round(CHART_TOP + (5 - rating) / 4 * plot_height)


def rating_chart(sessions: list[Session]) -> RatingChart | None:
    """One point per rated session, oldest first, evenly spaced; None under two.

    `sessions` carry a `feedback_average` annotation. Sessions nobody rated
    have no point: the line joins the rated ones.
    """
    rated = [s for s in sessions if s.feedback_average is not None]
    if len(rated) < 2:
        return None
    plot_width = CHART_WIDTH - CHART_LEFT - CHART_RIGHT
    spacing = plot_width / (len(rated) - 1)
    every = math.ceil(len(rated) / CHART_MAX_DATE_LABELS)
    last = len(rated) - 1
    points = [
        ChartPoint(
            session=session,
            x=round(CHART_LEFT + index * spacing),
            y=_rating_y(session.feedback_average),
            labelled=(last - index) % every == 0,
        )
        for index, session in enumerate(rated)
    ]
    return RatingChart(points=points, ticks=[(r, _rating_y(r)) for r in RATINGS])


@dataclasses.dataclass
class ClientTurns:
    user: object
    dates: list[dt.datetime]
    is_member: bool


def client_turns(sessions: list[Session], memberships: list[Membership]) -> list[ClientTurns]:
    """Each member with the dates they were client, in the order of the rotation.

    Those never client first, then from the longest ago to the most recent: the
    top of the list is who could bring a topic next. Someone who was client and
    has since left the group is listed too.
    """
    dates = {}
    for session in sessions:
        for participation in session.clients:
            dates.setdefault(participation.user, []).append(session.scheduled_at)
    turns = [
        ClientTurns(user=m.user, dates=dates.pop(m.user, []), is_member=True)
        for m in memberships
        if m.role == Membership.Role.MEMBER or m.user in dates
    ]
    turns += [ClientTurns(user=user, dates=when, is_member=False) for user, when in dates.items()]
    return sorted(turns, key=lambda t: (bool(t.dates), t.dates[-1:], t.user.full_name))


@login_required
@require_GET
def group_history(request, code):
    group, membership = get_group_for(request, code)
    clients = Prefetch(
        "participations",
        queryset=Participation.objects.filter(role=Participation.Role.CLIENT).select_related(
            "user"
        ),
        to_attr="clients",
    )
    sessions = list(
        group.sessions.filter(status=Session.Status.CLOSED)
        .annotate(
            feedback_average=Avg("feedbacks__rating"),
            feedback_count=Count("feedbacks"),
            took_part=Exists(
                Participation.objects.filter(session=OuterRef("pk"), user=request.user)
            ),
        )
        .prefetch_related(clients)
        .order_by("scheduled_at", "pk")
    )
    # A session held before the reader joined shows that it happened (date,
    # client, rating), not a link to what was said (access.was_there).
    for session in sessions:
        session.was_there = session.took_part or joined_in_time(session, membership.joined_at)
    memberships = list(group.memberships.select_related("user"))
    rated = [s for s in sessions if s.feedback_average is not None]
    # The feedback over each cycle: its own curve (docs/decisions.md, cycles).
    by_cycle = {}
    for session in sessions:
        by_cycle.setdefault(session.cycle_id, []).append(session)
    cycle_charts = [
        (cycle, rating_chart(by_cycle.get(cycle.pk, [])), f"cycle-{cycle.number}")
        for cycle in group.cycles.order_by("-number")
    ]
    context = {
        "group": group,
        "cycle_charts": cycle_charts,
        "sessions": sessions[::-1],
        "chart": rating_chart(sessions),
        "rated": rated,
        "client_turns": client_turns(sessions, memberships),
        "open_topics": list(
            group.topics.filter(status=Topic.Status.OPEN).select_related("proposed_by")
        ),
    }
    return render(request, "sessions/group_history.html", context)
