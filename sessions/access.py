"""Who sees a session: the members and facilitator of its group, no one else."""

from django.http import Http404, HttpRequest

from groups.models import Membership
from sessions.models import Session
from sessions.roles import role_of


def get_session_for(request: HttpRequest, code: str) -> tuple[Session, str]:
    """The session and the request user's role in it; 404 for anyone else."""
    session = Session.objects.select_related("group").filter(code=code).first()
    if session is None:
        raise Http404
    if not Membership.objects.filter(group=session.group, user=request.user).exists():
        raise Http404
    return session, role_of(session, request.user)
