"""Writes that touch several rows: each one validates and writes in one transaction."""

from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from groups.models import MAX_MEMBERS, Group, Invitation, Membership, Topic, User


def group_create(*, user: User, creator_role: str, **fields) -> Group:
    with transaction.atomic():
        group = Group.objects.create(created_by=user, **fields)
        Membership.objects.create(
            group=group, user=user, role=creator_role, charter_accepted_at=timezone.now()
        )
    return group


def _lock_group(group: Group) -> Group:
    # Invitations and joins for one group queue up behind this row lock, so two
    # people accepting at the same moment cannot make a ninth member.
    return Group.objects.select_for_update().get(pk=group.pk)


def _check_room_for(group: Group, role: str, *, counting_pending: bool) -> None:
    if role == Membership.Role.FACILITATOR:
        taken = group.memberships.filter(role=role).exists() or (
            counting_pending and group.invitations.pending().filter(role=role).exists()
        )
        if taken:
            raise ValidationError(_("Ce groupe a déjà un animateur."), code="facilitator_taken")
        return
    seats = group.memberships.members().count()
    if counting_pending:
        seats += group.invitations.pending().filter(role=Membership.Role.MEMBER).count()
    if seats >= MAX_MEMBERS:
        raise ValidationError(
            _(
                "Le groupe est complet : un groupe de codéveloppement compte au plus "
                "%(max)d membres (invitations en attente comprises)."
            )
            % {"max": MAX_MEMBERS},
            code="group_full",
        )


def invitation_create(*, group: Group, invited_by: User, email: str = "", role: str) -> Invitation:
    with transaction.atomic():
        group = _lock_group(group)
        _check_room_for(group, role, counting_pending=True)
        if email and group.memberships.filter(user__email__iexact=email).exists():
            raise ValidationError(
                _("%(email)s fait déjà partie du groupe.") % {"email": email}, code="already_member"
            )
        return Invitation.objects.create(
            group=group, invited_by=invited_by, email=email.lower(), role=role
        )


def invitation_check_usable(invitation: Invitation) -> None:
    if invitation.is_used:
        raise ValidationError(_("Cette invitation a déjà été utilisée."), code="used")
    if invitation.is_expired:
        raise ValidationError(
            _("Cette invitation a expiré. Demandez un nouveau lien à un membre du groupe."),
            code="expired",
        )


def invitation_accept(*, invitation: Invitation, user: User) -> Membership:
    """Bring `user` into the invitation's group; the invitation is then spent."""
    with transaction.atomic():
        invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
        invitation_check_usable(invitation)
        group = _lock_group(invitation.group)
        if group.memberships.filter(user=user).exists():
            raise ValidationError(_("Vous faites déjà partie de ce groupe."), code="already_member")
        # The invitation's own seat was counted when it was sent; count it again
        # against current members only, not pending ones.
        _check_room_for(group, invitation.role, counting_pending=False)
        now = timezone.now()
        membership = Membership.objects.create(
            group=group, user=user, role=invitation.role, joined_at=now, charter_accepted_at=now
        )
        invitation.accepted_at = now
        invitation.accepted_by = user
        invitation.save(update_fields=["accepted_at", "accepted_by"])
    return membership


def user_join_by_invitation(*, invitation: Invitation, full_name: str, email: str, password: str):
    """Create an account and its membership together: both or neither."""
    try:
        with transaction.atomic():
            user = User.objects.create_user(email=email, password=password, full_name=full_name)
            invitation_accept(invitation=invitation, user=user)
    except IntegrityError:
        # Two tabs submitting the same address: the unique email wins once.
        raise ValidationError(
            _("Un compte existe déjà avec cette adresse : connectez-vous."), code="email_taken"
        ) from None
    return user


def membership_remove(*, membership: Membership, by: Membership) -> None:
    """The facilitator may remove a member; anyone may remove themselves (leave)."""
    if membership.pk != by.pk and not by.is_facilitator:
        raise PermissionDenied
    membership.delete()


def topic_withdraw(*, topic: Topic, by: User) -> None:
    if topic.proposed_by_id != by.pk:
        raise PermissionDenied
    if topic.status != Topic.Status.OPEN:
        raise ValidationError(_("Ce sujet a déjà été traité en séance."), code="not_open")
    topic.status = Topic.Status.WITHDRAWN
    topic.save(update_fields=["status"])


def account_delete(*, user: User) -> None:
    """Delete a person for good; the models' on_delete rules decide what stays.

    Private notes, learnings, cycle reviews (their shared part too), topics,
    memberships and participations go with them (CASCADE). What they wrote in
    the groups' sessions — questions, contributions, actions, feedback — stays
    for the group's history with no author (SET_NULL), shown as « ancien membre ».

    The address goes too, from wherever it was copied: the invitations that
    brought them or were sent to them (a pending one still opens, as a plain
    link) and the sign-in attempts counted under it.
    """
    with transaction.atomic():
        Invitation.objects.filter(Q(accepted_by=user) | Q(email__iexact=user.email)).update(
            email=""
        )
        for attempts in (AccessAttempt, AccessFailureLog, AccessLog):
            attempts.objects.filter(username__iexact=user.email).delete()
        User.objects.filter(pk=user.pk).delete()
