"""A person's own data: download everything they wrote, or leave for good.

The export holds what the signed-in person wrote and, from others, only what
places it (group name, session date). It reads a fixed number of queries,
however many sessions the person took part in.
"""

from django import forms
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from groups import services, throttle
from groups.models import Membership, Topic
from sessions.models import (
    ActionItem,
    Contribution,
    CycleReview,
    DemandCheck,
    Feedback,
    Learning,
    Participation,
    PrivateNote,
    Question,
    Reformulation,
    Theme,
)

EXPORT_NAME = "codev-mes-donnees"


def _collect(user) -> dict:
    """Everything `user` wrote, as model instances; one query per kind."""

    def authored(model):
        # In the order of the sessions, as the person lived them.
        return list(
            model.objects.filter(author=user)
            .select_related("session__group")
            .order_by("session__scheduled_at", "created_at", "pk")
        )

    participations = list(
        Participation.objects.filter(user=user)
        .select_related("session__group")
        .order_by("session__scheduled_at", "pk")
    )
    # Each card with the person's own tag, if they tagged it while client:
    # how someone else sorted their card is that client's alone.
    contributions = list(
        Contribution.objects.filter(author=user)
        .with_tag_of(user.pk)
        .select_related("session__group", "theme")
        .order_by("session__scheduled_at", "created_at", "pk")
    )

    return {
        "exported_at": timezone.now(),
        "person": user,
        "memberships": list(
            Membership.objects.filter(user=user).select_related("group").order_by("joined_at")
        ),
        "participations": participations,
        "questions": authored(Question),
        "contributions": contributions,
        # The themes the person named while facilitating (Metaplan).
        "themes": authored(Theme),
        "reformulations": authored(Reformulation),
        "demand_checks": authored(DemandCheck),
        "actions": list(
            ActionItem.objects.filter(author=user)
            .select_related("session__group")
            .prefetch_related("updates")
            .order_by("session__scheduled_at", "created_at", "pk")
        ),
        "learnings": authored(Learning),
        "feedbacks": authored(Feedback),
        # Carnet notes may have no session: in the order they were written.
        "private_notes": list(
            PrivateNote.objects.filter(author=user)
            .select_related("session__group")
            .order_by("created_at", "pk")
        ),
        "topics": list(
            Topic.objects.filter(proposed_by=user).select_related("group").order_by("created_at")
        ),
        # All three parts: even what is kept from the group is the author's own.
        "cycle_reviews": list(
            CycleReview.objects.filter(author=user)
            .select_related("cycle__group")
            .order_by("cycle__group__name", "cycle__group_id", "cycle__number")
        ),
    }


def _when(value):
    """A date or datetime as ISO 8601; datetimes in the site's time zone."""
    if value is None:
        return None
    if hasattr(value, "tzinfo"):
        return timezone.localtime(value).isoformat()
    return value.isoformat()


def _place(session):
    if session is None:
        return {"group": None, "session_date": None}
    return {"group": session.group.name, "session_date": _when(session.scheduled_at)}


