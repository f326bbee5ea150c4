"""The codev cycle: as many sessions as members, so that each is client once.

A cycle opens with a launch session (« séance de lancement »: the group
rereads and adopts its charter, sets its format and who facilitates) and
closes with a review (« bilan de cycle »: each member writes what it brought
them, the group decides what comes next). Its sessions are ordinary sessions
that point to it; a session's number in the cycle is its rank by date.

Reads draw a cycle in a fixed number of queries, however many sessions and
cycles the group holds; writes validate and write in one transaction.
"""

import dataclasses
import datetime as dt

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, F, Max, Prefetch, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from groups.models import (
    CharterAdoption,
    Cycle,
    Group,
    Membership,
    SessionFormat,
    Topic,
    User,
)
from sessions.models import CycleReview, Participation, Session
from sessions.steps import budgets_for


def leads(membership: Membership, memberships: list[Membership]) -> bool:
    """Who starts a cycle, runs its launch and records its decision: the
    group's animateur, or any member of a group without one (no hierarchy)."""
    if membership.is_facilitator:
        return True
    return not any(m.is_facilitator for m in memberships)


def require_lead(membership: Membership, memberships: list[Membership]) -> None:
    if not leads(membership, memberships):
        raise PermissionDenied


# ---------------------------------------------------------------- reads


@dataclasses.dataclass
class CycleSession:
    session: Session
    number: int
    client: User | None
    facilitator: User | None

    @property
    def held(self) -> bool:
        return self.session.is_closed


@dataclasses.dataclass
class MemberTurn:
    user: User
    numbers: list[int]  # the sessions of the cycle they are (or were) client of
    held: bool  # client of a session already held

    @property
    def is_client(self) -> bool:
        return bool(self.numbers)


@dataclasses.dataclass
class Overview:
    cycle: Cycle
    sessions: list[CycleSession]
    turns: list[MemberTurn]
    proposed_client: User | None
    proposed_topic: Topic | None
    proposed_facilitator: User | None

    @property
    def held(self) -> int:
        return sum(1 for s in self.sessions if s.held)

    @property
    def planned(self) -> int:
        return self.cycle.planned_sessions

    @property
    def next_session(self) -> CycleSession | None:
        return next((s for s in self.sessions if not s.held), None)

    @property
    def review_open(self) -> bool:
        """The review opens once every session the cycle planned is held."""
        return self.held >= self.planned

    @property
    def waiting(self) -> list[MemberTurn]:
        """Members who have not been client yet in this cycle."""
        return [turn for turn in self.turns if not turn.is_client]


def _roles_prefetch():
    return Prefetch(
        "participations",
        queryset=Participation.objects.filter(
            role__in=(Participation.Role.CLIENT, Participation.Role.FACILITATOR)
        ).select_related("user"),
        to_attr="lead_roles",
    )


def cycle_sessions(cycle: Cycle, sessions=None) -> list[CycleSession]:
    """The cycle's sessions, numbered by date, with their client and facilitator.
    `sessions`: already read with `_roles_prefetch` (else two queries)."""
    if sessions is None:
        sessions = cycle.sessions.prefetch_related(_roles_prefetch()).order_by("scheduled_at", "pk")
    numbered = []
    for number, session in enumerate(sessions, start=1):
        by_role = {p.role: p.user for p in session.lead_roles}
        numbered.append(
            CycleSession(
                session=session,
                number=number,
                client=by_role.get(Participation.Role.CLIENT),
                facilitator=by_role.get(Participation.Role.FACILITATOR),
            )
        )
    return numbered


def overview(
    cycle: Cycle, memberships: list[Membership], open_topics: list[Topic], sessions=None
) -> Overview:
    """The cycle at a glance: its sessions, who has been client and who not
    yet, and whom to propose as the next client (and facilitator, when the
    role rotates). `memberships` and `open_topics` are the page's own lists
    (members with their user, topics with `proposed_by`)."""
    numbered = cycle_sessions(cycle, sessions)
    numbers, held = {}, set()
    for item in numbered:
        if item.client is not None:
            numbers.setdefault(item.client.pk, []).append(item.number)
            if item.held:
                held.add(item.client.pk)
    members = [m for m in memberships if m.role == Membership.Role.MEMBER]
    turns = [
        MemberTurn(user=m.user, numbers=numbers.get(m.user_id, []), held=m.user_id in held)
        for m in members
    ]
    proposed, topic = _propose_client(cycle, turns, open_topics)
    return Overview(
        cycle=cycle,
        sessions=numbered,
        turns=turns,
        proposed_client=proposed,
        proposed_topic=topic,
        proposed_facilitator=_propose_facilitator(cycle, numbered, members, proposed),
    )


