"""The carnet de bord: my sessions, my notes, my actions — mine alone."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from groups import cycles
from sessions import services
from sessions.forms import ActionProgressForm, LogbookNoteForm, first_error
from sessions.logbook import load_logbook, open_actions, search_logbook
from sessions.models import ActionItem, PrivateNote

SEARCH_MAX_LENGTH = 100


def _logbook_context(request, *, note_form=None):
    q = request.GET.get("q", "").strip()[:SEARCH_MAX_LENGTH]
    return {
        "entries": load_logbook(request.user),
        "loose_notes": PrivateNote.objects.filter(author=request.user, session=None),
        "open_actions": open_actions(request.user),
        "note_form": note_form or LogbookNoteForm(user=request.user),
        "progress_form": ActionProgressForm(),
        "q": q,
        "hits": search_logbook(request.user, q) if q else None,
        "cycle_reviews": cycles.reviews_for(request.user),
    }


@login_required
@require_GET
def logbook(request):
    return render(request, "sessions/logbook.html", _logbook_context(request))


@login_required
@require_GET
def logbook_markdown(request):
    context = {
        "entries": load_logbook(request.user),
        "user": request.user,
        "loose_notes": PrivateNote.objects.filter(author=request.user, session=None),
        "now": timezone.now(),
    }
    response = HttpResponse(
        render_to_string("sessions/logbook.md", context, request=request),
        content_type="text/markdown; charset=utf-8",
    )
    response["Content-Disposition"] = 'attachment; filename="carnet-de-bord.md"'
    return response


@login_required
@require_POST
def note_create(request):
    form = LogbookNoteForm(request.POST, user=request.user)
    if form.is_valid():
        services.logbook_note_create(by=request.user, **form.cleaned_data)
        messages.success(request, _("Note ajoutée à votre carnet."))
        return redirect("logbook")
    return render(
        request, "sessions/logbook.html", _logbook_context(request, note_form=form), status=400
    )


def _my_note(request, item):
    # Someone else's note is a 404: its existence is private too.
    return get_object_or_404(PrivateNote, code=item, author=request.user)


@login_required
@require_http_methods(["GET", "POST"])
def note_edit(request, item):
    note = _my_note(request, item)
    data = request.POST if request.method == "POST" else None
    form = LogbookNoteForm(data, instance=note, user=request.user)
    if request.method == "POST" and form.is_valid():
        services.logbook_note_update(note=note, by=request.user, **form.cleaned_data)
        messages.success(request, _("Note modifiée."))
        return redirect("logbook")
    return render(
        request,
        "sessions/note_edit.html",
        {"form": form, "note": note},
        status=400 if form.errors else 200,
    )


@login_required
@require_POST
def note_delete(request, item):
    services.logbook_note_delete(note=_my_note(request, item), by=request.user)
    messages.success(request, _("Note supprimée."))
    return redirect("logbook")


@login_required
@require_POST
def action_progress(request, item):
    action = get_object_or_404(ActionItem.objects.select_related("session"), code=item)
    if action.author_id != request.user.pk:
        # Another member's action: it exists for the group, but is not mine to move.
        if not action.session.group.memberships.filter(user=request.user).exists():
            raise Http404
        raise PermissionDenied
    form = ActionProgressForm(request.POST)
    saved = form.is_valid()
    if saved:
        services.action_progress(action=action, by=request.user, **form.cleaned_data)
    if request.htmx:
        # The live page's panel (step 0 « retour »): the broadcast shows the new
        # status to the group, but that panel is the person's own and outside
        # the broadcast regions, so the answer redraws it with the outcome.
        context = {
            "action": action,
            "hx": True,
            "saved": saved,
            "error": "" if saved else first_error(form),
            "progress_form": ActionProgressForm(),
        }
        return render(
            request,
            "sessions/includes/action_progress.html",
            context,
            status=200 if saved else 400,
        )
    if saved:
        messages.success(request, _("Avancement enregistré."))
    else:
        messages.error(request, first_error(form))
    back = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
        return redirect(back)
    return redirect("logbook")
