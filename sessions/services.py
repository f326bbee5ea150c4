"""Every write to a session: check step and role, write in one transaction,
bump the session's version and broadcast once the transaction has committed.
"""

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from groups.models import Topic, User
from sessions import broadcast, steps
from sessions.models import (
    MAX_EXTRA_MINUTES,
    ActionItem,
    ActionUpdate,
    Contribution,
    ContributionTag,
    DemandCheck,
    Feedback,
    HandRaise,
    Learning,
    Participation,
    Presence,
    PrivateNote,
    Question,
    Session,
)
from sessions.roles import CLIENT, CONSULTANT, FACILITATOR, role_of
from sessions.steps import Step


class StepConflict(Exception):
    """The session is no longer at the step the facilitator's click left."""


def _changed(session_id: int, regions=None) -> None:
    """Bump the version; on commit, broadcast the regions touched (None: all)."""
    Session.objects.filter(pk=session_id).update(version=F("version") + 1)
    transaction.on_commit(lambda: broadcast.session_changed(session_id, regions))


# What a change touches on the live page, beyond the flash and the composer.
BOARD = ("board",)
QUEUE = ("queue",)


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
    """Move one step; the POST says which step it leaves, so a double click moves once."""
    _require(session, by, FACILITATOR)
    if session.status != Session.Status.LIVE or from_step != session.step:
        raise StepConflict
    neighbour = steps.following if forward else steps.preceding
    target = neighbour(from_step, include_retour=session.include_retour)
    if target is None:
        message = (
            _("C'est la dernière étape : il reste à clore la séance.")
            if forward
            else _("C'est la première étape.")
        )
        raise ValidationError(message, code="no_step")
    with transaction.atomic():
        moved = Session.objects.filter(
            pk=session.pk, status=Session.Status.LIVE, step=from_step
        ).update(step=target, step_started_at=timezone.now(), extra_minutes=0)
        if not moved:
            raise StepConflict
        _changed(session.pk)
    return target


