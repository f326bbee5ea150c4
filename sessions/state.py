"""A session's whole live state, read once and rendered once per audience.

The broadcast and every (re)connect use these two functions: the regions a
phone receives after a change are exactly those it gets on reconnect.
"""

import hashlib
from dataclasses import dataclass, field
from functools import cached_property

from django.conf import settings
from django.db.models import Avg, Count, Q, Subquery
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.crypto import salted_hmac

from groups.models import Membership, Topic
from sessions import forms, spec, steps
from sessions.models import ActionItem, Participation, Session
from sessions.roles import AUDIENCES, CLIENT, FACILITATOR, ROOM, role_map

# The live page's regions, each a partial of sessions/live.html swapped out of
# band. A change names the regions it touches (services._changed); None is all.
# The flash is not one of them: it is the poster's alone, added to the answer
# to their POST (`render_regions(..., answer=True)`), so no broadcast wipes it.
REGIONS = ("header", "composer", "board", "queue", "presence", "setup")
ROOM_REGIONS = ("header", "board", "queue", "join")
# Regions whose HTML is the same for every audience: rendered once.
SHARED_REGIONS = frozenset({"presence"})


@dataclass
class LiveState:
    session: Session
    memberships: list
    roles: dict
    present_user_ids: set
    # The languages the open sockets read (always with the default one).
    languages: set = field(default_factory=lambda: {settings.LANGUAGE_CODE})
    # Those the open room screens read: the room is drawn in these alone.
    room_languages: set = field(default_factory=set)
    # The board's and the queue's content: left empty when a change touches
    # neither (load_state's `regions`), since nothing renders it then.
    questions: list = field(default_factory=list)
    contributions: list = field(default_factory=list)
    # At step 4 and after: the facilitator's themes, each with its card_list,
    # and the cards in none (« à classer »), in the order they came there.
    themes: list = field(default_factory=list)
    # At step 3: what the consultants understood (« Ce que j'ai compris »).
    reformulations: list = field(default_factory=list)
    unsorted: list = field(default_factory=list)
    actions: list = field(default_factory=list)
    learnings: list = field(default_factory=list)
    checks: list = field(default_factory=list)
    hands: list = field(default_factory=list)
    feedback_count: int = 0
    feedback_average: float | None = None
    previous_actions: list = field(default_factory=list)
    # The setup region's roles form (roles_form_shown): the topics it offers,
    # and before the start the previous session's client (its suggestion).
    topics: list = field(default_factory=list)
    previous_client: object = None

    @cached_property
    def previous(self) -> Session | None:
        """The group's last closed session before this one, read once: the
        retour and the page's own « Mes actions » share it."""
        return previous_session(self.session)

    @property
    def people(self):
        """Each member with their role and whether a socket of theirs is open."""
        return [
            {
                "user": m.user,
                "role": self.roles[m.user_id],
                "role_label": Participation.Role(self.roles[m.user_id]).label,
                "online": m.user_id in self.present_user_ids,
            }
            for m in self.memberships
        ]

    @property
    def client(self):
        return next((m.user for m in self.memberships if self.roles[m.user_id] == "client"), None)

    @property
    def facilitator(self):
        return next(
            (m.user for m in self.memberships if self.roles[m.user_id] == FACILITATOR), None
        )

    @property
    def setup_key(self) -> str:
        """What the setup region (QR code, roles form) is drawn from, beyond the
        status and the audience: while it holds, a broadcast leaves the roles
        form alone (static/js/live.js), half-edited or open."""
        roles = sorted(self.roles.items())
        topics = [topic.pk for topic in self.topics]
        seed = f"{self.session.topic_id}|{roles}|{topics}|{self.previous_client}"
        return hashlib.blake2s(seed.encode(), digest_size=6).hexdigest()

    @property
    def actioned_contribution_ids(self) -> set:
        """The cards already turned into an action (« En faire une action »)."""
        return {action.contribution_id for action in self.actions if action.contribution_id}

    @property
    def understood_count(self):
        return sum(1 for check in self.checks if check.verdict == "understood")


