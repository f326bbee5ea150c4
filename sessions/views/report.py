"""The compte rendu: the written trace of a closed session, as a page and as Markdown.

Both are rendered from one `Report`, which holds only what the trace may show:
no private note is ever read here, and the contribution tags never reach a
template. The report says which cards the client kept; how they sorted the
others (« à explorer », « pas maintenant ») is theirs alone.

Every member of the group who was there reads the same document (a member who
joined later gets `access.not_there`); the client also sees the switch that
adds the cards they did not keep.
"""

import dataclasses
import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from sessions import services
from sessions.access import get_session_for, joined_in_time, not_there, was_there
from sessions.markdown import markdown_literal
from sessions.models import Contribution, ContributionTag
from sessions.roles import CLIENT, CONSULTANT, FACILITATOR
from sessions.state import LiveState, load_state


@dataclasses.dataclass(frozen=True)
class Entry:
    """A card, a learning: a text and who wrote it (and, for a card, its kind)."""

    text: str
    author: str
    kind: str = ""
    # A card's theme (Metaplan, step 4), "" when it was in none.
    theme: str = ""


@dataclasses.dataclass(frozen=True)
class Wording:
    """A validated wording of the demand, replaced when the contract was reopened."""

    text: str
    validated_at: dt.datetime


@dataclasses.dataclass(frozen=True)
class Action:
    text: str
    due_date: dt.date | None
    status: str
    status_label: str


@dataclasses.dataclass(frozen=True)
class Report:
    group: str
    scheduled_at: dt.datetime
    facilitator: str
    client: str
    consultants: list[str]
    title: str
    demand: str
    demand_validated: bool
    # The wordings validated before the last, when the contract was reopened.
    earlier_demands: list[Wording]
    # The names the facilitator gave the themes, in their order.
    themes: list[str]
    kept: list[Entry]
    # None when the client shows only what they kept.
    others: list[Entry] | None
    actions: list[Action]
    learnings: list[Entry]
    feedback_average: float | None
    feedback_count: int
    # A session « sans trace » (sessions.no_trace): what the group kept, and
    # what the report then shows of it.
    no_trace: bool = False
    kept_label: str = ""
    keeps_contract: bool = True
    keeps_cards: bool = True

    def for_markdown(self) -> "Report":
        """The same report with every text made literal for Markdown."""
        return _markdown_literal(self)


def _name(user) -> str:
    return user.full_name if user else _("ancien membre")


def _roles(state: LiveState) -> dict[str, list[str]]:
    """Who held which role: the recorded participations first.

    Then, as everywhere in the app (`sessions.roles.role_map`), a member
    without a participation counts as consultant, or as facilitator for the
    group's animateur when none was named; but only if they had joined the
    group by the end of the session, so that a newcomer is not written into an
    older trace. A participant who has since left the group stays in it.
    """
    session = state.session
    people = {FACILITATOR: [], CLIENT: [], CONSULTANT: []}
    seen = set()
    for participation in session.participations.select_related("user"):
        people[participation.role].append(participation.user)
        seen.add(participation.user_id)
    for membership in state.memberships:
        if membership.user_id not in seen and joined_in_time(session, membership.joined_at):
            people[state.roles[membership.user_id]].append(membership.user)
    return {role: sorted(_name(user) for user in users) for role, users in people.items()}


def _card(contribution: Contribution, themes: dict) -> Entry:
    return Entry(
        text=contribution.text,
        author=_name(contribution.author),
        kind=contribution.get_kind_display(),
        theme=themes.get(contribution.theme_id, ""),
    )


