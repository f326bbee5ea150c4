"""The session page and the broadcast cost a fixed number of queries, however
much the session holds: a long contributions round must not slow every phone.
"""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from sessions import broadcast
from sessions.models import (
    ActionItem,
    Contribution,
    ContributionTag,
    DemandCheck,
    HandRaise,
    Learning,
    PrivateNote,
    Question,
    Session,
    Theme,
)
from sessions.steps import Step
from tests.conftest import go_live
from tests.shown import shown

# Measured (SQLite), the same for 5 and for 50 of everything. The facilitator's
# page also renders the roles form; the retour step reads the previous plan and
# the client's action plan looks up the next session's date (one query each).
# The broadcast reads the state once and renders the three audiences from it.
# +1 for the reader's own actions from the previous session (the retour panel).
# +1 for the themes of step 4 (Metaplan), +1 for the reformulations of step 3,
# whatever their number.
PAGE_QUERIES = {"facilitator": 17, "client_user": 18, "member": 17}
SUMMARY_QUERIES = 15
BROADCAST_QUERIES = 15


def fill(session, *, size, consultants, client_user, group):
    """A validated demand, `size` contributions (half kept), and as much of
    everything else."""
    Session.objects.filter(pk=session.pk).update(
        demand_text="dire non", demand_validated_at=timezone.now()
    )
    Contribution.objects.bulk_create(
        Contribution(
            session=session,
            author=consultants[i % len(consultants)],
            kind=Contribution.Kind.values[i % 3],
            text=f"Contribution {i}",
        )
        for i in range(size)
    )
    ContributionTag.objects.bulk_create(
        ContributionTag(contribution=card, user=client_user, tag="keep")
        for i, card in enumerate(Contribution.objects.filter(session=session).order_by("pk"))
        if i % 2
    )
    Question.objects.bulk_create(
        Question(session=session, author=consultants[i % len(consultants)], text=f"Question {i}")
        for i in range(size)
    )
    # As many themes, every other card in one, a theme made an action.
    Theme.objects.bulk_create(
        Theme(session=session, author=consultants[0], name=f"Thème {i}") for i in range(size)
    )
    themes = list(Theme.objects.filter(session=session))
    contributions = list(Contribution.objects.filter(session=session))
    for i, card in enumerate(contributions[::2]):
        card.theme = themes[i]
    Contribution.objects.bulk_update(contributions, ["theme"])
    ActionItem.objects.create(
        session=session, author=client_user, text="Un thème", theme=themes[-1]
    )
    ActionItem.objects.bulk_create(
        ActionItem(
            session=session,
            author=client_user,
            text=f"Action {i}",
            due_date=dt.date(2031, 1, 1),
            contribution=contributions[i],
        )
        for i in range(size)
    )
    Learning.objects.bulk_create(
        Learning(session=session, author=consultants[i % len(consultants)], text=f"Appris {i}")
        for i in range(size)
    )
    PrivateNote.objects.bulk_create(
        PrivateNote(session=session, author=client_user, text=f"Note {i}") for i in range(size)
    )
    for user in consultants:
        DemandCheck.objects.create(session=session, author=user, verdict="understood")
        HandRaise.objects.create(session=session, author=user)
    # A next session, so the client's action form looks up its default date.
    Session.objects.create(group=group, scheduled_at=session.scheduled_at + dt.timedelta(days=28))


@pytest.fixture
def make_session(group, facilitator, client_user, consultants, planned_session):
    """A live session of `size` contributions (and questions, actions…) at `step`."""

    def _make(size, step):
        session = Session.objects.create(
            group=group, scheduled_at=planned_session.scheduled_at, created_by=facilitator
        )
        for participation in planned_session.participations.all():
            session.participations.create(user=participation.user, role=participation.role)
        # With the retour, so that every step of STEPS is one the session can be at.
        go_live(session, step, include_retour=True)
        fill(
            session,
            size=size,
            consultants=consultants,
            client_user=client_user,
            group=group,
        )
        return session

    return _make


STEPS = list(Step)


def count_queries(action):
    with CaptureQueriesContext(connection) as queries:
        action()
    return len(queries)


@pytest.mark.parametrize("step", STEPS)
@pytest.mark.parametrize("who", ["facilitator", "client_user", "member"])
def test_session_page_queries_do_not_grow_with_the_contributions(
    request, login, make_session, django_assert_max_num_queries, step, who
):
    small, large = make_session(5, step), make_session(50, step)
    client = login(request.getfixturevalue(who))
    client.get(reverse("home"))  # the first request warms caches (content types…)

    def page(session):
        response = client.get(reverse("session_detail", args=[session.code]))
        assert response.status_code == 200
        return response

    assert count_queries(lambda: page(small)) == count_queries(lambda: page(large))
    with django_assert_max_num_queries(PAGE_QUERIES[who]):
        page(small)
    with django_assert_max_num_queries(PAGE_QUERIES[who]):
        response = page(large)
    assert ("Contribution 49" in shown(response.content.decode())) is (
        step == Step.CONTRIBUTIONS or (step == Step.ACTION_PLAN and who == "client_user")
    )


