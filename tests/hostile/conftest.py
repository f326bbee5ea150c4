"""Hostile input: the hypothesis profiles and the world every example posts into.

Profiles. `hostile` (the default) is derandomized: every run, on a laptop or
on CI, tries the same examples, so a failure is reproducible and CI never goes
red on a new random draw. `hostile-explore` draws fresh examples, ten times as
many: run it by hand to look further,
`HOSTILE_PROFILE=hostile-explore pytest tests/hostile`, and turn what it finds
into fixed tests. Neither keeps an example database (`database=None`): nothing
is written into the checkout.

Each example runs inside a transaction rolled back at its end (`one_example`),
so every example starts from the same world whatever the previous one did,
and "nothing half-saved" compares the whole of our tables before and after.
"""

import contextlib
import datetime as dt
import logging
import os

import pytest
from django.apps import apps
from django.contrib.auth.tokens import default_token_generator
from django.db import transaction
from django.test import Client
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from hypothesis import HealthCheck, settings

from groups.models import CalendarFeed, Cycle, Invitation, Membership, Topic
from sessions.models import (
    ActionItem,
    Contribution,
    HandRaise,
    Participation,
    PrivateNote,
    Question,
    Session,
    Theme,
)
from sessions.steps import Step
from tests.conftest import go_live

_COMMON = {
    "deadline": None,
    "database": None,
    "print_blob": True,
    "suppress_health_check": [
        # The world is built once per test, each example rolls back its changes.
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
}
settings.register_profile("hostile", derandomize=True, **_COMMON)
settings.register_profile("hostile-explore", derandomize=False, **_COMMON)
PROFILE = os.environ.get("HOSTILE_PROFILE", "hostile")
EXPLORE_FACTOR = 10 if PROFILE == "hostile-explore" else 1


def examples(count: int) -> settings:
    """The chosen profile, with `count` examples (more when exploring)."""
    return settings(settings.get_profile(PROFILE), max_examples=count * EXPLORE_FACTOR)


OUR_APPS = ("groups", "codev_sessions")


def snapshot() -> dict:
    """Every row of our tables: "nothing half-saved" compares two of these."""
    return {
        model._meta.label: list(model.objects.order_by("pk").values_list())
        for model in apps.get_models()
        if model._meta.app_label in OUR_APPS
    }


@contextlib.contextmanager
def one_example():
    with transaction.atomic():
        yield
        transaction.set_rollback(True)


@pytest.fixture
def hostile_client():
    # A 500 comes back as a response (and an ERROR log), not as an exception:
    # the test then says which input caused it.
    return Client(raise_request_exception=False)


@pytest.fixture
def server_errors(caplog):
    """ERROR records logged while serving (Django logs every 500 there).

    Not django.security's: Django logs a refused suspicious request there (an
    over-long redirect, too many fields) at ERROR, and answers it with a 400.
    """
    caplog.set_level(logging.WARNING)

    def errors():
        return [
            r
            for r in caplog.records
            if r.levelno >= logging.ERROR and not r.name.startswith("django.security.")
        ]

    errors.clear = caplog.clear
    return errors


@pytest.fixture
def world(group, planned_session, facilitator, client_user, consultants, outsider):
    """One of each object a URL can name, all in « Groupe test »."""
    session = planned_session
    previous = Session.objects.create(
        group=group,
        scheduled_at=timezone.now() - dt.timedelta(days=30),
        status=Session.Status.CLOSED,
        started_at=timezone.now() - dt.timedelta(days=30),
        closed_at=timezone.now() - dt.timedelta(days=30, hours=-2),
        created_by=facilitator,
    )
    Participation.objects.create(session=previous, user=facilitator, role="facilitator")
    Participation.objects.create(session=previous, user=client_user, role="client")
    # Everyone was a member when it was held: its content is theirs to read.
    Membership.objects.filter(group=group).update(joined_at=previous.scheduled_at)
    author = consultants[0]
    feed, _created = CalendarFeed.objects.get_or_create(user=client_user)
    return {
        "group": group,
        "session": session,
        "closed_session": previous,
        "users": {
            "facilitator": facilitator,
            "client": client_user,
            "consultant": author,
            "outsider": outsider,
        },
        "question": Question.objects.create(session=session, author=author, text="Depuis quand ?"),
        "contribution": Contribution.objects.create(
            session=session, author=author, text="J'ai vécu la même chose."
        ),
        "theme": Theme.objects.create(session=session, author=facilitator, name="Délais"),
        "hand": HandRaise.objects.create(session=session, author=author),
        "note": PrivateNote.objects.create(session=previous, author=client_user, text="À relire"),
        "action": ActionItem.objects.create(
            session=previous, author=client_user, text="Parler à mon équipe"
        ),
        "topic": Topic.objects.create(group=group, proposed_by=author, title="Un sujet du stock"),
        "invitation": Invitation.objects.create(group=group, invited_by=facilitator),
        "membership": group.memberships.get(user=consultants[3]),
        "uidb64": urlsafe_base64_encode(force_bytes(client_user.pk)),
        "reset_token": default_token_generator.make_token(client_user),
        "feed_token": feed.token,
        # A cycle named by its number in the URL; its sessions are not all held.
        "cycle": str(
            Cycle.objects.create(
                group=group, number=1, planned_sessions=5, launch_at=timezone.now()
            ).number
        ),
    }


def set_stage(session: Session, stage: str) -> None:
    """Put the session in `stage`: planned, closed, or live at one step."""
    now = timezone.now()
    if stage == "planned":
        fields = {"status": Session.Status.PLANNED, "step": ""}
    elif stage == "closed":
        fields = {"status": Session.Status.CLOSED, "step": Step.LEARNINGS, "closed_at": now}
    else:
        # With the retour, as the planned session was made (the model's
        # default): every step of STAGES is one the session can be at.
        go_live(session, stage, include_retour=True)
        if stage not in (Step.CONTRIBUTIONS, Step.ACTION_PLAN, Step.LEARNINGS):
            return
        fields = {"demand_text": "comprendre mon équipe", "demand_validated_at": now}
    Session.objects.filter(pk=session.pk).update(**fields)
    session.refresh_from_db()


STAGES = ["planned", *Step.values, "closed"]
