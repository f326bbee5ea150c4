"""The one place that decides who sees a group: members and its facilitator."""

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest

from groups.models import Group, Membership


def get_group_for(
    request: HttpRequest, code: str, *, facilitator: bool = False
) -> tuple[Group, Membership]:
    """The group and the request user's membership; 404 for anyone else.

    A stranger learns nothing, not even that the group exists. With
    `facilitator=True`, a member who is not the animateur gets 403.
    """
    membership = (
        Membership.objects.select_related("group")
        .filter(group__code=code, user=request.user)
        .first()
    )
    if membership is None:
        raise Http404
    if facilitator and not membership.is_facilitator:
        raise PermissionDenied
    return membership.group, membership