@pytest.mark.parametrize("step", STEPS)
def test_one_broadcast_queries_do_not_grow_with_the_contributions(
    make_session, django_assert_max_num_queries, step
):
    small, large = make_session(5, step), make_session(50, step)

    assert count_queries(lambda: broadcast.session_changed(small.pk)) == count_queries(
        lambda: broadcast.session_changed(large.pk)
    )
    with django_assert_max_num_queries(BROADCAST_QUERIES):
        broadcast.session_changed(small.pk)
    with django_assert_max_num_queries(BROADCAST_QUERIES):
        broadcast.session_changed(large.pk)


def test_closed_session_summary_queries_do_not_grow(
    login, member, make_session, django_assert_max_num_queries
):
    small, large = make_session(5, Step.LEARNINGS), make_session(50, Step.LEARNINGS)
    Session.objects.filter(pk__in=[small.pk, large.pk]).update(status=Session.Status.CLOSED)
    client = login(member)
    client.get(reverse("home"))

    def summary(session):
        response = client.get(reverse("session_detail", args=[session.code]))
        assert "Séance du" in response.content.decode()

    assert count_queries(lambda: summary(small)) == count_queries(lambda: summary(large))
    with django_assert_max_num_queries(SUMMARY_QUERIES):
        summary(small)
    with django_assert_max_num_queries(SUMMARY_QUERIES):
        summary(large)


# A click as the phones post it (htmx): the sign-in's session and user rows,
# then the one guarded write (sessions.guard). On PostgreSQL a card's INSERT is
# part of that statement (`WITH claimed AS (UPDATE …) INSERT …`); SQLite has no
# writing CTE, so there it is a second statement, in a transaction with the
# write (BEGIN and COMMIT, which Django counts). Nothing is read again to draw
# the change (sessions.deltas), and the answer is empty. A card also reads the
# session's themes, for the facilitator's copy (its theme chooser).
CLICK_STATEMENTS = {
    "session_move": 3,
    "contribution_post": 4 if connection.vendor == "postgresql" else 7,
}


# Committed for real (no test transaction around it, so no savepoints): the
# statements counted are the ones a real click sends, broadcast included.
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("url_name", "who", "data"),
    [
        ("session_move", "facilitator", {"from_step": Step.CONTRIBUTIONS}),
        ("contribution_post", "member", {"kind": "suggestion", "text": "Et si ?"}),
    ],
)
def test_a_click_is_a_few_statements_whatever_the_cards(
    request, login, make_session, django_assert_max_num_queries, url_name, who, data
):
    small, large = make_session(5, Step.CONTRIBUTIONS), make_session(50, Step.CONTRIBUTIONS)
    client = login(request.getfixturevalue(who))
    client.get(reverse("home"))

    def post(session):
        Session.objects.filter(pk=session.pk).update(step=Step.CONTRIBUTIONS)
        with (
            django_assert_max_num_queries(CLICK_STATEMENTS[url_name]),
            CaptureQueriesContext(connection) as queries,
        ):
            response = client.post(
                reverse(url_name, args=[session.code]), data, HTTP_HX_REQUEST="true"
            )
        assert response.status_code == 204
        assert response.content == b""
        return [query["sql"].split()[0] for query in queries]

    statements = post(small)
    assert statements == post(large)
    assert len(statements) == CLICK_STATEMENTS[url_name]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("url_name", ["card_place", "theme_create", "theme_tag"])
def test_a_theme_click_costs_the_same_whatever_the_cards_and_themes(
    request, login, make_session, django_assert_max_num_queries, facilitator, client_user, url_name
):
    small, large = make_session(5, Step.CONTRIBUTIONS), make_session(50, Step.CONTRIBUTIONS)
    person = client_user if url_name == "theme_tag" else facilitator
    client = login(person)
    client.get(reverse("home"))

    def post(session):
        theme = Theme.objects.filter(session=session).first()
        card = Contribution.objects.filter(session=session, theme__isnull=True).first()
        args, data = {
            "card_place": ([card.code], {"theme": theme.code}),
            "theme_create": ([], {"name": "Un thème de plus"}),
            "theme_tag": ([theme.code], {"tag": "keep"}),
        }[url_name]
        with CaptureQueriesContext(connection) as queries:
            response = client.post(
                reverse(url_name, args=[session.code, *args]), data, HTTP_HX_REQUEST="true"
            )
        assert response.status_code == 204
        return [query["sql"].split()[0] for query in queries]

    assert post(small) == post(large)
    with django_assert_max_num_queries(14):
        post(small)