def load_state(session_id: int, regions=None, *, live=False, session=None) -> LiveState:
    """A fixed number of queries, however much the session holds.

    `regions` (None: all) limits the reading to what those regions show: a
    presence change reads neither the board nor the queue. `live` reads, for
    the board, what the live page's panes show (sessions.spec, every step of
    the session); without it (summary, report) everything is read.

    `session`: the row a page's access check has just read, with its group
    and participations (`access.session_for_member`), rather than reading it
    again. Its version was read first, so content written in between can
    only be newer than the page's version says, which a phone heals.
    """
    if session is None:
        session = (
            Session.objects.select_related("group")
            .prefetch_related("participations")
            .get(pk=session_id)
        )
    memberships = list(Membership.objects.filter(group_id=session.group_id).select_related("user"))
    state = LiveState(
        session=session,
        memberships=memberships,
        roles=role_map(session, memberships),
        present_user_ids=set(),
    )
    for user_id, language, screen in session.presences.values_list("user_id", "language", "screen"):
        # A room screen is nobody: its person is online only from a screen of theirs.
        if screen:
            state.room_languages.add(language)
        else:
            state.present_user_ids.add(user_id)
        state.languages.add(language)
    content = set()
    if regions is None or "board" in regions:
        content = spec.board_content(session) if live else spec.ALL_CONTENT
    if "feedback" in content:
        feedback = session.feedbacks.aggregate(count=Count("pk"), average=Avg("rating"))
        state.feedback_count = feedback["count"]
        state.feedback_average = feedback["average"]
    if "questions" in content:
        state.questions = list(session.questions.select_related("author"))
    if "contributions" in content:
        # The client's own tags, and nobody else's: a previous client's stay
        # theirs (ContributionTag). The participation, not `state.client`, so
        # that a report still reads them once the client has left the group.
        client_id = next(
            (p.user_id for p in session.participations.all() if p.role == CLIENT), None
        )
        state.contributions = list(
            session.contributions.with_tag_of(client_id).select_related("author")
        )
    if "themes" in content:
        state.themes = list(session.themes.all())
        state.unsorted = group_by_theme(state.themes, state.contributions)
    if "actions" in content:
        state.actions = list(session.actionitems.select_related("contribution"))
        actioned = {action.theme_id for action in state.actions}
        for theme in state.themes:
            theme.actioned = theme.pk in actioned
    if "learnings" in content:
        state.learnings = list(session.learnings.select_related("author"))
    if "reformulations" in content:
        state.reformulations = list(session.reformulations.select_related("author"))
    if "checks" in content:
        state.checks = list(session.demandchecks.select_related("author"))
    if "previous_actions" in content and live:
        state.previous_actions = kept_actions(state.previous)
    if regions is None or "queue" in regions:
        state.hands = list(session.handraises.select_related("author"))
        for hand in state.hands:
            hand.person = person_token(session.pk, hand.author_id)
    if (regions is None or "setup" in regions) and session.status == Session.Status.PLANNED:
        # Open topics, and the one this session already took.
        state.topics = list(
            session.group.topics.filter(Q(status=Topic.Status.OPEN) | Q(pk=session.topic_id))
        )
        state.previous_client = previous_client(session)
    return state


def group_by_theme(themes, cards) -> list:
    """Give each theme its `card_list`; the cards in none (« à classer »).
    Each list in the order its cards came to it (`Contribution.placed`)."""
    by_theme = {theme.pk: [] for theme in themes}
    unsorted = []
    for card in cards:
        by_theme.get(card.theme_id, unsorted).append(card)
    for theme in themes:
        theme.card_list = sorted(by_theme[theme.pk], key=_placed)
    return sorted(unsorted, key=_placed)


def _placed(card):
    return (card.placed, card.pk)


