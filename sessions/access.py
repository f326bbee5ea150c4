"""Who sees a session: the members and facilitator of its group, no one else;
and, once it is over, only those who were there read what was said in it."""

from django.db.models import OuterRef, Subquery
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

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
        .annotate(
            member_role=Subquery(membership.values("role")[:1]),
            member_joined_at=Subquery(membership.values("joined_at")[:1]),
        )
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


def joined_in_time(session: Session, joined_at) -> bool:
    """Whether a membership that began at `joined_at` was there for `session`:
    joined before it ended, during it included."""
    return joined_at <= session.held_until


def was_there(session: Session, user) -> bool:
    """Whether `user` may read what was said in `session` (DESIGN.md: its
    content is for the people who were members when it was held).

    A session not over yet is open to every member: whoever is in the group
    while it runs is in the room. A closed one, to those who had joined the
    group by its end, and to its participants (a member who left and came back
    has a new membership, and was there all the same). No query when the
    session comes from `session_for_member`.
    """
    if not session.is_closed:
        return True
    if any(p.user_id == user.pk for p in session.participations.all()):
        return True
    if getattr(session, "member_role_of", None) == user.pk:
        joined_at = session.member_joined_at
    else:
        joined = session.group.memberships.filter(user=user).values_list("joined_at", flat=True)
        joined_at = joined.first()
    return joined_at is not None and joined_in_time(session, joined_at)


def not_there(request: HttpRequest, session: Session) -> HttpResponse:
    """The refusal for a member who joined after `session`: a French page that
    says the session took place, and why its content is not theirs to read."""
    context = {"session": session, "group": session.group}
    return render(request, "sessions/not_there.html", context, status=403)