def _propose_client(cycle, turns, open_topics) -> tuple[User | None, Topic | None]:
    """A member not yet client in the cycle, whose topic waits the longest at
    the highest urgency; then those with no topic in the backlog, by name.
    Once everyone has been client, nobody, unless the group allows a second
    turn: then whoever was client the fewest times."""
    candidates = [turn for turn in turns if not turn.is_client]
    if not candidates and cycle.repeat_clients:
        fewest = min((len(turn.numbers) for turn in turns), default=0)
        candidates = [turn for turn in turns if len(turn.numbers) == fewest]
    if not candidates:
        return None, None
    # open_topics comes in the backlog's own order: urgency, then age.
    ids = {turn.user.pk for turn in candidates}
    for topic in open_topics:
        if topic.proposed_by_id in ids:
            return topic.proposed_by, topic
    first = min(candidates, key=lambda turn: turn.user.full_name)
    return first.user, None


def _propose_facilitator(cycle, numbered, members, client) -> User | None:
    """With a rotating facilitation, the next facilitator: the last session's
    client (the custom), else a member who has not facilitated in the cycle."""
    if cycle.facilitation != Cycle.Facilitation.ROTATING:
        return None
    done = {item.facilitator.pk for item in numbered if item.facilitator is not None}
    held = [item for item in numbered if item.held]
    last = held[-1].client if held else None
    if last is not None and last.pk not in done and (client is None or last.pk != client.pk):
        return last
    for membership in sorted(members, key=lambda m: m.user.full_name):
        user = membership.user
        if user.pk not in done and (client is None or user.pk != client.pk):
            return user
    return None


def position(session: Session) -> tuple[int, int] | None:
    """(number, planned) of a session in its cycle, « séance 4 sur 7 »: its
    rank by date. One query; `session.cycle` read with it (select_related)."""
    if session.cycle_id is None:
        return None
    earlier = Session.objects.filter(cycle_id=session.cycle_id).filter(
        Q(scheduled_at__lt=session.scheduled_at)
        | Q(scheduled_at=session.scheduled_at, pk__lt=session.pk)
    )
    return earlier.count() + 1, session.cycle.planned_sessions


def cadence_dates(group: Group, count: int, after: dt.datetime) -> list[dt.datetime]:
    """`count` meeting starts from the group's cadence, strictly after `after`."""
    starts = []
    for _index in range(count):
        start = group.next_meeting_start(after)
        if start is None:
            break
        starts.append(start)
        # The next one after this meeting's day.
        after = timezone.make_aware(dt.datetime.combine(timezone.localdate(start), dt.time.max))
    return starts


# ---------------------------------------------------------------- writes


def cycle_start(
    *,
    group: Group,
    by: User,
    planned_sessions: int,
    facilitation: str,
    repeat_clients: bool,
    launch_at: dt.datetime,
    launch_place: str,
    session_dates: list[dt.datetime],
) -> Cycle:
    """Open a cycle and plan its sessions, on the dates given (from the
    cadence, as edited). Refused while another cycle is open."""
    if len(session_dates) != planned_sessions:
        raise ValidationError(_("Indiquez une date pour chaque séance du cycle."), code="dates")
    if any(start <= launch_at for start in session_dates):
        raise ValidationError(
            _("Les séances du cycle viennent après la séance de lancement."), code="order"
        )
    try:
        with transaction.atomic():
            group = Group.objects.select_for_update().get(pk=group.pk)
            if group.cycles.open().exists():
                raise ValidationError(
                    _("Le groupe a déjà un cycle en cours : faites-en d'abord le bilan."),
                    code="open_cycle",
                )
            number = (group.cycles.aggregate(last=Max("number"))["last"] or 0) + 1
            cycle = Cycle.objects.create(
                group=group,
                number=number,
                planned_sessions=planned_sessions,
                facilitation=facilitation,
                repeat_clients=repeat_clients,
                launch_at=launch_at,
                launch_place=launch_place,
                started_by=by,
            )
            Session.objects.bulk_create(
                Session(
                    group=group,
                    cycle=cycle,
                    scheduled_at=start,
                    place=group.default_place,
                    format_minutes=group.default_format,
                    step_budgets=budgets_for(group.default_format),
                    created_by=by,
                )
                for start in sorted(session_dates)
            )
    except IntegrityError:
        # Two tabs starting a cycle at once: the one-open-cycle constraint holds.
        raise ValidationError(
            _("Le groupe a déjà un cycle en cours : faites-en d'abord le bilan."),
            code="open_cycle",
        ) from None
    return cycle


