"""A person's carnet de bord, read in a fixed number of queries.

Everything here is filtered by author or by the person's own client sessions:
the carnet never shows what someone else keeps private (notes, and tags,
which are always the reader's own).
"""

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

from django.db import connection
from django.db.models import Exists, OuterRef, Prefetch, Q

from sessions.models import (
    ActionItem,
    ActionUpdate,
    Contribution,
    ContributionTag,
    Feedback,
    Learning,
    Participation,
    PrivateNote,
    Question,
    Session,
)


@dataclass
class Entry:
    """One session seen from one person's seat."""

    session: Session
    role: str
    questions: list = field(default_factory=list)
    # Mine and those I tagged, or all when I am the client; `tag` is mine.
    contributions: list = field(default_factory=list)
    learnings: list = field(default_factory=list)
    notes: list = field(default_factory=list)
    feedback: Feedback | None = None
    actions: list = field(default_factory=list)  # mine: when I was the client

    @property
    def role_label(self):
        return Participation.Role(self.role).label

    @property
    def is_client(self):
        return self.role == Participation.Role.CLIENT

    @property
    def received(self):
        """Whether the cards listed are others' (I am, or was, the client)."""
        return self.is_client or any(card.tag for card in self.contributions)


def _by_session(objects):
    grouped = defaultdict(list)
    for obj in objects:
        grouped[obj.session_id].append(obj)
    return grouped


def load_logbook(user) -> list[Entry]:
    """Every session I took part in (live or closed), newest first."""
    participations = list(
        Participation.objects.filter(user=user)
        .exclude(session__status=Session.Status.PLANNED)
        .select_related("session__group")
        .order_by("-session__scheduled_at")
    )
    session_ids = [p.session_id for p in participations]
    client_ids = {p.session_id for p in participations if p.role == Participation.Role.CLIENT}

    questions = _by_session(Question.objects.filter(session__in=session_ids, author=user))
    # Mine, every card of a session where I am the client, and the cards I
    # tagged while I was (the facilitator may have named another client
    # since); each with my own tag, never anyone else's.
    tagged_by_me = ContributionTag.objects.filter(contribution=OuterRef("pk"), user=user)
    contributions = _by_session(
        Contribution.objects.filter(session__in=session_ids)
        .filter(Q(author=user) | Q(session__in=client_ids) | Q(Exists(tagged_by_me)))
        .with_tag_of(user.pk)
        .select_related("author", "theme")
    )
    learnings = _by_session(Learning.objects.filter(session__in=session_ids, author=user))
    notes = _by_session(PrivateNote.objects.filter(session__in=session_ids, author=user))
    feedbacks = {
        f.session_id: f for f in Feedback.objects.filter(session__in=session_ids, author=user)
    }
    # Mine wherever I wrote them: a client replaced during a session keeps
    # the actions they had written.
    actions = _by_session(
        ActionItem.objects.filter(session__in=session_ids, author=user).prefetch_related(
            Prefetch("updates", queryset=ActionUpdate.objects.order_by("-created_at"))
        )
    )
    return [
        Entry(
            session=p.session,
            role=p.role,
            questions=questions[p.session_id],
            contributions=contributions[p.session_id],
            learnings=learnings[p.session_id],
            notes=notes[p.session_id],
            feedback=feedbacks.get(p.session_id),
            actions=actions[p.session_id],
        )
        for p in participations
    ]


def open_actions(user):
    """My actions still à faire or en cours, the oldest due first."""
    return (
        ActionItem.objects.filter(
            author=user, status__in=[ActionItem.Status.TODO, ActionItem.Status.DOING]
        )
        .select_related("session__group")
        .order_by("due_date", "created_at")
    )


@dataclass
class Hit:
    kind: str
    text: str
    session: Session | None
    anchor: str = ""


def _matching(queryset, fields, q):
    """PostgreSQL full-text search (French) where available, else a substring match."""
    if connection.vendor == "postgresql":
        from django.contrib.postgres.search import SearchQuery, SearchVector

        return queryset.annotate(search=SearchVector(*fields, config="french")).filter(
            search=SearchQuery(q, config="french", search_type="websearch")
        )
    condition = Q()
    for name in fields:
        condition |= Q(**{f"{name}__icontains": q})
    return queryset.filter(condition)


def search_logbook(user, q: str) -> list[Hit]:
    """What I wrote (and my own client sessions' exposé and demand) matching `q`."""
    mine = {"author": user}
    sources = [
        ("note", PrivateNote.objects.filter(**mine), ["text"]),
        ("learning", Learning.objects.filter(**mine), ["text"]),
        ("question", Question.objects.filter(**mine), ["text"]),
        ("contribution", Contribution.objects.filter(**mine), ["text"]),
        ("action", ActionItem.objects.filter(**mine), ["text", "progress_note"]),
    ]
    hits = []
    for kind, queryset, fields in sources:
        for obj in _matching(queryset.select_related("session__group"), fields, q)[:50]:
            hits.append(Hit(kind, obj.text, obj.session, anchor=f"{kind}-{obj.code}"))
    client_sessions = Session.objects.filter(
        participations__user=user, participations__role=Participation.Role.CLIENT
    ).select_related("group")
    for session in _matching(client_sessions, ["expose_title", "expose_summary", "demand_text"], q):
        text = session.expose_title or session.demand_text
        hits.append(Hit("expose", text, session, anchor=f"session-{session.code}"))
    undated = dt.datetime.min.replace(tzinfo=dt.UTC)
    hits.sort(key=lambda hit: hit.session.scheduled_at if hit.session else undated, reverse=True)
    return hits
