"""The session page and every action taken in it.

Each POST goes through `_handle`: validate the form, call one service, answer
204 (htmx) or a redirect (no JS). Every screen, the poster's too, gets what
changed from the broadcast the service registered; a refusal answers the
poster alone, with the reason and what they typed.
"""

import segno
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.forms import CharField
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from sessions import broadcast, forms, services, spec
from sessions.access import get_session_for, joined_in_time, not_there, was_there
from sessions.deltas import envelope
from sessions.models import Contribution, HandRaise, Question, Theme
from sessions.roles import FACILITATOR, ROOM, role_of
from sessions.services import StepConflict
from sessions.state import (
    context_for,
    load_state,
    person_token,
    render_regions,
    roles_form_shown,
    stamp,
)


def _page_context(request, session, role, *, bound=None, flash=None):
    """`session` comes from this request's access check (`get_session_for`)."""
    state = load_state(session.pk, live=True, session=session)
    # The bound form goes back in the composer: its errors show and the typed
    # text is kept, as in the htmx answer.
    context = context_for(state, role, bound=bound)
    context.update(
        bound=bound or {},
        flash=flash,
        notes=session.privatenotes.filter(author=request.user),
        note_form=(bound or {}).get("note") or forms.NoteForm(),
        max_sockets=settings.LIVE_SOCKETS_PER_PERSON,
    )
    previous = state.previous
    context["my_previous_actions"] = (
        list(previous.actionitems.filter(author=request.user)) if previous else []
    )
    context["progress_form"] = forms.ActionProgressForm()
    # Who I am in the queue (the page's; the queue region is per audience).
    context["me"] = person_token(session.pk, request.user.pk)
    context["hand_up"] = any(hand.author_id == request.user.pk for hand in state.hands)
    return context


@login_required
@require_GET
def session_detail(request, code):
    session, role = get_session_for(request, code)
    if session.is_closed:
        if not was_there(session, request.user):
            return not_there(request, session)
        state = load_state(session.pk, session=session)
        context = context_for(state, role)
        # Today's members, less those who joined after it: they were not there.
        participants = {p.user_id for p in state.session.participations.all()}
        context["people"] = [
            person
            for person, membership in zip(state.people, state.memberships, strict=True)
            if membership.user_id in participants
            or joined_in_time(state.session, membership.joined_at)
        ]
        # Of a session « sans trace », each reads their own learnings alone.
        context["learnings"] = [
            learning
            for learning in state.learnings
            if not session.no_trace or learning.author_id == request.user.pk
        ]
        return render(request, "sessions/summary.html", context)
    return render(request, "sessions/live.html", _page_context(request, session, role))


def _respond(request, session, role, *, bound=None, flash=None, status=200, **extra):
    """The answer to a refused post (or the roles' form): what the poster must see.

    htmx: the full state, the reason, and for a 400 the form, bound, with what
    was typed (static/js/live.js applies it as a full state from the socket):
    a refusal often means this screen missed a change. Without JS, the page
    again.
    """
    if request.htmx:
        state = load_state(session.pk, live=True)
        html = envelope(state.session.version, full=True) + render_regions(
            state,
            role,
            request,
            bound=bound or {},
            flash=flash,
            force_composer=status == 400,
            answer=True,
            **extra,
        )
        return HttpResponse(html, status=status)
    if status == 200:
        return redirect("session_detail", code=session.code)
    if flash:
        messages.error(request, flash["message"])
    context = _page_context(request, session, role, bound=bound, flash=flash)
    return render(request, "sessions/live.html", context, status=status)


def _done(request, code):
    """A post taken. htmx: nothing to answer (204); the poster's screen changes
    with everyone's, from the broadcast. Without JS, back to the page."""
    if request.htmx:
        return HttpResponse(status=204)
    return redirect("session_detail", code=code)


def _typed_text(form) -> str:
    """What the person typed in the form's text fields, to hand back on refusal."""
    typed = (
        form.data.get(name, "")
        for name, field in form.fields.items()
        if isinstance(field, CharField)
    )
    return "\n\n".join(text for text in typed if text.strip())


def _refused(request, code, name, form, flash=None, status=400):
    """Why a post was not taken, read afresh: strangers get 404 from here."""
    session, role = get_session_for(request, code)
    if flash is None and form is not None and name not in spec.composer_forms(session, role):
        # The page shows no such form now (the step moved on, or the post was
        # forged): its errors would show nowhere, so the flash says why and
        # hands the text back.
        flash = {"message": forms.first_error(form), "text": _typed_text(form)}
    bound = {name: form} if form is not None else None
    return _respond(request, session, role, bound=bound, flash=flash, status=status)


