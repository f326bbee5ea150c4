"""The guarded write (sessions.guard): one UPDATE that checks access, role
and step, bumps the version, and returns the row as it left it."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from groups.models import Membership
from sessions import guard
from sessions.models import Contribution, Participation, Presence, Session
from sessions.roles import AUDIENCES, role_map
from sessions.steps import Step
from tests.conftest import add_member, go_live, make_user


def version(session):
    return Session.objects.values_list("version", flat=True).get(pk=session.pk)


def test_a_claim_bumps_the_version_and_returns_the_row(planned_session, member, group):
    go_live(planned_session, Step.CONTRIBUTIONS)
    Presence.objects.create(session=planned_session, user=member, channel_name="a", language="en")

    with CaptureQueriesContext(connection) as queries:
        claimed = guard.claim(planned_session.code, member, steps=(Step.CONTRIBUTIONS,))

    assert len(queries) == 1
    assert claimed.version == 1 == version(planned_session)
    session = claimed.session
    assert (session.pk, session.step, session.status) == (
        planned_session.pk,
        Step.CONTRIBUTIONS,
        Session.Status.LIVE,
    )
    # Aware datetimes and the JSON budgets, converted as the ORM would.
    assert session.step_started_at == Session.objects.get(pk=session.pk).step_started_at
    assert session.step_budgets == planned_session.step_budgets
    assert (session.group.name, session.group.code) == (group.name, group.code)
    assert claimed.languages == {"fr", "en"}
    assert claimed.members == sorted(group.memberships.values_list("user_id", flat=True))


def test_a_claim_sets_the_values_it_is_given(planned_session, facilitator):
    go_live(planned_session, Step.EXPOSE)

    claimed = guard.claim(
        planned_session,
        facilitator,
        values={
            "expose_title": "Un titre",
            "extra_minutes": guard.Raw('"extra_minutes" + %s', (5,)),
        },
    )

    planned_session.refresh_from_db()
    assert (planned_session.expose_title, planned_session.extra_minutes) == ("Un titre", 5)
    assert (claimed.session.expose_title, claimed.session.extra_minutes) == ("Un titre", 5)


def test_a_claim_saves_the_row_it_carries(planned_session, member):
    go_live(planned_session, Step.CONTRIBUTIONS)
    card = Contribution(author=member, kind="mirror", text="Une carte <b>")

    with CaptureQueriesContext(connection) as queries:
        claimed = guard.claim(planned_session, member, steps=(Step.CONTRIBUTIONS,), insert=card)

    # PostgreSQL writes both in one statement; SQLite in a transaction of two.
    expected = 1 if connection.vendor == "postgresql" else 2
    assert (
        len([q for q in queries if not q["sql"].startswith(("BEGIN", "SAVEPOINT", "RELEASE"))])
        == expected
    )
    assert claimed.version == 1 == version(planned_session)
    saved = Contribution.objects.get()
    assert (card.pk, card.session_id, card._state.adding) == (saved.pk, planned_session.pk, False)
    assert (saved.author, saved.kind, saved.text, saved.code) == (
        member,
        "mirror",
        "Une carte <b>",
        card.code,
    )
    assert saved.created_at == card.created_at is not None


def test_a_refused_claim_saves_nothing(planned_session, member):
    go_live(planned_session, Step.CLARIFICATION)
    card = Contribution(author=member, text="Trop tôt")

    assert guard.claim(planned_session, member, steps=(Step.CONTRIBUTIONS,), insert=card) is None

    assert not Contribution.objects.exists()
    assert card.pk is None
    assert version(planned_session) == 0


@pytest.mark.parametrize(
    ("conditions", "why"),
    [
        ({"steps": (Step.DEMAND,)}, "another step"),
        ({"status": Session.Status.PLANNED}, "another status"),
        ({"roles": ("client",)}, "another role"),
        ({"where": [('"demand_text" <> %s', [""])]}, "a condition of its own"),
    ],
)
def test_a_claim_that_fails_a_condition_writes_nothing(planned_session, member, conditions, why):
    go_live(planned_session, Step.CONTRIBUTIONS)

    assert guard.claim(planned_session, member, **conditions) is None, why
    assert version(planned_session) == 0


def test_a_stranger_claims_nothing(planned_session, outsider):
    go_live(planned_session, Step.CONTRIBUTIONS)

    assert guard.claim(planned_session.code, outsider) is None
    assert guard.claim(planned_session, outsider, roles=("consultant",)) is None
    assert version(planned_session) == 0


@pytest.mark.parametrize(
    "participations",
    [
        "as planned",  # facilitator, client, consultants
        "none",  # the group's animateur facilitates; everyone else consults
        "client only",  # no session facilitator: still the group's animateur
        "another facilitator",  # a member facilitates; the animateur consults
    ],
)
def test_the_role_in_sql_is_the_role_map(planned_session, group, facilitator, participations):
    go_live(planned_session, Step.CONTRIBUTIONS)
    newcomer = make_user("Nina Nouvelle")
    add_member(group, newcomer)
    if participations != "as planned":
        planned_session.participations.exclude(
            role=Participation.Role.CLIENT if participations != "none" else "-"
        ).delete()
    if participations == "another facilitator":
        Participation.objects.create(
            session=planned_session, user=newcomer, role=Participation.Role.FACILITATOR
        )
    memberships = list(Membership.objects.filter(group=group).select_related("user"))
    session = Session.objects.prefetch_related("participations").get(pk=planned_session.pk)
    expected = role_map(session, memberships)

    for membership in memberships:
        user = membership.user
        for role in AUDIENCES:
            claimed = guard.claim(planned_session, user, roles=(role,)) is not None
            assert claimed is (expected[user.pk] == role), (participations, user, role)