def build_report(state: LiveState) -> Report:
    session = state.session
    roles = _roles(state)
    kept = [c for c in state.contributions if c.tag == ContributionTag.Tag.KEEP]
    others = [c for c in state.contributions if c.tag != ContributionTag.Tag.KEEP]
    themes = {theme.pk: theme.name for theme in state.themes}
    # A session « sans trace » shows what its client chose to keep: its
    # learnings are each person's, in their own carnet, and so is the action
    # plan of a session that kept nothing (the client's).
    untraced = session.no_trace
    # Each validated wording but the one that stands (DemandVersion).
    earlier = list(session.demand_versions.all())
    if earlier and earlier[-1].validated_at == session.demand_validated_at:
        earlier = earlier[:-1]
    return Report(
        group=session.group.name,
        scheduled_at=session.scheduled_at,
        facilitator=", ".join(roles[FACILITATOR]),
        client=", ".join(roles[CLIENT]),
        consultants=roles[CONSULTANT],
        title=session.expose_title,
        demand=session.demand_text,
        demand_validated=session.demand_validated_at is not None,
        earlier_demands=[Wording(text=v.text, validated_at=v.validated_at) for v in earlier],
        themes=list(themes.values()),
        kept=[_card(c, themes) for c in kept],
        others=[_card(c, themes) for c in others]
        if session.report_all_cards and not untraced
        else None,
        actions=[
            Action(
                text=a.text,
                due_date=a.due_date,
                status=a.status,
                status_label=a.get_status_display(),
            )
            for a in (state.actions if session.keeps_contract else [])
        ],
        learnings=[]
        if untraced
        else [Entry(text=item.text, author=_name(item.author)) for item in state.learnings],
        feedback_average=state.feedback_average,
        feedback_count=state.feedback_count,
        no_trace=untraced,
        kept_label=session.get_kept_display() if untraced else "",
        keeps_contract=session.keeps_contract,
        keeps_cards=session.keeps_cards,
    )


def _markdown_literal(value):
    if isinstance(value, str):
        return markdown_literal(value)
    if isinstance(value, list):
        return [_markdown_literal(item) for item in value]
    if dataclasses.is_dataclass(value):
        changes = {
            f.name: _markdown_literal(getattr(value, f.name)) for f in dataclasses.fields(value)
        }
        return dataclasses.replace(value, **changes)
    return value


@login_required
@require_GET
def session_report(request, code):
    session, role = get_session_for(request, code)
    if not session.is_closed:
        # Members already see the session live; its trace exists once it is closed.
        return redirect("session_detail", code=session.code)
    if not was_there(session, request.user):
        return not_there(request, session)
    state = load_state(session.pk)
    context = {
        "session": state.session,
        "group": state.session.group,
        "report": build_report(state),
        "is_client": role == CLIENT,
    }
    return render(request, "sessions/report.html", context)


@login_required
@require_GET
def session_report_markdown(request, code):
    session, _role = get_session_for(request, code)
    if not session.is_closed:
        # A download has no page to send the person to: there is no file yet.
        raise Http404
    if not was_there(session, request.user):
        # The file exists, not for them: the same page as the report says why.
        return not_there(request, session)
    report = build_report(load_state(session.pk)).for_markdown()
    text = render_to_string("sessions/report.md", {"report": report})
    response = HttpResponse(text, content_type="text/markdown; charset=utf-8")
    day = timezone.localtime(session.scheduled_at).date().isoformat()
    response["Content-Disposition"] = f'attachment; filename="compte-rendu-{day}.md"'
    return response


@login_required
@require_POST
def report_cards_toggle(request, code):
    session, _role = get_session_for(request, code)
    # The form says the wanted state rather than "toggle": a double click or a
    # resent form leaves the report as the client last saw it.
    show_all = request.POST.get("show_all") == "1"
    try:
        services.report_cards_set(session=session, by=request.user, show_all=show_all)
    except ValidationError as error:
        messages.error(request, error.messages[0])
        return redirect("session_detail", code=session.code)
    if show_all:
        messages.success(request, _("Le compte rendu montre aussi les cartes non retenues."))
    else:
        messages.success(request, _("Le compte rendu ne montre que les cartes retenues."))
    return redirect("session_report", code=session.code)