def session_add_time(*, session, by, minutes: int = 5) -> None:
    """« +5 min » on the current step, up to MAX_EXTRA_MINUTES in all.

    The cap is in the UPDATE's WHERE: two clicks racing at the cap cannot both
    pass it (the second finds the row already updated), and the smallint the
    total lives in can never overflow.
    """
    _require(session, by, FACILITATOR)
    _require_step(session, *steps.ORDER)
    with transaction.atomic():
        added = Session.objects.filter(
            pk=session.pk, extra_minutes__lte=MAX_EXTRA_MINUTES - minutes
        ).update(extra_minutes=F("extra_minutes") + minutes)
        if not added:
            raise ValidationError(
                _(
                    "Cette étape a déjà reçu %(hours)s h de plus, le maximum : le minuteur "
                    "continue en dépassement, passez à l'étape suivante quand vous voulez."
                )
                % {"hours": MAX_EXTRA_MINUTES // 60},
                code="time_capped",
            )
        _changed(session.pk)


def session_close(*, session, by) -> None:
    _require(session, by, FACILITATOR)
    _require_step(session, Step.LEARNINGS)
    with transaction.atomic():
        closed = Session.objects.filter(pk=session.pk, status=Session.Status.LIVE).update(
            status=Session.Status.CLOSED, closed_at=timezone.now()
        )
        if not closed:
            raise StepConflict
        HandRaise.objects.filter(session=session).delete()
        _changed(session.pk)


def expose_save(*, session, by, title: str, summary: str) -> None:
    _require(session, by, CLIENT, FACILITATOR)
    _require_step(session, Step.EXPOSE)
    with transaction.atomic():
        Session.objects.filter(pk=session.pk).update(expose_title=title, expose_summary=summary)
        _changed(session.pk)


def question_post(*, session, by, kind: str, text: str) -> Question:
    _require(session, by, CONSULTANT)
    _require_step(session, Step.CLARIFICATION)
    with transaction.atomic():
        question = Question.objects.create(session=session, author=by, kind=kind, text=text)
        _changed(session.pk, BOARD)
    return question


def question_mark(*, session, by, question: Question, answered=None, hidden=None) -> None:
    """The client marks a question answered; the facilitator hides one."""
    if answered is not None:
        _require(session, by, CLIENT)
        question.answered = answered
    if hidden is not None:
        _require(session, by, FACILITATOR)
        question.hidden = hidden
    _require_step(session, Step.CLARIFICATION)
    with transaction.atomic():
        question.save(update_fields=["answered", "hidden"])
        _changed(session.pk)


def demand_save(*, session, by, text: str) -> None:
    _require(session, by, CLIENT)
    _require_step(session, Step.DEMAND)
    if session.demand_validated_at:
        raise ValidationError(_("La demande a déjà été validée."), code="validated")
    with transaction.atomic():
        Session.objects.filter(pk=session.pk).update(demand_text=text)
        # A new wording asks the consultants again.
        DemandCheck.objects.filter(session=session).delete()
        _changed(session.pk)


def demand_check(*, session, by, verdict: str) -> None:
    _require(session, by, CONSULTANT)
    _require_step(session, Step.DEMAND)
    if not session.demand_text:
        raise ValidationError(_("Le client n'a pas encore formulé sa demande."), code="no_demand")
    with transaction.atomic():
        DemandCheck.objects.update_or_create(
            session=session, author=by, defaults={"verdict": verdict}
        )
        _changed(session.pk)


def demand_validate(*, session, by) -> None:
    _require(session, by, FACILITATOR)
    _require_step(session, Step.DEMAND)
    if not session.demand_text:
        raise ValidationError(_("Le client n'a pas encore formulé sa demande."), code="no_demand")
    with transaction.atomic():
        Session.objects.filter(pk=session.pk).update(demand_validated_at=timezone.now())
        _changed(session.pk)


def contribution_post(*, session, by, kind: str, text: str) -> Contribution:
    _require(session, by, CONSULTANT)
    _require_step(session, Step.CONTRIBUTIONS)
    with transaction.atomic():
        contribution = Contribution.objects.create(session=session, author=by, kind=kind, text=text)
        _changed(session.pk, BOARD)
    return contribution


def contribution_tag(*, session, by, contribution: Contribution, tag: str) -> None:
    """The client sorts a card; "" takes their tag off.

    The tag is the person's, not the role's: a client named later starts
    untagged, and this one keeps theirs (ContributionTag).
    """
    _require(session, by, CLIENT)
    _require_step(session, Step.CONTRIBUTIONS, Step.ACTION_PLAN)
    with transaction.atomic():
        if tag:
            ContributionTag.objects.update_or_create(
                contribution=contribution, user=by, defaults={"tag": tag}
            )
        else:
            ContributionTag.objects.filter(contribution=contribution, user=by).delete()
        _changed(session.pk)


def action_add(*, session, by, text: str, due_date=None, contribution=None) -> ActionItem:
    _require(session, by, CLIENT)
    _require_step(session, Step.ACTION_PLAN)
    already = _("Cette contribution est déjà une action du plan.")
    if contribution is not None and contribution.actions.exists():
        raise ValidationError(already, code="already_an_action")
    try:
        with transaction.atomic():
            action = ActionItem.objects.create(
                session=session, author=by, text=text, due_date=due_date, contribution=contribution
            )
            _changed(session.pk)
    except IntegrityError:
        # Two taps at once: the other one made it (action_once_per_contribution).
        raise ValidationError(already, code="already_an_action") from None
    return action


def learning_post(*, session, by, text: str) -> Learning:
    _require(session, by, FACILITATOR, CLIENT, CONSULTANT)
    _require_step(session, Step.LEARNINGS)
    with transaction.atomic():
        learning = Learning.objects.create(session=session, author=by, text=text)
        _changed(session.pk, BOARD)
    return learning


def feedback_post(*, session, by, rating: int, comment: str) -> None:
    _require(session, by, FACILITATOR, CLIENT, CONSULTANT)
    _require_step(session, Step.LEARNINGS)
    with transaction.atomic():
        Feedback.objects.update_or_create(
            session=session, author=by, defaults={"rating": rating, "comment": comment}
        )
        _changed(session.pk)


def note_post(*, session, by, text: str) -> PrivateNote:
    # Private: nobody else's screen changes, so nothing is broadcast.
    if session.is_closed:
        # Between sessions, notes go to the carnet de bord, not to a closed session.
        raise ValidationError(_("La séance est terminée."), code="closed")
    return PrivateNote.objects.create(session=session, author=by, text=text)


def hand_toggle(*, session, by) -> None:
    _require_step(session, *steps.ORDER)
    with transaction.atomic():
        deleted, _rows = HandRaise.objects.filter(session=session, author=by).delete()
        if not deleted:
            HandRaise.objects.get_or_create(session=session, author=by)
        _changed(session.pk, QUEUE)


def floor_give(*, session, by, hand: HandRaise) -> None:
    _require(session, by, FACILITATOR)
    with transaction.atomic():
        HandRaise.objects.filter(session=session).update(speaking=False)
        HandRaise.objects.filter(pk=hand.pk).update(speaking=True)
        _changed(session.pk, QUEUE)


def hand_clear(*, session, by, hand: HandRaise | None = None) -> None:
    """The facilitator clears one hand, or the whole queue."""
    _require(session, by, FACILITATOR)
    with transaction.atomic():
        hands = HandRaise.objects.filter(session=session)
        (hands.filter(pk=hand.pk) if hand else hands).delete()
        _changed(session.pk, QUEUE)


class TooManySockets(Exception):
    """This person already holds LIVE_SOCKETS_PER_PERSON open sockets on the session.

    A phone, a laptop and a few tabs; more is a script, or a machine left
    reloading, and each socket costs a render and a send at every change.
    """


def presence_join(
    *, session_id: int, user, channel_name: str, language: str = "", stale_before=None
) -> None:
    """The one write a socket makes: presence exists only while it is open.

    It does not bump the version (nothing a person wrote changed); the consumer
    announces it (broadcast.announce_presence). Refused with TooManySockets
    past the cap, counting the rows refreshed since `stale_before` (those of a
    dead process do not hold a seat). The count and the insert are serialized
    per person by a lock on their user row, across processes: two sockets
    opened at once cannot both take the last seat. NO KEY UPDATE, so rows that
    merely refer to the person (a card being posted) are not held up.
    """
    with transaction.atomic():
        list(User.objects.select_for_update(no_key=True).filter(pk=user.pk).values("pk"))
        held = Presence.objects.filter(session_id=session_id, user=user)
        if stale_before is not None:
            held = held.filter(seen_at__gte=stale_before)
        if held.count() >= settings.LIVE_SOCKETS_PER_PERSON:
            raise TooManySockets
        Presence.objects.create(
            session_id=session_id,
            user=user,
            channel_name=channel_name,
            language=language or settings.LANGUAGE_CODE,
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
