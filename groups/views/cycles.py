"""A group's cycle: starting it, its launch session, its review."""

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Avg, Count
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from groups import cycles
from groups.access import get_group_for
from groups.forms import (
    CharterTextForm,
    CycleDecisionForm,
    CycleReviewForm,
    CycleSettingsForm,
    CycleStartForm,
)
from groups.models import MIN_CYCLE_SESSIONS, Cycle, Membership, Topic
from sessions.models import ActionItem, CycleReview, Session
from sessions.views.history import rating_chart


def _cycle_for(request, code, number, *, lead=False):
    """The group, my membership, the group's memberships and the cycle: 404
    for a stranger or a cycle that does not exist; with `lead`, 403 for a
    member who does not lead the group (cycles.leads)."""
    group, membership = get_group_for(request, code)
    cycle = get_object_or_404(group.cycles.select_related("group"), number=number)
    memberships = list(group.memberships.select_related("user"))
    if lead:
        cycles.require_lead(membership, memberships)
    return group, membership, memberships, cycle


def _start_initial(group, members: int) -> tuple[dict, list[dt.datetime]]:
    count = max(members, MIN_CYCLE_SESSIONS)
    launch = group.next_meeting_start()
    starts = cycles.cadence_dates(group, count, launch) if launch else []
    initial = {
        "planned_sessions": count,
        "facilitation": Cycle.Facilitation.ANIMATEUR,
        "launch_at": timezone.localtime(launch) if launch else None,
        "launch_place": group.default_place,
    }
    return initial, [timezone.localtime(start) for start in starts]


@login_required
@require_http_methods(["GET", "POST"])
def cycle_start(request, code):
    group, membership = get_group_for(request, code)
    memberships = list(group.memberships.select_related("user"))
    cycles.require_lead(membership, memberships)
    members = sum(1 for m in memberships if m.role == Membership.Role.MEMBER)
    initial, starts = _start_initial(group, members)
    open_cycle = group.cycles.open().first()
    form = CycleStartForm(initial=initial, dates_initial=starts)
    status = 200
    if request.method == "POST" and "recompute" in request.POST:
        # Redraw the dates from the cadence for the number of sessions and
        # the launch typed; nothing is saved, nothing typed is lost.
        typed = CycleStartForm(request.POST)
        typed.is_valid()
        launch = typed.cleaned_data.get("launch_at") or group.next_meeting_start()
        data = {
            name: typed.cleaned_data.get(name, initial.get(name))
            for name in ("planned_sessions", "facilitation", "repeat_clients", "launch_place")
        }
        data["planned_sessions"] = typed.count
        data["launch_at"] = timezone.localtime(launch) if launch else None
        starts = cycles.cadence_dates(group, typed.count, launch) if launch else []
        form = CycleStartForm(initial=data, dates_initial=[timezone.localtime(s) for s in starts])
    elif request.method == "POST":
        form = CycleStartForm(request.POST)
        if form.is_valid():
            data = dict(form.cleaned_data)
            try:
                cycle = cycles.cycle_start(
                    group=group,
                    by=request.user,
                    planned_sessions=data["planned_sessions"],
                    facilitation=data["facilitation"],
                    repeat_clients=data["repeat_clients"],
                    launch_at=data["launch_at"],
                    launch_place=data["launch_place"],
                    session_dates=data["session_dates"],
                )
            except ValidationError as error:
                form.add_error(None, error)
            else:
                messages.success(
                    request,
                    _("Cycle %(number)d lancé : ses %(count)d séances sont planifiées.")
                    % {"number": cycle.number, "count": cycle.planned_sessions},
                )
                return redirect("cycle_launch", code=group.code, number=cycle.number)
        status = 400
    return render(
        request,
        "groups/cycle_start.html",
        {"group": group, "form": form, "open_cycle": open_cycle, "members": members},
        status=status,
    )


def _launch_page(request, group, membership, memberships, cycle, *, forms=None, status=200):
    adoptions = list(cycle.adoptions.all())
    adopted = {adoption.user_id: adoption for adoption in adoptions}
    forms = forms or {}
    context = {
        "group": group,
        "cycle": cycle,
        "membership": membership,
        "leads": cycles.leads(membership, memberships),
        "people": [(m, adopted.get(m.user_id)) for m in memberships],
        "adopted_count": len(adopted),
        "i_adopted": membership.user_id in adopted,
        "charter_form": forms.get("charter") or CharterTextForm(initial={"charter": group.charter}),
        "settings_form": forms.get("settings")
        or CycleSettingsForm(
            initial={
                "default_format": group.default_format,
                "facilitation": cycle.facilitation,
                "repeat_clients": cycle.repeat_clients,
            }
        ),
    }
    return render(request, "groups/cycle_launch.html", context, status=status)


@login_required
@require_GET
def cycle_launch(request, code, number):
    group, membership, memberships, cycle = _cycle_for(request, code, number)
    return _launch_page(request, group, membership, memberships, cycle)


@login_required
@require_POST
def charter_adopt(request, code, number):
    group, membership, memberships, cycle = _cycle_for(request, code, number)
    try:
        cycles.charter_adopt(cycle=cycle, membership=membership)
    except ValidationError as error:
        messages.error(request, error.messages[0])
    else:
        messages.success(request, _("Vous avez adopté la charte du groupe."))
    return redirect("cycle_launch", code=group.code, number=cycle.number)


