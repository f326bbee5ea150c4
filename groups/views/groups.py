from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db.models import Exists, OuterRef, Prefetch
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from groups import cycles, services
from groups.access import get_group_for
from groups.forms import GroupCreateForm, GroupForm, InvitationForm
from groups.models import MAX_MEMBERS, MIN_MEMBERS, Invitation, Membership, Topic
from sessions.access import joined_in_time
from sessions.forms import ActionProgressForm
from sessions.logbook import open_actions
from sessions.models import Participation, Session

# Only the client's name is shown in lists; other roles are read on the session page.
_CLIENTS = Prefetch(
    "participations",
    queryset=Participation.objects.filter(role=Participation.Role.CLIENT).select_related("user"),
    to_attr="clients",
)


@login_required
@require_GET
def home(request):
    memberships = (
        Membership.objects.filter(user=request.user)
        .select_related("group")
        .prefetch_related(
            Prefetch(
                "group__sessions",
                queryset=Session.objects.upcoming().prefetch_related(_CLIENTS),
                to_attr="upcoming_sessions",
            )
        )
        .order_by("group__name")
    )
    context = {
        "memberships": memberships,
        "open_actions": list(open_actions(request.user)),
        "progress_form": ActionProgressForm(),
    }
    return render(request, "groups/home.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def group_create(request):
    data = request.POST if request.method == "POST" else None
    form = GroupCreateForm(data)
    if request.method == "POST" and form.is_valid():
        fields = {k: v for k, v in form.cleaned_data.items() if k != "creator_role"}
        group = services.group_create(
            user=request.user, creator_role=form.cleaned_data["creator_role"], **fields
        )
        messages.success(request, _("Groupe créé. Invitez maintenant ses membres."))
        return redirect("group_detail", code=group.code)
    return render(request, "groups/group_form.html", {"form": form, "creating": True})


@login_required
@require_http_methods(["GET", "POST"])
def group_edit(request, code):
    group, _membership = get_group_for(request, code)
    data = request.POST if request.method == "POST" else None
    form = GroupForm(data, instance=group)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, _("Groupe mis à jour."))
        return redirect("group_detail", code=group.code)
    return render(request, "groups/group_form.html", {"form": form, "group": group})


def _group_page(request, group, membership, *, invitation_form=None, status=200):
    memberships = list(group.memberships.select_related("user"))
    sessions = group.sessions.prefetch_related(_CLIENTS)
    past_sessions = list(
        sessions.past()
        .annotate(
            took_part=Exists(
                Participation.objects.filter(session=OuterRef("pk"), user=request.user)
            )
        )
        .order_by("-scheduled_at")
    )
    # A session held before the reader joined is listed, not linked: what was
    # said in it is not theirs to read (sessions.access.was_there).
    for session in past_sessions:
        session.was_there = (
            not session.is_closed
            or session.took_part
            or joined_in_time(session, membership.joined_at)
        )
    member_count = sum(1 for m in memberships if m.role == Membership.Role.MEMBER)
    open_topics = list(group.topics.filter(status=Topic.Status.OPEN).select_related("proposed_by"))
    group_cycles = list(group.cycles.all())
    current = next((c for c in group_cycles if c.is_open), None)
    context = {
        "group": group,
        "membership": membership,
        "memberships": memberships,
        "member_count": member_count,
        "min_members": MIN_MEMBERS,
        "max_members": MAX_MEMBERS,
        "upcoming_sessions": list(sessions.upcoming()),
        "past_sessions": past_sessions,
        "pending_invitations": list(group.invitations.pending().select_related("invited_by")),
        "open_topics": open_topics,
        "invitation_form": invitation_form or InvitationForm(group=group),
        "cycle_view": cycles.overview(current, memberships, open_topics) if current else None,
        "past_cycles": [c for c in group_cycles if not c.is_open][::-1],
        "leads": cycles.leads(membership, memberships),
    }
    return render(request, "groups/group_detail.html", context, status=status)


@login_required
@require_GET
def group_detail(request, code):
    group, membership = get_group_for(request, code)
    return _group_page(request, group, membership)


@login_required
@require_POST
def invitation_create(request, code):
    group, membership = get_group_for(request, code)
    form = InvitationForm(request.POST, group=group)
    if form.is_valid():
        try:
            invitation = services.invitation_create(
                group=group,
                invited_by=request.user,
                email=form.cleaned_data["email"],
                role=form.cleaned_data["role"],
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            link = request.build_absolute_uri(reverse("invitation_accept", args=[invitation.token]))
            if invitation.email:
                _send_invitation(invitation, link)
            messages.success(
                request, _("Invitation créée. Lien à transmettre : %(link)s") % {"link": link}
            )
            return redirect("group_detail", code=group.code)
    return _group_page(request, group, membership, invitation_form=form, status=400)


def _send_invitation(invitation: Invitation, link: str) -> None:
    context = {"invitation": invitation, "link": link}
    subject = _("Invitation au groupe « %(name)s »") % {"name": invitation.group}
    send_mail(
        # One line, as the reminders' subject: a group name holding a line
        # break would make Django refuse the header (BadHeaderError, a 500).
        subject=" ".join(subject.split()),
        message=render_to_string("groups/email/invitation.txt", context),
        from_email=None,
        recipient_list=[invitation.email],
    )


@login_required
@require_POST
def invitation_revoke(request, code, token):
    group, _membership = get_group_for(request, code)
    invitation = get_object_or_404(group.invitations.pending(), token=token)
    invitation.delete()
    messages.success(request, _("Invitation annulée."))
    return redirect("group_detail", code=group.code)


@login_required
@require_http_methods(["GET", "POST"])
def membership_remove(request, code, membership_code):
    group, membership = get_group_for(request, code, facilitator=True)
    target = get_object_or_404(
        group.memberships.select_related("user").exclude(pk=membership.pk), code=membership_code
    )
    if request.method == "POST":
        services.membership_remove(membership=target, by=membership)
        messages.success(request, _("%(name)s a été retiré du groupe.") % {"name": target.user})
        return redirect("group_detail", code=group.code)
    return render(
        request,
        "groups/confirm.html",
        {
            "group": group,
            "title": _("Retirer %(name)s du groupe ?") % {"name": target.user},
            "action": _("Retirer du groupe"),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def group_leave(request, code):
    group, membership = get_group_for(request, code)
    if request.method == "POST":
        services.membership_remove(membership=membership, by=membership)
        messages.success(request, _("Vous avez quitté le groupe « %(name)s ».") % {"name": group})
        return redirect("home")
    return render(
        request,
        "groups/confirm.html",
        {
            "group": group,
            "title": _("Quitter le groupe « %(name)s » ?") % {"name": group},
            "explanation": _(
                "Vous n'aurez plus accès à ses séances. Votre carnet de bord reste à vous."
            ),
            "action": _("Quitter le groupe"),
        },
    )
