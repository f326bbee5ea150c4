from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET
from icalendar import Calendar, Event

from groups.models import CalendarFeed, Cycle
from sessions.models import Session


@require_GET
def calendar_feed(request, token):
    """A phone calendar subscribes to this URL: the token is the only key.

    Titles carry the group's name only, never the client or the topic: a
    calendar is often shared or synced to places the group does not control.
    """
    feed = get_object_or_404(
        CalendarFeed.objects.select_related("user"), token=token, user__is_active=True
    )
    sessions = list(
        Session.objects.filter(group__memberships__user=feed.user)
        .select_related("group", "cycle")
        .order_by("scheduled_at", "pk")
    )
    # « séance 4 sur 7 »: each session's rank by date in its cycle, counted here.
    ranks = {}
    for session in sessions:
        if session.cycle_id is not None:
            ranks[session.cycle_id] = ranks.get(session.cycle_id, 0) + 1
            session.cycle_position = (ranks[session.cycle_id], session.cycle.planned_sessions)
    launches = Cycle.objects.filter(group__memberships__user=feed.user).select_related("group")
    calendar = Calendar()
    calendar.add("prodid", "-//Codev//codev//FR")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", _("Codev — mes séances"))
    now = timezone.now()
    for session in sessions:
        event = Event()
        event.add("uid", f"{session.code}@codev")
        event.add("dtstamp", now)
        event.add("dtstart", session.scheduled_at)
        event.add("dtend", session.ends_at)
        summary = _("Codéveloppement — %(group)s") % {"group": session.group.name}
        if getattr(session, "cycle_position", None):
            number, planned = session.cycle_position
            summary += " " + _("(séance %(number)d sur %(planned)d)") % {
                "number": number,
                "planned": planned,
            }
        event.add("summary", summary)
        if session.place:
            event.add("location", session.place)
        event.add("url", request.build_absolute_uri(reverse("session_detail", args=[session.code])))
        calendar.add_component(event)
    for cycle in launches:
        event = Event()
        event.add("uid", f"cycle-{cycle.group.code}-{cycle.number}@codev")
        event.add("dtstamp", now)
        event.add("dtstart", cycle.launch_at)
        event.add("dtend", cycle.launch_ends_at)
        event.add(
            "summary",
            _("Séance de lancement du cycle %(number)d — %(group)s")
            % {"number": cycle.number, "group": cycle.group.name},
        )
        if cycle.launch_place:
            event.add("location", cycle.launch_place)
        event.add(
            "url",
            request.build_absolute_uri(
                reverse("cycle_launch", args=[cycle.group.code, cycle.number])
            ),
        )
        calendar.add_component(event)
    response = HttpResponse(calendar.to_ical(), content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="codev.ics"'
    return response
