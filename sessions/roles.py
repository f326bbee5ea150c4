"""Who someone is in a session: the one rule every view, service and socket asks."""

from sessions.models import Participation, Session

FACILITATOR = Participation.Role.FACILITATOR
CLIENT = Participation.Role.CLIENT
CONSULTANT = Participation.Role.CONSULTANT
AUDIENCES = (FACILITATOR, CLIENT, CONSULTANT)
# The room screen (/s/<code>/salle/, a projector or a TV): not a person, not a
# role. It sees what every consultant sees of the board, the header and the
# queue, with no control and nothing private; its own audience in the
# broadcast, drawn only while a room screen is open.
ROOM = "room"


def role_map(session: Session, memberships) -> dict[int, str]:
    """user id → role, for every member of the session's group.

    Members without a participation are consultants ("the other members
    present"); until a session facilitator is named, the group's animateur is.
    """
    roles = {p.user_id: p.role for p in session.participations.all()}
    has_facilitator = FACILITATOR in roles.values()
    result = {}
    for membership in memberships:
        role = roles.get(membership.user_id)
        if role is None:
            role = FACILITATOR if membership.is_facilitator and not has_facilitator else CONSULTANT
        result[membership.user_id] = role
    return result


def role_of(session: Session, user) -> str:
    """One query at most when the session comes from `access.session_for_member`
    (participations prefetched, the user's membership role annotated)."""
    participations = list(session.participations.all())
    for participation in participations:
        if participation.user_id == user.pk:
            return participation.role
    if any(p.role == FACILITATOR for p in participations):
        return CONSULTANT
    if getattr(session, "member_role_of", None) == user.pk:
        is_animateur = session.member_role == "facilitator"
    else:
        is_animateur = session.group.memberships.filter(user=user, role="facilitator").exists()
    return FACILITATOR if is_animateur else CONSULTANT