def person_token(session_id: int, user_id: int) -> str:
    """Who a hand is, for the page of that person alone to recognise it.

    The queue is rendered once per audience, not per person: each hand carries
    this token and the page its own (static/js/live.js), so « Lever la main »
    reads « Baisser la main » on the phone whose hand is up. Not the user's
    id: sequential ids stay out of the pages."""
    return salted_hmac("codev.live.person", f"{session_id}:{user_id}").hexdigest()[:16]


def roles_form_shown(session: Session, audience: str) -> bool:
    """Before the start any member names the roles, then only the facilitator."""
    return not session.is_closed and (not session.is_live or audience == FACILITATOR)


def previous_session(session: Session) -> Session | None:
    """The group's last closed session before this one."""
    return (
        Session.objects.filter(
            group_id=session.group_id,
            status=Session.Status.CLOSED,
            scheduled_at__lt=session.scheduled_at,
        )
        .order_by("-scheduled_at")
        .first()
    )


def previous_client(session: Session):
    """The client of the group's last closed session before this one: often
    the one who facilitates this one. One query."""
    previous = Session.objects.filter(
        group_id=session.group_id,
        status=Session.Status.CLOSED,
        scheduled_at__lt=session.scheduled_at,
    ).order_by("-scheduled_at")
    participation = (
        Participation.objects.filter(session=Subquery(previous.values("pk")[:1]), role="client")
        .select_related("user")
        .first()
    )
    return participation.user if participation else None


def previous_actions(session: Session) -> list:
    """The previous session's action plan, as the group kept it: of a session
    « sans trace » that kept nothing, the client alone has it (their carnet,
    « Mes actions de la séance précédente »)."""
    return kept_actions(previous_session(session))


def kept_actions(previous: Session | None) -> list:
    if previous is None or not previous.keeps_contract:
        return []
    return list(ActionItem.objects.filter(session=previous).select_related("author"))


def render_regions(
    state: LiveState,
    audience: str,
    request=None,
    *,
    bound=None,
    regions=None,
    answer=False,
    **extra,
) -> str:
    """The live page's regions (None: all) for one audience, as out-of-band swaps.

    `answer`: the answer to a person's own POST, which adds their flash (empty
    after a success, so acting again clears an earlier refusal).
    """
    context = context_for(state, audience, bound=bound) | extra
    if audience == ROOM:
        # The room screen's regions: the header, the board, the queue, and the
        # way in while the session has not started.
        names = ["room-regions"] if regions is None else [n for n in ROOM_REGIONS if n in regions]
    else:
        names = ["regions"] if regions is None else [n for n in REGIONS if n in regions]
    if answer:
        names.append("flash")
    return "".join(
        render_to_string(f"sessions/live.html#{name}", context, request=request) for name in names
    )


class _ServerNowMark:
    """Stands for the server's clock in HTML rendered ahead of sending.

    The countdown corrects a phone's clock with the server time the regions
    carry (static/js/live.js). HTML rendered once and sent later, or to many
    sockets, carries this mark instead; `stamp` puts the time in at sending.
    """

    TEXT = "__codev_server_now__"

    def isoformat(self) -> str:
        return self.TEXT


SERVER_NOW_MARK = _ServerNowMark()


def stamp(html: str) -> str:
    return html.replace(SERVER_NOW_MARK.TEXT, timezone.now().isoformat())


def render_all_audiences(state: LiveState, regions=None) -> dict[str, dict[str, str]]:
    """{language: {audience: html}}, unstamped, for every language a socket of
    the session reads; `{"all": html}` when every region rendered is shared."""
    rendered = {}
    for language in sorted(state.languages):
        with translation.override(language):
            if regions is not None and SHARED_REGIONS.issuperset(regions):
                rendered[language] = {"all": render_regions(state, AUDIENCES[0], regions=regions)}
                continue
            screens = (*AUDIENCES, ROOM) if language in state.room_languages else AUDIENCES
            rendered[language] = {
                audience: render_regions(
                    state, audience, regions=regions, server_now=SERVER_NOW_MARK
                )
                for audience in screens
            }
    return rendered