def _as_json(data: dict) -> dict:
    person = data["person"]
    sessions = []
    for participation in data["participations"]:
        session = participation.session
        entry = {**_place(session), "role": participation.role, "status": session.status}
        if participation.role == Participation.Role.CLIENT:
            # The exposé and the demand are the client's own words.
            entry.update(
                expose_title=session.expose_title,
                expose_summary=session.expose_summary,
                demand=session.demand_text,
            )
        sessions.append(entry)
    contributions = []
    for contribution in data["contributions"]:
        entry = {
            **_place(contribution.session),
            "kind": contribution.kind,
            "text": contribution.text,
            "created_at": _when(contribution.created_at),
        }
        if contribution.tag:
            entry["tag"] = contribution.tag
        if contribution.theme:
            entry["theme"] = contribution.theme.name
        contributions.append(entry)
    return {
        "exported_at": _when(data["exported_at"]),
        "account": {
            "full_name": person.full_name,
            "email": person.email,
            "date_joined": _when(person.date_joined),
        },
        "memberships": [
            {
                "group": m.group.name,
                "role": m.role,
                "joined_at": _when(m.joined_at),
                "charter_accepted_at": _when(m.charter_accepted_at),
            }
            for m in data["memberships"]
        ],
        "sessions": sessions,
        "questions": [
            {
                **_place(q.session),
                "kind": q.kind,
                "text": q.text,
                "created_at": _when(q.created_at),
            }
            for q in data["questions"]
        ],
        "contributions": contributions,
        "themes": [
            {**_place(t.session), "name": t.name, "created_at": _when(t.created_at)}
            for t in data["themes"]
        ],
        "reformulations": [
            {**_place(r.session), "text": r.text, "created_at": _when(r.created_at)}
            for r in data["reformulations"]
        ],
        "demand_checks": [
            {**_place(c.session), "verdict": c.verdict, "created_at": _when(c.created_at)}
            for c in data["demand_checks"]
        ],
        "actions": [
            {
                **_place(a.session),
                "text": a.text,
                "due_date": _when(a.due_date),
                "status": a.status,
                "progress_note": a.progress_note,
                "progress_at": _when(a.progress_at),
                "created_at": _when(a.created_at),
                "updates": [
                    {"status": u.status, "note": u.note, "created_at": _when(u.created_at)}
                    for u in a.updates.all()
                ],
            }
            for a in data["actions"]
        ],
        "learnings": [
            {**_place(x.session), "text": x.text, "created_at": _when(x.created_at)}
            for x in data["learnings"]
        ],
        "feedbacks": [
            {
                **_place(f.session),
                "rating": f.rating,
                "comment": f.comment,
                "created_at": _when(f.created_at),
            }
            for f in data["feedbacks"]
        ],
        "private_notes": [
            {
                **_place(n.session),
                "text": n.text,
                "created_at": _when(n.created_at),
                "updated_at": _when(n.updated_at),
            }
            for n in data["private_notes"]
        ],
        "topics": [
            {
                "group": t.group.name,
                "title": t.title,
                "context": t.context,
                "urgency": t.urgency,
                "status": t.status,
                "created_at": _when(t.created_at),
            }
            for t in data["topics"]
        ],
        "cycle_reviews": [
            {
                "group": r.cycle.group.name,
                "cycle": r.cycle.number,
                "learnt": r.learnt,
                "practice": r.practice,
                "shared": r.shared,
                "created_at": _when(r.created_at),
                "updated_at": _when(r.updated_at),
            }
            for r in data["cycle_reviews"]
        ],
    }


def _attachment(response, extension):
    response["Content-Disposition"] = f'attachment; filename="{EXPORT_NAME}.{extension}"'
    return response


@login_required
@require_GET
def data_json(request):
    payload = _as_json(_collect(request.user))
    response = JsonResponse(payload, json_dumps_params={"ensure_ascii": False, "indent": 2})
    return _attachment(response, "json")


@login_required
@require_GET
def data_markdown(request):
    text = render_to_string("sessions/account/data.md", _collect(request.user), request=request)
    response = HttpResponse(text, content_type="text/markdown; charset=utf-8")
    return _attachment(response, "md")


class AccountDeleteForm(forms.Form):
    password = forms.CharField(
        label=gettext_lazy("Mot de passe actuel"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    def __init__(self, *args, user, request, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.request = request

    def clean_password(self):
        password = self.cleaned_data["password"]
        # Counted like a sign-in: an open session does not let anyone guess faster.
        if not throttle.verify_password(self.request, self.user, password):
            raise forms.ValidationError(
                _("Mot de passe incorrect : votre compte n'a pas été supprimé."),
                code="wrong_password",
            )
        return password


@login_required
@require_http_methods(["GET", "POST"])
def account_delete(request):
    user = request.user
    data = request.POST if request.method == "POST" else None
    form = AccountDeleteForm(data, user=user, request=request)
    if request.method == "POST" and form.is_valid():
        services.account_delete(user=user)
        logout(request)
        messages.success(
            request, _("Votre compte a été supprimé. Merci d'avoir fait partie de Codev.")
        )
        return redirect("login")
    context = {
        "form": form,
        "note_count": PrivateNote.objects.filter(author=user).count(),
        "learning_count": Learning.objects.filter(author=user).count(),
        "cycle_review_count": CycleReview.objects.filter(author=user).count(),
        # An animateur who leaves leaves a group without one: say so first.
        "facilitated_groups": [
            m.group
            for m in Membership.objects.filter(
                user=user, role=Membership.Role.FACILITATOR
            ).select_related("group")
        ],
    }
    status = 400 if request.method == "POST" else 200
    return render(request, "sessions/account/delete.html", context, status=status)
