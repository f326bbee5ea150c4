"""Who sees a session: the members and facilitator of its group, no one else."""

from django.http import Http404, HttpRequest

from groups.models import Membership
from sessions.models import Session


def get_session_for(request: HttpRequest, code: str) -> tuple[Session, Membership]:
    session = Session.objects.select_related("group").filter(code=code).first()
    if session is None:
        raise Http404
    membership = Membership.objects.filter(group=session.group, user=request.user).first()
    if membership is None:
        raise Http404
    return session, membership