def _handle(request, code, name, form_class, action):
    """Validate `form_class`, run `action(code, data)`, answer per DESIGN.md's flow.

    The action's service checks access, role and step in its one guarded
    write (sessions.guard): the session is read only to explain a refusal.
    """
    form = form_class(request.POST) if form_class else None
    if form is not None and not form.is_valid():
        return _refused(request, code, name, form)
    try:
        action(code, form.cleaned_data if form is not None else {})
    except StepConflict:
        flash = {"message": _("La séance a déjà changé d'étape : voici où elle en est.")}
        return _refused(request, code, name, None, flash=flash, status=409)
    except ValidationError as error:
        text = _typed_text(form) if form is not None else ""
        return _refused(
            request, code, name, form, flash={"message": error.messages[0], "text": text}
        )
    return _done(request, code)


def _action(name, form_class, service, **fixed):
    """A POST view that feeds the form's data to `service` (see `_handle`)."""

    @login_required
    @require_POST
    def view(request, code):
        def run(session, data):
            service(session=session, by=request.user, **fixed, **data)

        return _handle(request, code, name, form_class, run)

    view.__name__ = name
    return view


session_add_time = _action("time", None, services.session_add_time)
session_timer = _action("timer", forms.TimerForm, services.session_set_timer)
session_close = _action("close", None, services.session_close)
session_no_trace = _action("no_trace", forms.NoTraceForm, services.session_no_trace_set)
session_kept = _action("kept", forms.KeptForm, services.session_kept_set)
expose_save = _action("expose", forms.ExposeForm, services.expose_save)
question_post = _action("question", forms.QuestionForm, services.question_post)
demand_save = _action("demand", forms.DemandForm, services.demand_save)
demand_check = _action("demand_check", forms.DemandCheckForm, services.demand_check)
reformulation_post = _action("reformulation", forms.ReformulationForm, services.reformulation_post)
demand_validate = _action("demand_validate", None, services.demand_validate)
demand_reopen = _action("demand_reopen", None, services.demand_reopen)
contribution_post = _action("contribution", forms.ContributionForm, services.contribution_post)
learning_post = _action("learning", forms.LearningForm, services.learning_post)
feedback_post = _action("feedback", forms.FeedbackForm, services.feedback_post)
hand_toggle = _action("hand", None, services.hand_toggle)
hands_clear = _action("hands_clear", None, services.hand_clear)


@login_required
@require_POST
def session_start(request, code):
    include_retour = request.POST.get("include_retour") == "on"
    return _handle(
        request,
        code,
        "start",
        None,
        lambda session, _data: services.session_start(
            session=session, by=request.user, include_retour=include_retour
        ),
    )


@login_required
@require_POST
def session_move(request, code):
    forward = request.POST.get("direction") != "previous"
    from_step = request.POST.get("from_step", "")
    return _handle(
        request,
        code,
        "move",
        None,
        lambda session, _data: services.session_move(
            session=session, by=request.user, from_step=from_step, forward=forward
        ),
    )


@login_required
@require_POST
def session_roles(request, code):
    session, role = get_session_for(request, code)
    form = forms.RolesForm(request.POST, session=session)
    if session.is_live and role != FACILITATOR:
        # A form drawn before the start, or before a handover: the session has
        # moved on (409, as for a step), and the page shows where it is.
        message = _("La séance a commencé : seul l'animateur peut maintenant changer les rôles.")
        flash = {"message": message, "text": _typed_text(form)}
        return _respond(request, session, role, flash=flash, status=409)
    try:
        if form.is_valid():
            services.session_set_roles(session=session, by=request.user, **form.cleaned_data)
    except ValidationError as error:
        form.add_error(None, error)
    if form.errors:
        # Where the roles form is not on the page (the session ended since),
        # the reason goes in the flash; otherwise the form shows it in place.
        flash = None
        if not roles_form_shown(session, role):
            flash = {"message": forms.first_error(form), "text": _typed_text(form)}
        return _respond(
            request, session, role, bound={"roles": form}, flash=flash, status=400, force_setup=True
        )
    if request.htmx:
        # A handover may have made the poster a consultant: answer for the
        # role they hold now. The form says it was saved, and stays open.
        role = role_of(session, request.user)
        return _respond(request, session, role, force_setup=True, roles_saved=True)
    messages.success(request, _("Rôles enregistrés."))
    return redirect("session_detail", code=session.code)


