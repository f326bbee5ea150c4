"""Who sees a session: the members and facilitator of its group, no one else."""

from django.db.models import OuterRef, Subquery
from django.http import Http404, HttpRequest

from groups.models import Membership
from sessions.models import Session
from sessions.roles import role_of


def session_for_member(user, code: str) -> Session | None:
    """The session if `user` is a member of its group, else None.

    Two queries, whatever follows: the session with its group and the user's
    membership role (`member_role`), then its participations, which `role_of`
    and the services' role checks read from then on.
    """
    if not user.is_authenticated:
        return None
    membership = Membership.objects.filter(group=OuterRef("group"), user=user)
    session = (
        Session.objects.select_related("group")
        .prefetch_related("participations")
        .annotate(member_role=Subquery(membership.values("role")[:1]))
        .filter(code=code, member_role__isnull=False)
        .first()
    )
    if session is not None:
        session.member_role_of = user.pk  # whose membership `member_role` is
    return session


def get_session_for(request: HttpRequest, code: str) -> tuple[Session, str]:
    """The session and the request user's role in it; 404 for anyone else."""
    session = session_for_member(request.user, code)
    if session is None:
        raise Http404
    return session, role_of(session, request.user)