@login_required
@require_POST
def charter_amend(request, code, number):
    group, membership, memberships, cycle = _cycle_for(request, code, number, lead=True)
    form = CharterTextForm(request.POST)
    if form.is_valid():
        try:
            changed = cycles.charter_amend(cycle=cycle, charter=form.cleaned_data["charter"])
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(
                request,
                _("Charte modifiée : chaque membre l'adopte à nouveau.")
                if changed
                else _("La charte n'a pas changé."),
            )
            return redirect("cycle_launch", code=group.code, number=cycle.number)
    return _launch_page(
        request, group, membership, memberships, cycle, forms={"charter": form}, status=400
    )


@login_required
@require_POST
def cycle_settle(request, code, number):
    group, membership, memberships, cycle = _cycle_for(request, code, number, lead=True)
    form = CycleSettingsForm(request.POST)
    if form.is_valid():
        cycles.cycle_settle(cycle=cycle, **form.cleaned_data)
        messages.success(request, _("Réglages du cycle enregistrés."))
        return redirect("cycle_launch", code=group.code, number=cycle.number)
    return _launch_page(
        request, group, membership, memberships, cycle, forms={"settings": form}, status=400
    )


@login_required
@require_POST
def charter_close(request, code, number):
    group, membership, memberships, cycle = _cycle_for(request, code, number, lead=True)
    try:
        cycles.charter_close(cycle=cycle)
    except ValidationError as error:
        messages.error(request, error.messages[0])
    else:
        messages.success(request, _("La charte est adoptée pour ce cycle."))
    return redirect("cycle_launch", code=group.code, number=cycle.number)


def _cycle_sessions(cycle):
    return (
        cycle.sessions.annotate(
            feedback_average=Avg("feedbacks__rating"), feedback_count=Count("feedbacks")
        )
        .prefetch_related(cycles._roles_prefetch())
        .order_by("scheduled_at", "pk")
    )


@login_required
@require_http_methods(["GET", "POST"])
def cycle_review(request, code, number):
    """The group's review: what members chose to share, the ratings over the
    cycle, who was client; the lead records what comes next."""
    group, membership, memberships, cycle = _cycle_for(request, code, number)
    lead = cycles.leads(membership, memberships)
    form = CycleDecisionForm(request.POST if request.method == "POST" else None)
    topics = list(group.topics.filter(status=Topic.Status.OPEN).select_related("proposed_by"))
    sessions = list(_cycle_sessions(cycle))
    view = cycles.overview(cycle, memberships, topics, sessions)
    status = 200
    if request.method == "POST":
        if not lead:
            raise PermissionDenied
        if not view.review_open:
            form.add_error(
                None, _("Le bilan s'ouvre quand toutes les séances du cycle ont eu lieu.")
            )
        elif form.is_valid():
            try:
                cycles.cycle_decide(cycle=cycle, decision=form.cleaned_data["decision"])
            except ValidationError as error:
                form.add_error(None, error)
            else:
                if form.cleaned_data["decision"] == Cycle.Decision.STOP:
                    messages.success(request, _("Le cycle est clos."))
                    return redirect("group_detail", code=group.code)
                messages.success(request, _("Le cycle est clos. Préparez maintenant le suivant."))
                return redirect("cycle_start", code=group.code)
        status = 400
    # Shared with the group: those who were members while it ran read it.
    shared = []
    if cycle.ended_at is None or membership.joined_at <= cycle.ended_at:
        shared = list(
            CycleReview.objects.filter(cycle=cycle, author__memberships__group=group)
            .exclude(shared="")
            .select_related("author")
            .only("shared", "updated_at", "author__full_name")
        )
    context = {
        "group": group,
        "cycle": cycle,
        "view": view,
        "leads": lead,
        "form": form,
        "shared": shared,
        "chart": rating_chart(sessions),
        "mine": CycleReview.objects.filter(cycle=cycle, author=request.user).first(),
    }
    return render(request, "groups/cycle_review.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def my_cycle_review(request, code, number):
    """My review of the cycle, in my carnet: what it brought me, beside my
    actions of the cycle and how they went."""
    group, membership, memberships, cycle = _cycle_for(request, code, number)
    mine = CycleReview.objects.filter(cycle=cycle, author=request.user).first()
    form = CycleReviewForm(request.POST if request.method == "POST" else None, instance=mine)
    held = cycle.sessions.filter(status=Session.Status.CLOSED).count()
    review_open = held >= cycle.planned_sessions
    if request.method == "POST" and not review_open:
        form.add_error(None, _("Le bilan s'ouvre quand toutes les séances du cycle ont eu lieu."))
    elif request.method == "POST" and form.is_valid():
        cycles.review_save(cycle=cycle, author=request.user, **form.cleaned_data)
        messages.success(request, _("Votre bilan du cycle est enregistré dans votre carnet."))
        return redirect("logbook")
    actions = list(
        ActionItem.objects.filter(session__cycle=cycle, author=request.user)
        .select_related("session")
        .order_by("session__scheduled_at", "created_at", "pk")
    )
    context = {
        "group": group,
        "cycle": cycle,
        "form": form,
        "actions": actions,
        "held": held,
        "review_open": review_open,
    }
    return render(
        request,
        "groups/my_cycle_review.html",
        context,
        status=400 if form.errors else 200,
    )