@login_required
@require_POST
def action_add(request, code):
    def run(session, data):
        card = data.pop("contribution")
        contribution = (
            get_object_or_404(Contribution.objects.filter(session__code=code), code=card)
            if card
            else None
        )
        code_of_theme = data.pop("theme")
        theme = (
            get_object_or_404(Theme.objects.filter(session__code=code), code=code_of_theme)
            if code_of_theme and contribution is None
            else None
        )
        services.action_add(
            session=session, by=request.user, contribution=contribution, theme=theme, **data
        )

    return _handle(request, code, "action", forms.ActionForm, run)


def _object_action(name, model, form_class, service, field):
    """A POST view about one object of the session, found by its code."""

    @login_required
    @require_POST
    def view(request, code, item):
        def run(session, data):
            target = get_object_or_404(model.objects.filter(session__code=code), code=item)
            service(session=session, by=request.user, **{field: target}, **data)

        return _handle(request, code, name, form_class, run)

    view.__name__ = name
    return view


contribution_tag = _object_action(
    "tag", Contribution, forms.TagForm, services.contribution_tag, "contribution"
)
theme_create = _action("theme", forms.ThemeForm, services.theme_create)
theme_rename = _object_action(
    "theme_rename", Theme, forms.ThemeForm, services.theme_rename, "theme"
)
theme_remove = _object_action("theme_remove", Theme, None, services.theme_remove, "theme")
theme_tag = _object_action("theme_tag", Theme, forms.TagForm, services.theme_tag, "theme")


@login_required
@require_POST
def card_place(request, code, item):
    def run(session, data):
        card = get_object_or_404(Contribution.objects.filter(session__code=code), code=item)
        theme = (
            get_object_or_404(Theme.objects.filter(session__code=code), code=data["theme"])
            if data["theme"]
            else None
        )
        services.card_place(session=session, by=request.user, contribution=card, theme=theme)

    return _handle(request, code, "card_place", forms.PlaceForm, run)


floor_give = _object_action("floor", HandRaise, None, services.floor_give, "hand")
hand_clear = _object_action("hand_clear", HandRaise, None, services.hand_clear, "hand")


@login_required
@require_POST
def question_mark(request, code, item):
    flag = request.POST.get("flag")
    value = request.POST.get("value") == "on"
    kwargs = {"answered": value} if flag == "answered" else {"hidden": value}

    def run(session, _data):
        question = get_object_or_404(Question.objects.filter(session__code=code), code=item)
        services.question_mark(session=session, by=request.user, question=question, **kwargs)

    return _handle(request, code, "question_mark", None, run)


@login_required
@require_GET
def session_room(request, code):
    """The room screen: for a projector or a TV, opened by any member (the
    facilitator's controls link to it). What every consultant sees of the
    header, the board and the queue, large, with no control."""
    session, _role = get_session_for(request, code)
    state = load_state(session.pk, live=True, session=session)
    context = context_for(state, ROOM) | {"max_sockets": settings.LIVE_SOCKETS_PER_PERSON}
    return render(request, "sessions/room.html", context)


@login_required
@require_GET
def session_state(request, code):
    """The full state of the live page, for my role, in my language: a page
    that missed a message asks for it (static/js/live.js), as on a reconnect.
    `?salle=1`: the room screen's."""
    session, role = get_session_for(request, code)
    audience = ROOM if request.GET.get("salle") else role
    html = broadcast.current_regions(session.pk, audience, get_language())
    return HttpResponse(stamp(html))


@login_required
@require_POST
def note_post(request, code):
    session, role = get_session_for(request, code)
    form = forms.NoteForm(request.POST)
    if form.is_valid():
        try:
            services.note_post(session=session, by=request.user, text=form.cleaned_data["text"])
        except ValidationError as error:
            form.add_error(None, error)
        else:
            form = forms.NoteForm()
    context = {
        "session": session,
        "notes": session.privatenotes.filter(author=request.user),
        "note_form": form,
    }
    if request.htmx:
        return render(
            request, "sessions/live.html#notes", context, status=400 if form.errors else 200
        )
    if form.errors:
        return render(
            request,
            "sessions/live.html",
            _page_context(request, session, role, bound={"note": form}),
            status=400,
        )
    return redirect("session_detail", code=session.code)


@login_required
@require_GET
def session_qr(request, code):
    """The join panel's QR code: the session's short URL, as SVG."""
    session, _role = get_session_for(request, code)
    url = request.build_absolute_uri(reverse("session_detail", args=[session.code]))
    qr = segno.make(url, error="m")
    response = HttpResponse(content_type="image/svg+xml")
    qr.save(response, kind="svg", scale=8, border=2)
    return response
