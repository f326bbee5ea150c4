"""A session « sans trace »: at its closing, what the group does not keep is
deleted for good.

The client chooses, at the last step, what the group keeps (`Session.Kept`):
nothing but the date and the roles; or also the demand and the action plan;
or also the cards they retained (« je retiens »), with their themes. Whatever
they choose, what the others wrote in the session (questions, reformulations,
answers to the demand, the cards not kept; the speaking queue goes at every
closing) and the exposé
are deleted, with the admin's log lines that name them. Each person keeps
what is theirs alone, in their own carnet: their learnings, their private
notes, their rating; the client keeps their actions.

A fixed number of statements, however much the session holds.
"""

from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db.models import Q

from sessions.models import (
    Contribution,
    ContributionTag,
    DemandCheck,
    DemandVersion,
    Participation,
    Question,
    Reformulation,
    Session,
    Theme,
)
from sessions.roles import CLIENT


def erase(session_id: int, kept: str) -> None:
    """Delete what a session « sans trace » does not keep; inside the close's
    transaction, after the session row was closed (and so locked)."""
    client_id = (
        Participation.objects.filter(session_id=session_id, role=CLIENT)
        .values_list("user_id", flat=True)
        .first()
    )
    cards = Contribution.objects.filter(session_id=session_id)
    if kept == Session.Kept.CARDS and client_id is not None:
        retained = ContributionTag.objects.filter(
            user_id=client_id, tag=ContributionTag.Tag.KEEP, contribution__session_id=session_id
        ).values("contribution_id")
        cards = cards.exclude(pk__in=retained)
    gone = [
        Question.objects.filter(session_id=session_id),
        Reformulation.objects.filter(session_id=session_id),
        DemandCheck.objects.filter(session_id=session_id),
        cards,
    ]
    if kept == Session.Kept.NOTHING:
        gone.append(DemandVersion.objects.filter(session_id=session_id))
    doomed = {queryset.model: list(queryset.values_list("pk", flat=True)) for queryset in gone}
    # A theme is kept only with a card in it.
    staying = Contribution.objects.filter(session_id=session_id, theme__isnull=False).exclude(
        pk__in=doomed[Contribution]
    )
    doomed[Theme] = list(
        Theme.objects.filter(session_id=session_id)
        .exclude(pk__in=staying.values("theme_id"))
        .values_list("pk", flat=True)
    )
    _forget_in_admin_log(doomed)
    for model, pks in doomed.items():
        if pks:
            model.objects.filter(pk__in=pks).delete()
    # A kept card keeps the client's tag alone: a previous client's are theirs,
    # and go with the rest.
    ContributionTag.objects.filter(contribution__session_id=session_id).exclude(
        user_id=client_id
    ).delete()
    erased = {"expose_title": "", "expose_summary": "", "report_all_cards": False}
    if kept == Session.Kept.NOTHING:
        erased |= {"demand_text": "", "demand_validated_at": None, "demand_reopened_at": None}
    Session.objects.filter(pk=session_id).update(**erased)


def _forget_in_admin_log(doomed: dict) -> None:
    """The admin's history names an object by its text (`Authored.__str__`):
    its lines about the rows deleted go with them. One statement."""
    doomed = {model: pks for model, pks in doomed.items() if pks}
    if not doomed:
        return
    content_types = ContentType.objects.get_for_models(*doomed)
    condition = Q()
    for model, pks in doomed.items():
        condition |= Q(content_type=content_types[model], object_id__in=[str(pk) for pk in pks])
    LogEntry.objects.filter(condition).delete()
