"""`make bench`: how long a step change takes to reach every screen.

Not a timed test: it asserts only that every screen got the change, and prints
what it measured. It runs the whole path in one process: the POST's service
(the guarded write, then on commit the broadcast: the header drawn once per
audience, one group_send), the channel layer configured by REDIS_URL (the
in-memory layer when unset), and one consumer per socket behind codev.asgi.

    make bench                                    # embedded defaults
    REDIS_URL=redis://127.0.0.1:6379/0 DATABASE_URL=postgres://… make bench
"""

import asyncio
import statistics
import time

import pytest
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

import codev.asgi
from sessions import services
from sessions.models import Contribution
from sessions.steps import Step
from tests.conftest import go_live

pytestmark = [
    pytest.mark.bench,
    pytest.mark.asyncio,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("asgi_application"),
]

SOCKETS = [9, 60, 150]
MOVES = 20
CARDS = 50


@database_sync_to_async
def cookies_for(users):
    result = []
    for user in users:
        client = Client()
        client.force_login(user)
        result.append(
            f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"
        )
    return result


@database_sync_to_async
def prepare(session, consultants):
    go_live(session, Step.CONTRIBUTIONS)
    Contribution.objects.bulk_create(
        Contribution(session=session, author=consultants[i % len(consultants)], text=f"Carte {i}")
        for i in range(CARDS)
    )


@database_sync_to_async
def move(session, facilitator, from_step, forward):
    session.refresh_from_db()
    with CaptureQueriesContext(connection) as queries:
        started = time.perf_counter()
        services.session_move(session=session, by=facilitator, from_step=from_step, forward=forward)
        elapsed = time.perf_counter() - started
    return elapsed, len(queries)


def drain(communicators):
    for communicator in communicators:
        while not communicator.output_queue.empty():
            communicator.output_queue.get_nowait()


async def wait_for(communicator, needle, started):
    while True:
        message = await communicator.receive_from(timeout=30)
        if needle in message:
            return time.perf_counter() - started


def percentile(values, share):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


@pytest.mark.parametrize("sockets", SOCKETS)
async def test_step_change_reaches_every_socket(
    sockets, planned_session, facilitator, client_user, consultants, settings
):
    # Seven people hold every socket here, far past the cap for one person.
    settings.LIVE_SOCKETS_PER_PERSON = sockets
    await get_channel_layer().flush()
    await prepare(planned_session, consultants)
    people = [facilitator, client_user, *consultants]
    cookies = await cookies_for(people)
    communicators = []
    for index in range(sockets):
        communicator = WebsocketCommunicator(
            codev.asgi.application,
            f"/ws/sessions/{planned_session.code}/",
            headers=[
                (b"origin", b"http://testserver"),
                (b"host", b"testserver"),
                (b"cookie", cookies[index % len(cookies)].encode()),
            ],
        )
        connected, _ = await communicator.connect(timeout=30)
        assert connected
        communicators.append(communicator)
    await asyncio.sleep(0.5)
    drain(communicators)

    service_times, deliveries, query_counts = [], [], []
    step = Step.CONTRIBUTIONS
    for index in range(MOVES):
        forward = index % 2 == 0
        target = Step.ACTION_PLAN if forward else Step.CONTRIBUTIONS
        started = time.perf_counter()
        elapsed, queries = await move(planned_session, facilitator, step, forward)
        # One socket at a time, not asyncio.gather: overlapping receive_from
        # calls leave channels' no-op close_old_connections patched in for good
        # (tests/sockets.py). The consumers fill their queues meanwhile, so the
        # slowest socket's message is still read the moment it arrives.
        latencies = [
            await wait_for(c, f'data-step="{target.value}"', started) for c in communicators
        ]
        service_times.append(elapsed)
        query_counts.append(queries)
        deliveries.append(max(latencies))
        step = target
        drain(communicators)

    for communicator in communicators:
        await communicator.disconnect(timeout=10)

    layer = settings.CHANNEL_LAYERS["default"]["BACKEND"].rsplit(".", 1)[-1]
    database = connection.vendor
    ms = 1000
    print(
        f"\n[bench] {sockets:>4} sockets, {CARDS} cards, {MOVES} step changes, "
        f"{layer} + {database}: POST service (write + render + send) median "
        f"{statistics.median(service_times) * ms:.1f} ms; last screen updated median "
        f"{statistics.median(deliveries) * ms:.1f} ms, "
        f"p95 {percentile(deliveries, 0.95) * ms:.1f} ms, max {max(deliveries) * ms:.1f} ms; "
        f"{max(query_counts)} queries per change"
    )
    assert len(deliveries) == MOVES