def charter_adopt(*, cycle: Cycle, membership: Membership) -> None:
    """A member's « j'adopte la charte », at the launch session: once."""
    if cycle.charter_adopted_at is not None:
        raise ValidationError(_("La charte du cycle est déjà adoptée."), code="adopted")
    now = timezone.now()
    with transaction.atomic():
        CharterAdoption.objects.get_or_create(
            cycle=cycle, user_id=membership.user_id, defaults={"adopted_at": now}
        )
        Membership.objects.filter(pk=membership.pk).update(charter_accepted_at=now)


def charter_amend(*, cycle: Cycle, charter: str) -> bool:
    """The launch's lead rewords the charter before it is adopted. A changed
    text asks everyone to adopt it again: what they adopted was the old one.
    Returns whether the text changed."""
    if cycle.charter_adopted_at is not None:
        raise ValidationError(_("La charte du cycle est déjà adoptée."), code="adopted")
    with transaction.atomic():
        group = Group.objects.select_for_update().get(pk=cycle.group_id)
        if group.charter.strip() == charter.strip():
            return False
        group.charter = charter
        group.save(update_fields=["charter"])
        cycle.adoptions.all().delete()
    cycle.group.charter = charter
    return True


def cycle_settle(
    *, cycle: Cycle, default_format: int, facilitation: str, repeat_clients: bool
) -> None:
    """The launch's other decisions: the format (the group's, and its planned
    sessions' in the cycle), who facilitates, and whether a member may be
    client twice."""
    with transaction.atomic():
        Cycle.objects.filter(pk=cycle.pk).update(
            facilitation=facilitation, repeat_clients=repeat_clients
        )
        Group.objects.filter(pk=cycle.group_id).update(default_format=default_format)
        cycle.sessions.filter(status=Session.Status.PLANNED).update(
            format_minutes=default_format, step_budgets=budgets_for(default_format), format_name=""
        )
    cycle.facilitation, cycle.repeat_clients = facilitation, repeat_clients
    cycle.group.default_format = SessionFormat(default_format)


def charter_close(*, cycle: Cycle) -> None:
    """The group has adopted its charter for the cycle."""
    if not cycle.adoptions.exists():
        raise ValidationError(
            _("Personne n'a encore adopté la charte : chaque membre l'adopte sur son écran."),
            code="nobody",
        )
    Cycle.objects.filter(pk=cycle.pk, charter_adopted_at__isnull=True).update(
        charter_adopted_at=timezone.now()
    )


def check_client_turn(session: Session, client: User) -> None:
    """A member is client once per cycle, unless the group allows a second turn."""
    if session.cycle_id is None or session.cycle.repeat_clients:
        return
    already = (
        Participation.objects.filter(
            session__cycle_id=session.cycle_id, role=Participation.Role.CLIENT, user=client
        )
        .exclude(session=session)
        .exists()
    )
    if already:
        raise ValidationError(
            _(
                "%(name)s a déjà été client dans ce cycle : chaque membre l'est une fois, "
                "sauf si le groupe en a décidé autrement au lancement."
            )
            % {"name": client},
            code="client_twice",
        )


def review_save(*, cycle: Cycle, author: User, learnt: str, practice: str, shared: str):
    review, _created = CycleReview.objects.update_or_create(
        cycle=cycle,
        author=author,
        defaults={"learnt": learnt, "practice": practice, "shared": shared},
    )
    return review


def cycle_decide(*, cycle: Cycle, decision: str) -> None:
    """The review's outcome: the cycle ends; a new one may start."""
    ended = Cycle.objects.filter(pk=cycle.pk, ended_at__isnull=True).update(
        ended_at=timezone.now(), decision=decision
    )
    if not ended:
        raise ValidationError(_("Le groupe a déjà décidé de la suite de ce cycle."), code="ended")


def reviews_for(user: User) -> list[Cycle]:
    """The cycles of my groups whose review is open or done, each with
    `my_review` (mine, or None): the carnet's « bilans de cycle ». Two queries."""
    found = list(
        Cycle.objects.filter(group__memberships__user=user)
        .annotate(held=Count("sessions", filter=Q(sessions__status=Session.Status.CLOSED)))
        .filter(held__gte=F("planned_sessions"))
        .select_related("group")
        .prefetch_related(
            Prefetch("reviews", queryset=CycleReview.objects.filter(author=user), to_attr="mine")
        )
        .order_by("-started_at", "-pk")
    )
    for cycle in found:
        cycle.my_review = cycle.mine[0] if cycle.mine else None
    return found


def cycle_with_room(group: Group) -> Cycle | None:
    """The group's open cycle, while it has fewer sessions than it planned."""
    cycle = (
        group.cycles.open()
        .annotate(count=Count("sessions"))
        .filter(count__lt=F("planned_sessions"))
        .first()
    )
    return cycle
