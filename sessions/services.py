"""Every write to a session: check step and role, write in one transaction,
bump the session's version and broadcast once the transaction has committed.
"""

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Avg, Count, F
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from groups import cycles
from groups.models import Topic, User
from sessions import broadcast, forms, guard, steps
from sessions.access import session_for_member
from sessions.deltas import Delta, board_state
from sessions.models import (
    MAX_EXTRA_MINUTES,
    ActionItem,
    ActionUpdate,
    Contribution,
    ContributionTag,
    DemandCheck,
    DemandVersion,
    Feedback,
    HandRaise,
    Learning,
    Participation,
    Presence,
    PrivateNote,
    Question,
    Reformulation,
    Session,
    Theme,
)
from sessions.no_trace import erase as erase_untraced
from sessions.roles import AUDIENCES, CLIENT, CONSULTANT, FACILITATOR, role_of
from sessions.state import LiveState, group_by_theme, next_meeting_day, person_token
from sessions.steps import Step


class StepConflict(Exception):
    """The session is no longer at the step the facilitator's click left."""


def _changed(session_id: int) -> None:
    """Bump the version; on commit, broadcast every region: for a change that
    reshapes the page (the start, the close, the roles, a retour's progress)."""
    Session.objects.filter(pk=session_id).update(version=F("version") + 1)
    transaction.on_commit(lambda: broadcast.session_changed(session_id))


def _send(delta: Delta) -> None:
    """On commit, broadcast the change alone (sessions.deltas)."""
    transaction.on_commit(lambda: broadcast.publish_delta(delta))


def _current(session, by) -> Session:
    """The session (given, or by its code) as `by` may see it; 404 for anyone else."""
    if isinstance(session, Session):
        return session
    current = session_for_member(by, session)
    if current is None:
        raise Http404
    return current


def _claim(session, by, *, roles=AUDIENCES, steps=None, checks=(), **conditions) -> guard.Claimed:
    """The guarded write (sessions.guard); when it finds no row, the reason.

    The reason is found by the checks the write stands for, in order, on a
    fresh read: not a member (404), the role (403), the step (a French
    message), then `checks` (each raises its own). If all pass, the session
    changed in between: StepConflict, and the page shows where it is now.
    """
    claimed = guard.claim(session, by, roles=roles, steps=steps, **conditions)
    if claimed is not None:
        return claimed
    current = _current(session.code if isinstance(session, Session) else session, by)
    if set(roles) != set(AUDIENCES):
        _require(current, by, *roles)
    if steps is not None:
        _require_step(current, *steps)
    for check in checks:
        check(current)
    raise StepConflict


def _require(session: Session, user, *allowed_roles: str) -> str:
    role = role_of(session, user)
    if role not in allowed_roles:
        raise PermissionDenied
    return role


def _require_step(session: Session, *allowed_steps: str) -> None:
    if session.status != Session.Status.LIVE:
        raise ValidationError(
            _("La séance n'est pas en cours : rien ne peut y être ajouté."), code="not_live"
        )
    if session.step not in allowed_steps:
        names = ", ".join(str(Step(step).label) for step in allowed_steps)
        raise ValidationError(
            _("Ce n'est pas le moment : cela se fait à l'étape %(steps)s.") % {"steps": names},
            code="wrong_step",
        )


def session_set_roles(*, session, by, facilitator, client, consultants, topic=None, topic_title=""):
    """Name this session's roles; before the start any member may, then the facilitator."""
    if session.is_closed:
        raise ValidationError(_("La séance est terminée."), code="closed")
    if session.is_live:
        _require(session, by, FACILITATOR)
    cycles.check_client_turn(session, client)
    with transaction.atomic():
        session.participations.all().delete()
        Participation.objects.create(session=session, user=facilitator, role=FACILITATOR)
        Participation.objects.create(session=session, user=client, role=CLIENT)
        Participation.objects.bulk_create(
            Participation(session=session, user=user, role=CONSULTANT)
            for user in consultants
            if user not in (facilitator, client)
        )
        if topic is not None:
            Topic.objects.filter(pk=topic.pk).update(status=Topic.Status.TAKEN)
            session.topic = topic
            session.expose_title = session.expose_title or topic.title
        elif topic_title:
            session.expose_title = topic_title
        session.save(update_fields=["topic", "expose_title"])
        _changed(session.pk)
    # The participations this instance may have prefetched are gone.
    session.refresh_from_db()


