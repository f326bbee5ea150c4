import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from groups import cycles, dates
from groups.access import get_group_for
from groups.models import SessionFormat
from sessions.forms import SessionPlanForm
from sessions.steps import ORDER, budgets_for


@login_required
@require_http_methods(["GET", "POST"])
def session_plan(request, code):
    """Any member plans a session: no hierarchy in a codev group."""
    group, _membership = get_group_for(request, code)
    horizon = dates.planning_horizon()
    # The meeting after the group's last one; a session stored beyond what the
    # form allows (planned before the bounds, or by hand) is not followed.
    latest = (
        group.sessions.filter(scheduled_at__lte=horizon)
        .order_by("-scheduled_at")
        .values_list("scheduled_at", flat=True)
        .first()
    )
    after = timezone.now()
    if latest is not None and latest > after:
        # After the latest session's day, not its hour: one planned on a meeting
        # day's morning must not get a second one that evening.
        after = timezone.make_aware(dt.datetime.combine(timezone.localdate(latest), dt.time.max))
    suggested = group.next_meeting_start(after)
    if suggested is not None and suggested > horizon:
        suggested = None
    initial = {
        "scheduled_at": timezone.localtime(suggested) if suggested else None,
        "place": group.default_place,
        "format_minutes": group.default_format,
    }
    data = request.POST if request.method == "POST" else None
    form = SessionPlanForm(data, initial=initial, group=group)
    if request.method == "POST" and form.is_valid():
        form.instance.group = group
        form.instance.created_by = request.user
        # Part of the group's cycle while the cycle has sessions left to plan.
        form.instance.cycle = cycles.cycle_with_room(group)
        session = form.save()
        messages.success(request, _("Séance planifiée."))
        return redirect("session_detail", code=session.code)
    presets = [
        (label, [(step.label, budgets_for(value)[step]) for step in ORDER])
        for value, label in SessionFormat.choices
    ] + [
        (saved.name, [(step.label, saved.step_budgets.get(step, 0)) for step in ORDER])
        for saved in form.saved
    ]
    return render(
        request,
        "sessions/session_plan.html",
        {"group": group, "form": form, "presets": presets},
        status=400 if form.errors else 200,
    )