def next_meeting_day(session: Session):
    """The day of the group's next session after this one, not yet closed: by
    default, an action is due by then. One query."""
    following = (
        Session.objects.filter(group_id=session.group_id, scheduled_at__gt=session.scheduled_at)
        .exclude(status=Session.Status.CLOSED)
        .order_by("scheduled_at")
        .values_list("scheduled_at", flat=True)
        .first()
    )
    return timezone.localtime(following).date() if following else None


def default_forms(state: LiveState, audience: str) -> dict:
    session = state.session
    action_initial = {}
    panes = spec.panes(session, audience)
    shown = {name for pane in panes for name in pane.forms}
    if "action" in shown and (due := next_meeting_day(session)):
        action_initial["due_date"] = due
    makers = {
        "expose": lambda: forms.ExposeForm(
            initial={"title": session.expose_title, "summary": session.expose_summary}
        ),
        "question": forms.QuestionForm,
        "demand": lambda: forms.DemandForm(initial={"text": session.demand_text}),
        "reformulation": forms.ReformulationForm,
        "contribution": forms.ContributionForm,
        "action": lambda: forms.ActionForm(initial=action_initial),
        "kept": lambda: forms.KeptForm(initial={"kept": session.kept}),
        "learning": forms.LearningForm,
        "feedback": forms.FeedbackForm,
    }
    # Only the forms on screen: those of my role's panes (sessions.spec).
    if roles_form_shown(session, audience):
        makers["roles"] = lambda: roles_form(state)
        shown.add("roles")
    return {name: make() for name, make in makers.items() if name in shown}


def roles_form(state: LiveState) -> forms.RolesForm:
    """The roles as they are, drawn from the state already read: no query."""
    people = state.people
    by_role = {person["role"]: person["user"] for person in people}
    session = state.session
    form = forms.RolesForm(
        session=session,
        previous_client=state.previous_client,
        members=[m.user for m in state.memberships],
        topics=state.topics,
        initial={
            "facilitator": by_role.get(FACILITATOR),
            "client": by_role.get("client"),
            "topic": next((t.code for t in state.topics if t.pk == session.topic_id), None),
            "consultants": [p["user"] for p in people if p["role"] == "consultant"],
        },
    )
    if session.is_live:
        # The topic was settled at the start and the exposé is under way: the
        # form only hands roles over (left out, the topic stays as it is).
        for name in ("topic", "topic_title"):
            del form.fields[name]
    return form


def context_for(state: LiveState, audience: str, *, bound=None) -> dict:
    session = state.session
    return base_context(session, audience) | {
        "forms": default_forms(state, audience) | (bound or {}),
        "state": state,
        "panes": spec.panes(session, audience),
        "actioned_ids": state.actioned_contribution_ids,
        "kept": [c for c in state.contributions if c.tag == "keep"],
        "site_url": settings.SITE_URL,
    }


def base_context(session: Session, audience: str) -> dict:
    """What the header and any part of the live page draw from the session row
    alone: a step change renders the header from this, with no query."""
    return {
        "session": session,
        "group": session.group,
        "audience": audience,
        "guide": steps.GUIDES.get(session.step),
        "step_label": steps.Step(session.step).label if session.step else "",
        "server_now": timezone.now(),
        "next_step": session.step
        and steps.following(session.step, include_retour=session.include_retour),
        "previous_step": session.step
        and steps.preceding(session.step, include_retour=session.include_retour),
        "pinned": spec.pins_demand(session),
        # Before the start any member, then the facilitator or the client.
        "can_mark_no_trace": audience != ROOM
        and not session.is_closed
        and (not session.is_live or audience in (FACILITATOR, CLIENT)),
        "countdown": session.shows_countdown(audience),
        "timer_choices": Session.Timer.choices,
        "composer_forms": spec.composer_forms(session, audience),
        "budgets": [
            (steps.Step(step).label, session.step_budgets.get(step, 0)) for step in steps.ORDER
        ],
    }