def session_start(*, session, by, include_retour: bool) -> None:
    session = _current(session, by)
    _require(session, by, FACILITATOR)
    if session.status != Session.Status.PLANNED:
        raise StepConflict
    if not session.participations.filter(role=CLIENT).exists():
        raise ValidationError(_("Choisissez d'abord le client de la séance."), code="no_client")
    first = Step.RETOUR if include_retour else Step.EXPOSE
    now = timezone.now()
    with transaction.atomic():
        moved = Session.objects.filter(pk=session.pk, status=Session.Status.PLANNED).update(
            status=Session.Status.LIVE,
            include_retour=include_retour,
            step=first,
            step_started_at=now,
            started_at=now,
            extra_minutes=0,
        )
        if not moved:
            raise StepConflict
        _changed(session.pk)


def session_move(*, session, by, from_step: str, forward: bool) -> str:
    """Move one step; the POST says which step it leaves, so a double click moves once.

    One guarded UPDATE, and the header alone goes out: every step's panes are
    already on the phones.
    """
    neighbour = steps.following if forward else steps.preceding
    target = neighbour(from_step, include_retour=True) if from_step in steps.ORDER else None
    claimed = None
    if target is not None:
        claimed = guard.claim(
            session,
            by,
            roles=(FACILITATOR,),
            steps=(from_step,),
            # Back to the retour only in a session that has one.
            where=[(f"{guard.column('include_retour')} = %s", [True])]
            if target == Step.RETOUR
            else (),
            values={"step": target, "step_started_at": timezone.now(), "extra_minutes": 0},
        )
    if claimed is None:
        current = _current(session, by)
        _require(current, by, FACILITATOR)
        if current.status != Session.Status.LIVE or from_step != current.step:
            raise StepConflict
        if neighbour(from_step, include_retour=current.include_retour) is None:
            message = (
                _("C'est la dernière étape : il reste à clore la séance.")
                if forward
                else _("C'est la première étape.")
            )
            raise ValidationError(message, code="no_step")
        raise StepConflict
    _send(Delta(claimed).add("header"))
    return target


TIME_CAPPED = _lazy(
    "Cette étape a déjà reçu %(hours)s h de plus, le maximum : le minuteur "
    "continue en dépassement, passez à l'étape suivante quand vous voulez."
)


