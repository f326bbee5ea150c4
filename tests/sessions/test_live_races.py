"""Two requests at the same instant, from two threads with their own database
connections: the invariants hold in the database, not only in sequence."""

import threading

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from sessions.models import Contribution
from sessions.steps import Step
from tests.conftest import go_live

# `concurrent`: on SQLite the run gets a file database (tests/conftest.py), on
# which the second writer waits for the first, as on PostgreSQL.
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.concurrent]


def at_once(*posts):
    """Run each (user, url, data) POST in its own thread, released together."""
    barrier = threading.Barrier(len(posts))
    statuses = [None] * len(posts)

    clients = []
    for user, _url, _data in posts:
        client = Client()
        client.force_login(user)
        clients.append(client)

    def run(index, client, url, data):
        barrier.wait(timeout=10)
        try:
            statuses[index] = client.post(url, data).status_code
        finally:
            connection.close()

    threads = [
        threading.Thread(target=run, args=(i, clients[i], url, data))
        for i, (_user, url, data) in enumerate(posts)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return statuses


def test_two_consultants_posting_at_the_same_moment_both_cards_are_kept(
    planned_session, consultants
):
    go_live(planned_session, Step.CONTRIBUTIONS)
    url = reverse("contribution_post", args=[planned_session.code])

    statuses = at_once(
        (consultants[0], url, {"kind": "suggestion", "text": "Première carte"}),
        (consultants[1], url, {"kind": "experience", "text": "Seconde carte"}),
    )

    assert statuses == [302, 302]
    texts = set(Contribution.objects.filter(session=planned_session).values_list("text", flat=True))
    assert texts == {"Première carte", "Seconde carte"}
    planned_session.refresh_from_db()
    assert planned_session.version == 2


def test_two_clicks_at_the_same_moment_move_the_step_once(planned_session, facilitator):
    go_live(planned_session, Step.EXPOSE)
    url = reverse("session_move", args=[planned_session.code])
    data = {"from_step": Step.EXPOSE, "direction": "next"}

    statuses = at_once((facilitator, url, data), (facilitator, url, data))

    assert sorted(statuses) == [302, 409]
    planned_session.refresh_from_db()
    assert planned_session.step == Step.CLARIFICATION
    assert planned_session.version == 1
