"""One person holds at most LIVE_SOCKETS_PER_PERSON sockets on a session (a
phone, a laptop, a few tabs): the next is closed with TOO_MANY_SOCKETS before
it hears anything, across processes, and two opened at once cannot both take
the last seat."""

import datetime as dt
import html
import threading

import pytest
from channels.db import database_sync_to_async
from django.conf import settings
from django.db import connection
from django.urls import reverse
from django.utils import timezone

import codev.asgi
from sessions import services
from sessions.consumers import TOO_MANY_SOCKETS
from sessions.models import Presence
from sessions.services import TooManySockets
from tests.sockets import Communicator, session_cookie


def socket_test(test):
    for mark in [
        pytest.mark.asyncio,
        pytest.mark.django_db(transaction=True),
        pytest.mark.usefixtures("empty_channel_layer", "asgi_application"),
    ]:
        test = mark(test)
    return test


async def open_socket(session, user):
    cookie = f"{settings.SESSION_COOKIE_NAME}={await session_cookie(user)}"
    headers = [(b"origin", b"http://testserver"), (b"host", b"testserver")]
    headers.append((b"cookie", cookie.encode()))
    communicator = Communicator(
        codev.asgi.application, f"/ws/sessions/{session.code}/", headers=headers
    )
    connected, _ = await communicator.connect()
    assert connected
    return communicator


def cap():
    return settings.LIVE_SOCKETS_PER_PERSON


@database_sync_to_async
def seats(session, user):
    return Presence.objects.filter(session=session, user=user).count()


@socket_test
async def test_the_socket_past_the_cap_is_closed_and_hears_nothing(planned_session, member):
    held = [await open_socket(planned_session, member) for _ in range(cap())]
    for communicator in held:
        assert 'id="live-header"' in await communicator.receive_from()

    extra = await open_socket(planned_session, member)

    assert await extra.receive_output() == {
        "type": "websocket.close",
        "code": TOO_MANY_SOCKETS,
    }
    assert await seats(planned_session, member) == cap()
    await extra.disconnect()
    # Its close took nobody else's seat.
    assert await seats(planned_session, member) == cap()
    for communicator in held:
        await communicator.disconnect()


@socket_test
async def test_a_seat_freed_is_taken_by_the_next_socket(planned_session, member):
    held = [await open_socket(planned_session, member) for _ in range(cap())]
    await held.pop().disconnect()

    again = await open_socket(planned_session, member)

    assert 'id="live-header"' in await again.receive_from()
    assert await seats(planned_session, member) == cap()
    for communicator in [*held, again]:
        await communicator.disconnect()


@socket_test
async def test_the_cap_is_per_person(planned_session, member, facilitator):
    held = [await open_socket(planned_session, member) for _ in range(cap())]

    other = await open_socket(planned_session, facilitator)

    assert 'id="live-header"' in await other.receive_from()
    for communicator in [*held, other]:
        await communicator.disconnect()


# The service, under the lock


def fill_seats(session, user, count, *, seen_at=None):
    for index in range(count):
        Presence.objects.create(
            session=session,
            user=user,
            channel_name=f"elsewhere-{user.pk}-{index}",
            seen_at=seen_at or timezone.now(),
        )


def join(session, user, name):
    services.presence_join(
        session_id=session.pk,
        user=user,
        channel_name=name,
        stale_before=timezone.now() - dt.timedelta(seconds=60),
    )


def test_rows_a_dead_process_left_hold_no_seat(planned_session, member):
    fill_seats(
        planned_session,
        member,
        cap(),
        seen_at=timezone.now() - dt.timedelta(minutes=5),
    )

    join(planned_session, member, "fresh")

    assert Presence.objects.filter(channel_name="fresh").exists()


def test_sockets_held_by_another_process_count(planned_session, member):
    fill_seats(planned_session, member, cap())

    with pytest.raises(TooManySockets):
        join(planned_session, member, "one-too-many")


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="a race between processes: SQLite serves one process, whose socket "
    "joins run one after the other in one thread",
)
def test_two_sockets_opened_at_once_cannot_both_take_the_last_seat(planned_session, member):
    fill_seats(planned_session, member, cap() - 1)
    barrier = threading.Barrier(2)
    outcomes = []

    def run(name):
        barrier.wait(timeout=10)
        try:
            join(planned_session, member, name)
            outcomes.append("joined")
        except TooManySockets:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(name,)) for name in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(outcomes) == ["joined", "refused"]
    assert Presence.objects.filter(user=member).count() == cap()


def test_the_live_page_holds_the_banner_a_refused_socket_shows(login, member, planned_session):
    response = login(member).get(reverse("session_detail", args=[planned_session.code]))

    content = html.unescape(response.content.decode())
    banner = f"Cette séance est déjà ouverte sur {cap()} écrans à votre nom"
    assert f'<p id="live-too-many" class="offline" hidden>{banner}' in content