def session_add_time(*, session, by, minutes: int = 5) -> None:
    """« +5 min » on the current step, up to MAX_EXTRA_MINUTES in all.

    The cap is in the UPDATE's WHERE: two clicks racing at the cap cannot both
    pass it (the second finds the row already updated), and the smallint the
    total lives in can never overflow.
    """
    extra = guard.column("extra_minutes")

    def capped(current):
        if current.extra_minutes > MAX_EXTRA_MINUTES - minutes:
            message = TIME_CAPPED % {"hours": MAX_EXTRA_MINUTES // 60}
            raise ValidationError(message, code="time_capped")

    claimed = _claim(
        session,
        by,
        roles=(FACILITATOR,),
        steps=steps.ORDER,
        where=[(f"{extra} <= %s", [MAX_EXTRA_MINUTES - minutes])],
        values={"extra_minutes": guard.Raw(f"{extra} + %s", (minutes,))},
        checks=[capped],
    )
    _send(Delta(claimed).add("header"))


def session_set_timer(*, session, by, timer: str) -> None:
    """The facilitator changes, live, who sees the step's countdown
    (Session.Timer): the header, for every screen."""
    claimed = _claim(session, by, roles=(FACILITATOR,), steps=steps.ORDER, values={"timer": timer})
    _send(Delta(claimed).add("header"))


def session_close(*, session, by) -> None:
    session = _current(session, by)
    _require(session, by, FACILITATOR)
    _require_step(session, Step.LEARNINGS)
    with transaction.atomic():
        closed = Session.objects.filter(pk=session.pk, status=Session.Status.LIVE).update(
            status=Session.Status.CLOSED, closed_at=timezone.now()
        )
        if not closed:
            raise StepConflict
        HandRaise.objects.filter(session=session).delete()
        # Read under the row lock the close took: a « sans trace » switched
        # or a choice made in between is the one applied.
        no_trace, kept = Session.objects.values_list("no_trace", "kept").get(pk=session.pk)
        if no_trace:
            erase_untraced(session.pk, kept)
        _changed(session.pk)


def session_no_trace_set(*, session, by, no_trace: bool) -> None:
    """Mark the session « sans trace », or no longer, until it closes.

    Before the start any member may, as for the roles; once it runs, the
    facilitator or the client, whose words it protects. Every screen shows
    it (the header): the full state, for a rare click.
    """
    session = _current(session, by)
    if session.is_live:
        _require(session, by, FACILITATOR, CLIENT)
    with transaction.atomic():
        changed = Session.objects.filter(
            pk=session.pk, status__in=(Session.Status.PLANNED, Session.Status.LIVE)
        ).update(no_trace=no_trace)
        if not changed:
            raise ValidationError(
                _("La séance est terminée : ce qu'elle garde est déjà décidé."), code="closed"
            )
        _changed(session.pk)


def session_kept_set(*, session, by, kept: str) -> None:
    """The client chooses, at the last step, what the group keeps of a
    session « sans trace » (Session.Kept); every screen's header says it."""

    def untraced(current):
        if not current.no_trace:
            raise ValidationError(
                _("Cette séance n'est pas « sans trace » : le groupe en garde tout."),
                code="not_no_trace",
            )

    claimed = _claim(
        session,
        by,
        roles=(CLIENT,),
        steps=(Step.LEARNINGS,),
        where=[(f"{guard.column('no_trace')} = %s", [True])],
        values={"kept": kept},
        checks=[untraced],
    )
    _send(Delta(claimed).add("header"))


def expose_save(*, session, by, title: str, summary: str) -> None:
    claimed = _claim(
        session,
        by,
        roles=(CLIENT, FACILITATOR),
        steps=(Step.EXPOSE,),
        values={"expose_title": title, "expose_summary": summary},
    )
    # The form being typed in stays as it is (its pane's key holds); the
    # board shows what was saved, the same for everyone.
    _send(Delta(claimed).replace("board-pane", step=Step.EXPOSE, shared=True))


def question_post(*, session, by, kind: str, text: str) -> Question:
    question = Question(author=by, kind=kind, text=text)
    claimed = _claim(session, by, roles=(CONSULTANT,), steps=(Step.CLARIFICATION,), insert=question)
    _send(
        Delta(claimed).append("questions", "question", step=Step.CLARIFICATION, question=question)
    )
    return question


def question_mark(*, session, by, question: Question, answered=None, hidden=None) -> None:
    """The client marks a question answered; the facilitator hides one."""
    roles = (CLIENT,) if answered is not None else (FACILITATOR,)
    with transaction.atomic():
        claimed = _claim(session, by, roles=roles, steps=(Step.CLARIFICATION,))
        if answered is not None:
            question.answered = answered
        if hidden is not None:
            question.hidden = hidden
        question.save(update_fields=["answered", "hidden"])
    _send(Delta(claimed).replace("question", step=Step.CLARIFICATION, question=question))


def _demand_changed(claimed, *, composer: bool) -> None:
    """The demand's board, the same for all; and each role's demand pane.

    At step 4, the contract reopened, the demand shows in the header, the
    board and every role's composer there: the full state, for a rare click.
    """
    if claimed.session.step == Step.CONTRIBUTIONS:
        transaction.on_commit(lambda: broadcast.session_changed(claimed.session.pk))
        return
    checks = list(
        DemandCheck.objects.filter(session_id=claimed.session.pk).select_related("author")
    )
    delta = Delta(claimed).replace(
        "board-pane",
        step=Step.DEMAND,
        shared=True,
        state=board_state(claimed.session, checks=checks),
    )
    if composer:
        demand = forms.DemandForm(initial={"text": claimed.session.demand_text})
        delta.replace("composer-pane", step=Step.DEMAND, forms={"demand": demand})
    _send(delta)


def _reopened_at_step_4(current):
    if current.step == Step.CONTRIBUTIONS and not current.demand_reopened_at:
        raise ValidationError(
            _("La demande n'est pas rouverte : seul l'animateur peut la rouvrir."),
            code="not_reopened",
        )


def _demand_open(current):
    if current.demand_validated_at:
        raise ValidationError(_("La demande a déjà été validée."), code="validated")
    _reopened_at_step_4(current)


def _demand_steps():
    """The demand is worded at step 3, and at step 4 once reopened: the
    guarded write's condition for it."""
    step, reopened = guard.column("step"), guard.column("demand_reopened_at")
    return (f"({step} = %s OR {reopened} IS NOT NULL)", [str(Step.DEMAND)])


def _has_demand(current):
    if not current.demand_text:
        raise ValidationError(_("Le client n'a pas encore formulé sa demande."), code="no_demand")


def demand_save(*, session, by, text: str) -> None:
    validated_at = guard.column("demand_validated_at")
    with transaction.atomic():
        claimed = _claim(
            session,
            by,
            roles=(CLIENT,),
            steps=(Step.DEMAND, Step.CONTRIBUTIONS),
            where=[(f"{validated_at} IS NULL", []), _demand_steps()],
            values={"demand_text": text},
            checks=[_demand_open],
        )
        # A new wording asks the consultants again.
        DemandCheck.objects.filter(session_id=claimed.session.pk).delete()
        _demand_changed(claimed, composer=True)


def reformulation_post(*, session, by, text: str) -> Reformulation:
    """A consultant says what they understood, while the demand is not settled."""
    reformulation = Reformulation(author=by, text=text)
    claimed = _claim(
        session,
        by,
        roles=(CONSULTANT,),
        steps=(Step.DEMAND,),
        where=[(f"{guard.column('demand_validated_at')} IS NULL", [])],
        checks=[_demand_open],
        insert=reformulation,
    )
    _send(
        Delta(claimed).append(
            "reformulations",
            "reformulation",
            step=Step.DEMAND,
            shared=True,
            reformulation=reformulation,
        )
    )
    return reformulation


def demand_check(*, session, by, verdict: str) -> None:
    with transaction.atomic():
        claimed = _claim(
            session,
            by,
            roles=(CONSULTANT,),
            steps=(Step.DEMAND, Step.CONTRIBUTIONS),
            where=[(f"{guard.column('demand_text')} <> %s", [""]), _demand_steps()],
            checks=[_has_demand, _reopened_at_step_4],
        )
        DemandCheck.objects.update_or_create(
            session_id=claimed.session.pk, author=by, defaults={"verdict": verdict}
        )
        _demand_changed(claimed, composer=False)


def demand_validate(*, session, by) -> None:
    with transaction.atomic():
        claimed = _claim(
            session,
            by,
            roles=(FACILITATOR,),
            steps=(Step.DEMAND, Step.CONTRIBUTIONS),
            where=[(f"{guard.column('demand_text')} <> %s", [""]), _demand_steps()],
            values={"demand_validated_at": timezone.now(), "demand_reopened_at": None},
            checks=[_has_demand, _reopened_at_step_4],
        )
        # Every validated wording is kept, with its time.
        DemandVersion.objects.create(
            session_id=claimed.session.pk,
            text=claimed.session.demand_text,
            validated_at=claimed.session.demand_validated_at,
        )
        _demand_changed(claimed, composer=True)


def demand_reopen(*, session, by) -> None:
    """At step 4 the facilitator reopens the contract (the contributions
    drift): the client may reword it, the consultants answer again, and the
    facilitator validates it anew; the earlier wording stays (DemandVersion)."""
    validated_at = guard.column("demand_validated_at")

    def validated(current):
        if not current.demand_validated_at:
            raise ValidationError(_("La demande n'est pas validée : rien à rouvrir."), code="open")

    with transaction.atomic():
        claimed = _claim(
            session,
            by,
            roles=(FACILITATOR,),
            steps=(Step.CONTRIBUTIONS,),
            where=[(f"{validated_at} IS NOT NULL", [])],
            values={"demand_validated_at": None, "demand_reopened_at": timezone.now()},
            checks=[validated],
        )
        # The consultants answer « comprise / à reformuler » again.
        DemandCheck.objects.filter(session_id=claimed.session.pk).delete()
        _demand_changed(claimed, composer=True)


def contribution_post(*, session, by, kind: str, text: str) -> Contribution:
    card = Contribution(author=by, kind=kind, text=text)
    claimed = _claim(session, by, roles=(CONSULTANT,), steps=(Step.CONTRIBUTIONS,), insert=card)
    card.tag = ""
    # The facilitator's copy says which theme it can go to.
    themes = _theme_choices(claimed.session)
    delta = Delta(claimed)
    delta.append("cards", "card", step=Step.CONTRIBUTIONS, audiences=(CONSULTANT,), card=card)
    delta.append(
        "cards",
        "card",
        step=Step.CONTRIBUTIONS,
        audiences=(FACILITATOR,),
        card=card,
        state=board_state(claimed.session, themes=themes),
    )
    delta.append("cards", "card", step=Step.CONTRIBUTIONS, audiences=(CLIENT,), card=card)
    # Its place in the client's action plan, hidden until they keep it.
    delta.append("retained", "retained", step=Step.ACTION_PLAN, audiences=(CLIENT,), card=card)
    _send(delta)
    return card


def _card_for_client(claimed, card, tag) -> Delta:
    """The card as its client sees it, on the board and in the action plan."""
    card.tag = tag
    actioned = {card.pk} if card.actions.exists() else set()
    delta = Delta(claimed)
    delta.replace("card", step=Step.CONTRIBUTIONS, audiences=(CLIENT,), card=card)
    delta.replace(
        "retained", step=Step.ACTION_PLAN, audiences=(CLIENT,), card=card, actioned_ids=actioned
    )
    return delta


def contribution_tag(*, session, by, contribution: Contribution, tag: str) -> None:
    """The client sorts a card; "" takes their tag off.

    The tag is the person's, not the role's: a client named later starts
    untagged, and this one keeps theirs (ContributionTag). No one else's
    screen shows it: they get the version, and nothing else.
    """
    with transaction.atomic():
        claimed = _claim(session, by, roles=(CLIENT,), steps=(Step.CONTRIBUTIONS, Step.ACTION_PLAN))
        if tag:
            ContributionTag.objects.update_or_create(
                contribution=contribution, user=by, defaults={"tag": tag}
            )
        else:
            ContributionTag.objects.filter(contribution=contribution, user=by).delete()
        delta = _card_for_client(claimed, contribution, tag)
    _send(delta)


# Themes (Metaplan, at step 4): the facilitator names them and puts each card
# in one; the client keeps a whole theme, or makes it an action at step 5.


def _board_at_contributions(session, client_id=None) -> LiveState:
    """What the step-4 pane draws: the themes with their cards, and the cards
    in none; with the tags of `client_id` when the client's pane is drawn."""
    cards = Contribution.objects.filter(session_id=session.pk).select_related("author")
    cards = list(cards.with_tag_of(client_id))
    themes = list(Theme.objects.filter(session_id=session.pk))
    unsorted = group_by_theme(themes, cards)
    return board_state(session, themes=themes, contributions=cards, unsorted=unsorted)


def _theme_choices(session) -> list:
    """The themes a card's chooser lists, on the facilitator's copy of it."""
    return list(Theme.objects.filter(session_id=session.pk).only("code", "name"))


def _facilitator_pane(claimed) -> Delta:
    """The facilitator's step-4 pane: each card's theme chooser lists the themes."""
    state = _board_at_contributions(claimed.session)
    return Delta(claimed).replace(
        "board-pane", step=Step.CONTRIBUTIONS, audiences=(FACILITATOR,), state=state
    )


def _client_id(session) -> int | None:
    client = Participation.objects.filter(session_id=session.pk, role=CLIENT)
    return client.values_list("user_id", flat=True).first()


def _facilitator_themes(session, by) -> guard.Claimed:
    return _claim(session, by, roles=(FACILITATOR,), steps=(Step.CONTRIBUTIONS,))


def theme_create(*, session, by, name: str) -> Theme:
    theme = Theme(author=by, name=name)
    claimed = _claim(session, by, roles=(FACILITATOR,), steps=(Step.CONTRIBUTIONS,), insert=theme)
    theme.card_list, theme.actioned = [], False
    delta = _facilitator_pane(claimed)
    for audience in (CLIENT, CONSULTANT):
        delta.append("themes", "theme", step=Step.CONTRIBUTIONS, audiences=(audience,), theme=theme)
    delta.append(
        "theme-actions", "theme-action", step=Step.ACTION_PLAN, audiences=(CLIENT,), theme=theme
    )
    _send(delta)
    return theme


def theme_rename(*, session, by, theme: Theme, name: str) -> None:
    with transaction.atomic():
        claimed = _facilitator_themes(session, by)
        theme.name = name
        theme.save(update_fields=["name"])
        theme.actioned = theme.actions.exists()
        delta = _facilitator_pane(claimed)
    others = (CLIENT, CONSULTANT)
    delta.replace("theme-name", audiences=others, shared=True, theme=theme)
    delta.replace("theme-action", step=Step.ACTION_PLAN, audiences=(CLIENT,), theme=theme)
    _send(delta)


def theme_remove(*, session, by, theme: Theme) -> None:
    """The theme goes; its cards go back to « à classer », after those already
    there. Every screen's step-4 pane is drawn again: a rare click."""
    with transaction.atomic():
        claimed = _facilitator_themes(session, by)
        Contribution.objects.filter(theme=theme).update(theme=None, placed_at=timezone.now())
        code = theme.code
        theme.delete()
        delta = _facilitator_pane(claimed)
        step = Step.CONTRIBUTIONS
        state = _board_at_contributions(claimed.session, _client_id(claimed.session))
        delta.replace("board-pane", step=step, audiences=(CLIENT,), state=state)
        state = _board_at_contributions(claimed.session)
        delta.replace("board-pane", step=step, audiences=(CONSULTANT,), state=state)
    delta.add("theme-action-gone", audiences=(CLIENT,), code=code)
    _send(delta)


def card_place(*, session, by, contribution: Contribution, theme: Theme | None) -> None:
    """The facilitator puts a card in a theme, or back to « à classer »: it
    leaves its list and comes last in the other, on every screen."""
    with transaction.atomic():
        claimed = _facilitator_themes(session, by)
        if contribution.theme_id == (theme.pk if theme else None):
            delta = Delta(claimed)
        else:
            contribution.theme = theme
            contribution.placed_at = timezone.now()
            contribution.save(update_fields=["theme", "placed_at"])
            delta = _card_moved(claimed, contribution, by)
    _send(delta)


def _card_moved(claimed, card, by) -> Delta:
    session = claimed.session
    tag = ContributionTag.objects.filter(contribution=card, user_id=_client_id(session))
    card.tag = tag.values_list("tag", flat=True).first() or ""
    themes = _theme_choices(session)
    target = f"theme-{card.theme.code}-cards" if card.theme else "cards"
    delta = Delta(claimed)
    delta.add("card-gone", shared=True, code=card.code)
    step = Step.CONTRIBUTIONS
    delta.append(target, "card", step=step, audiences=(CONSULTANT,), card=card)
    delta.append(target, "card", step=step, audiences=(CLIENT,), card=card)
    delta.append(
        target,
        "card",
        step=step,
        audiences=(FACILITATOR,),
        card=card,
        state=board_state(session, themes=themes),
    )
    return delta


def theme_tag(*, session, by, theme: Theme, tag: str) -> None:
    """The client sorts every card of a theme at once ("" takes their tags off)."""
    with transaction.atomic():
        claimed = _claim(session, by, roles=(CLIENT,), steps=(Step.CONTRIBUTIONS, Step.ACTION_PLAN))
        cards = list(theme.cards.all())
        ContributionTag.objects.filter(contribution__in=cards, user=by).delete()
        if tag:
            ContributionTag.objects.bulk_create(
                ContributionTag(contribution=card, user=by, tag=tag) for card in cards
            )
        actioned = set(
            ActionItem.objects.filter(contribution__in=cards).values_list(
                "contribution_id", flat=True
            )
        )
        delta = Delta(claimed)
        for card in cards:
            card.tag = tag
            delta.replace("card", step=Step.CONTRIBUTIONS, audiences=(CLIENT,), card=card)
            delta.replace(
                "retained",
                step=Step.ACTION_PLAN,
                audiences=(CLIENT,),
                card=card,
                actioned_ids=actioned,
            )
    _send(delta)


def action_add(
    *, session, by, text: str, due_date=None, contribution=None, theme=None
) -> ActionItem:
    already = _("Cette contribution est déjà une action du plan.")
    try:
        with transaction.atomic():
            claimed = _claim(session, by, roles=(CLIENT,), steps=(Step.ACTION_PLAN,))
            if contribution is not None and contribution.actions.exists():
                raise ValidationError(already, code="already_an_action")
            if theme is not None and theme.actions.exists():
                raise ValidationError(
                    _("Ce thème est déjà une action du plan."), code="already_an_action"
                )
            if (contribution is not None or theme is not None) and due_date is None:
                due_date = next_meeting_day(claimed.session)
            action = ActionItem.objects.create(
                session_id=claimed.session.pk,
                author=by,
                text=text,
                due_date=due_date,
                contribution=contribution,
                theme=theme,
            )
            if theme is not None:
                theme.actioned = True
                delta = Delta(claimed).replace(
                    "theme-action", step=Step.ACTION_PLAN, audiences=(CLIENT,), theme=theme
                )
            elif contribution is not None:
                tag = ContributionTag.objects.filter(contribution=contribution, user=by)
                tag = tag.values_list("tag", flat=True).first() or ""
                delta = _card_for_client(claimed, contribution, tag)
            else:
                delta = Delta(claimed)
    except IntegrityError:
        # Two taps at once: the other one made it (action_once_per_contribution).
        raise ValidationError(already, code="already_an_action") from None
    delta.append("actions", "action", step=Step.ACTION_PLAN, shared=True, action=action)
    _send(delta)
    return action


def learning_post(*, session, by, text: str) -> Learning:
    learning = Learning(author=by, text=text)
    claimed = _claim(session, by, steps=(Step.LEARNINGS,), insert=learning)
    _send(
        Delta(claimed).append(
            "learnings", "learning", step=Step.LEARNINGS, shared=True, learning=learning
        )
    )
    return learning


def feedback_post(*, session, by, rating: int, comment: str) -> None:
    with transaction.atomic():
        claimed = _claim(session, by, steps=(Step.LEARNINGS,))
        Feedback.objects.update_or_create(
            session_id=claimed.session.pk,
            author=by,
            defaults={"rating": rating, "comment": comment},
        )
        given = Feedback.objects.filter(session_id=claimed.session.pk).aggregate(
            count=Count("pk"), average=Avg("rating")
        )
    state = board_state(
        claimed.session, feedback_count=given["count"], feedback_average=given["average"]
    )
    delta = Delta(claimed)
    # The average is the facilitator's alone.
    delta.replace("feedback-summary", step=Step.LEARNINGS, audiences=(FACILITATOR,), state=state)
    delta.replace(
        "feedback-summary",
        step=Step.LEARNINGS,
        audiences=(CLIENT, CONSULTANT),
        shared=True,
        state=state,
    )
    _send(delta)


def note_post(*, session, by, text: str) -> PrivateNote:
    # Private: nobody else's screen changes, so nothing is broadcast.
    if session.is_closed:
        # Between sessions, notes go to the carnet de bord, not to a closed session.
        raise ValidationError(_("La séance est terminée."), code="closed")
    return PrivateNote.objects.create(session=session, author=by, text=text)


def hand_toggle(*, session, by) -> None:
    with transaction.atomic():
        claimed = _claim(session, by, steps=steps.ORDER)
        session_id = claimed.session.pk
        deleted = list(
            HandRaise.objects.filter(session_id=session_id, author=by).values_list(
                "code", flat=True
            )
        )
        delta = Delta(claimed)
        if deleted:
            HandRaise.objects.filter(session_id=session_id, author=by).delete()
            for code in deleted:
                delta.add("hand-gone", shared=True, code=code)
        else:
            hand, _created = HandRaise.objects.get_or_create(session_id=session_id, author=by)
            hand.person = person_token(session_id, by.pk)
            delta.append("hands", "hand", audiences=(FACILITATOR,), hand=hand)
            delta.append("hands", "hand", audiences=(CLIENT, CONSULTANT), shared=True, hand=hand)
    _send(delta)


def _queue_changed(claimed) -> Delta:
    """The whole queue, for a change that touches more than one hand."""
    session_id = claimed.session.pk
    hands = list(HandRaise.objects.filter(session_id=session_id).select_related("author"))
    for hand in hands:
        hand.person = person_token(session_id, hand.author_id)
    state = board_state(claimed.session, hands=hands)
    return Delta(claimed).replace("queue", state=state)


def floor_give(*, session, by, hand: HandRaise) -> None:
    with transaction.atomic():
        claimed = _claim(session, by, roles=(FACILITATOR,), status=None)
        HandRaise.objects.filter(session_id=claimed.session.pk).update(speaking=False)
        HandRaise.objects.filter(pk=hand.pk).update(speaking=True)
        delta = _queue_changed(claimed)
    _send(delta)


def hand_clear(*, session, by, hand: HandRaise | None = None) -> None:
    """The facilitator clears one hand, or the whole queue."""
    with transaction.atomic():
        claimed = _claim(session, by, roles=(FACILITATOR,), status=None)
        hands = HandRaise.objects.filter(session_id=claimed.session.pk)
        (hands.filter(pk=hand.pk) if hand else hands).delete()
        if hand:
            delta = Delta(claimed).add("hand-gone", shared=True, code=hand.code)
        else:
            delta = _queue_changed(claimed)
    _send(delta)


class TooManySockets(Exception):
    """This person already holds LIVE_SOCKETS_PER_PERSON open sockets on the session.

    A phone, a laptop and a few tabs; more is a script, or a machine left
    reloading, and each socket costs a render and a send at every change.
    """


def presence_join(
    *,
    session_id: int,
    user,
    channel_name: str,
    language: str = "",
    stale_before=None,
    screen: bool = False,
) -> None:
    """The one write a socket makes: presence exists only while it is open.

    It does not bump the version (nothing a person wrote changed); the consumer
    announces it (broadcast.announce_presence). Refused with TooManySockets
    past the cap, counting the rows refreshed since `stale_before` (those of a
    dead process do not hold a seat). The count and the insert are serialized
    per person by a lock on their user row, across processes: two sockets
    opened at once cannot both take the last seat. NO KEY UPDATE, so rows that
    merely refer to the person (a card being posted) are not held up. A room
    screen's socket (`screen`) counts against the person's room screens, not
    their own seats.
    """
    with transaction.atomic():
        list(User.objects.select_for_update(no_key=True).filter(pk=user.pk).values("pk"))
        held = Presence.objects.filter(session_id=session_id, user=user, screen=screen)
        if stale_before is not None:
            held = held.filter(seen_at__gte=stale_before)
        if held.count() >= settings.LIVE_SOCKETS_PER_PERSON:
            raise TooManySockets
        Presence.objects.create(
            session_id=session_id,
            user=user,
            channel_name=channel_name,
            language=language or settings.LANGUAGE_CODE,
            screen=screen,
        )


def presence_leave(*, session_id: int, channel_name: str) -> None:
    Presence.objects.filter(session_id=session_id, channel_name=channel_name).delete()


def presence_refresh(*, channel_names, stale_before) -> set[int]:
    """Mark these sockets as still open; drop the rows nobody refreshed since
    `stale_before` (their process died). The ids of the sessions that lost one."""
    now = timezone.now()
    with transaction.atomic():
        Presence.objects.filter(channel_name__in=channel_names).update(seen_at=now)
        stale = Presence.objects.filter(seen_at__lt=stale_before)
        session_ids = set(stale.values_list("session_id", flat=True))
        if session_ids:
            stale.delete()
    return session_ids


def action_progress(*, action: ActionItem, by, status: str, note: str = "") -> ActionUpdate:
    """The action's owner records where they stand; a live session of the
    group (step 0 « retour ») shows it at once."""
    if action.author_id != by.pk:
        raise PermissionDenied
    now = timezone.now()
    with transaction.atomic():
        update = ActionUpdate.objects.create(action=action, status=status, note=note)
        action.status = status
        action.progress_note = note
        action.progress_at = now
        action.save(update_fields=["status", "progress_note", "progress_at"])
        live = Session.objects.filter(
            group_id=action.session.group_id, status=Session.Status.LIVE
        ).values_list("pk", flat=True)
        for session_id in live:
            _changed(session_id)
    return update


def _check_note_session(by, session) -> None:
    if session is not None and not session.group.memberships.filter(user=by).exists():
        raise PermissionDenied


def logbook_note_create(*, by, text: str, session=None) -> PrivateNote:
    _check_note_session(by, session)
    return PrivateNote.objects.create(author=by, text=text, session=session)


def logbook_note_update(*, note: PrivateNote, by, text: str, session=None) -> None:
    if note.author_id != by.pk:
        raise PermissionDenied
    _check_note_session(by, session)
    note.text = text
    note.session = session
    note.save(update_fields=["text", "session", "updated_at"])


def logbook_note_delete(*, note: PrivateNote, by) -> None:
    if note.author_id != by.pk:
        raise PermissionDenied
    note.delete()


def report_cards_set(*, session, by, show_all: bool) -> None:
    """The client decides whether the compte rendu also shows the cards they did not keep.

    Only once the session is closed: the report is its written trace. No version
    bump and no broadcast: no live screen shows this flag.
    """
    _require(session, by, CLIENT)
    if not session.is_closed:
        raise ValidationError(
            _("Le compte rendu n'existe qu'une fois la séance terminée."), code="not_closed"
        )
    Session.objects.filter(pk=session.pk).update(report_all_cards=show_all)
    session.report_all_cards = show_all
