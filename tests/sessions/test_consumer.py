"""The live session's socket, through the whole ASGI stack (origin check,
auth from the session cookie, routing): who may listen, and what they hear.
"""

import asyncio
import contextlib
import datetime as dt
import re
from types import SimpleNamespace

import pytest
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone

import codev.asgi
from sessions import broadcast, presence, services
from sessions.consumers import POLICY_VIOLATION
from sessions.models import Contribution, Presence, Session
from sessions.state import SERVER_NOW_MARK
from sessions.steps import Step
from tests.conftest import go_live as put_live
from tests.sockets import Communicator, session_cookie

pytestmark = [
    pytest.mark.asyncio,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("empty_channel_layer", "asgi_application"),
]

ORIGIN = b"http://testserver"


async def open_socket(session, user=None, *, origin=ORIGIN, language=None):
    headers = [(b"origin", origin), (b"host", b"testserver")]
    if user is not None:
        cookie = f"{settings.SESSION_COOKIE_NAME}={await session_cookie(user)}"
        if language:
            cookie += f"; {settings.LANGUAGE_COOKIE_NAME}={language}"
        headers.append((b"cookie", cookie.encode()))
    communicator = Communicator(
        codev.asgi.application, f"/ws/sessions/{session.code}/", headers=headers
    )
    connected, _subprotocol = await communicator.connect()
    return communicator, connected


async def receive_until(communicator, needle, timeout=Communicator.WAIT):
    """The first message that contains `needle`; earlier ones (presence) are skipped."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    seen = []
    while loop.time() < deadline:
        try:
            message = await communicator.receive_from(timeout=deadline - loop.time())
        except TimeoutError:
            break
        if needle in message:
            return message
        seen.append(message)
    raise AssertionError(f"{needle!r} never came; {len(seen)} other messages")


async def drain(communicator):
    """Swallow the state sent on connect and the presence announced a moment
    after the join: from then on the socket hears only what the test causes.

    It waits for that announcement itself, not for a quiet moment: on a busy
    machine the announcement came after the quiet, and a test counting the
    messages of its own change counted it too.
    """
    while True:
        message = await communicator.receive_from()
        if 'id="live-presence"' in message and 'id="live-header"' not in message:
            return


# The shared helper (tests/conftest.py), awaited from the event loop.
go_live = database_sync_to_async(put_live)


@database_sync_to_async
def presences(session):
    return sorted(Presence.objects.filter(session=session).values_list("user_id", flat=True))


@database_sync_to_async
def post_as(user, url_name, session, data):
    client = Client()
    client.force_login(user)
    return client.post(reverse(url_name, args=[session.code]), data).status_code


# Who may listen


async def test_anonymous_socket_is_refused(planned_session):
    communicator, connected = await open_socket(planned_session)

    assert connected is False
    assert await communicator.receive_nothing()
    assert await presences(planned_session) == []
    await communicator.disconnect()


async def test_stranger_socket_is_refused(planned_session, outsider):
    communicator, connected = await open_socket(planned_session, outsider)

    assert connected is False
    assert await communicator.receive_nothing()
    assert await presences(planned_session) == []
    await communicator.disconnect()


async def test_unknown_session_socket_is_refused(member):
    unknown = Session(code="inconnu")

    communicator, connected = await open_socket(unknown, member)

    assert connected is False
    await communicator.disconnect()


async def test_socket_from_another_origin_is_refused(planned_session, member):
    communicator, connected = await open_socket(
        planned_session, member, origin=b"http://evil.example"
    )

    assert connected is False
    assert await communicator.receive_nothing()
    assert await presences(planned_session) == []
    await communicator.disconnect()


async def test_refused_stranger_hears_nothing_when_the_session_moves(
    planned_session, outsider, facilitator
):
    await go_live(planned_session, Step.EXPOSE)
    communicator, connected = await open_socket(planned_session, outsider)
    assert connected is False

    await post_as(facilitator, "session_move", planned_session, {"from_step": Step.EXPOSE})

    assert await communicator.receive_nothing(timeout=0.5)
    await communicator.disconnect()


# What a member hears


@pytest.mark.parametrize("who", ["facilitator", "client_user", "member"])
async def test_member_receives_the_full_state_on_connect(request, planned_session, who):
    await go_live(planned_session, Step.CLARIFICATION)
    user = request.getfixturevalue(who)

    communicator, connected = await open_socket(planned_session, user)

    assert connected is True
    first = await communicator.receive_from()
    # A full state, at the session's version (static/js/live.js).
    assert first.startswith('<template data-sync data-full data-to="0"></template>')
    for region in [
        "live-header",
        "live-composer",
        "live-board",
        "live-queue",
        "live-presence",
    ]:
        assert f'id="{region}"' in first, region
    # A person's flash is theirs: a reconnect must not wipe a refusal they read.
    assert 'id="live-flash"' not in first
    assert '<span class="step-number">2</span> Clarification' in first
    await communicator.disconnect()


async def test_full_state_on_connect_is_rendered_for_the_members_role(
    planned_session, facilitator, member
):
    await go_live(planned_session, Step.CLARIFICATION)

    facilitator_socket, _ = await open_socket(planned_session, facilitator)
    member_socket, _ = await open_socket(planned_session, member)

    assert "Étape suivante" in await facilitator_socket.receive_from()
    member_state = await member_socket.receive_from()
    assert "Étape suivante" not in member_state
    assert "Poser la question" in member_state
    await facilitator_socket.disconnect()
    await member_socket.disconnect()


async def test_member_hears_the_new_step_after_the_facilitators_post(
    planned_session, facilitator, member
):
    await go_live(planned_session, Step.CLARIFICATION)
    communicator, _ = await open_socket(planned_session, member)
    await receive_until(communicator, "Clarification")
    await drain(communicator)

    status = await post_as(
        facilitator, "session_move", planned_session, {"from_step": Step.CLARIFICATION}
    )

    assert status == 302
    pushed = await receive_until(communicator, '<span class="step-number">3</span> Demande')
    # The header alone, from version 0 to 1: every step's panes are on the page.
    assert pushed.startswith('<template data-sync data-from="0" data-to="1"></template>')
    assert 'id="live-header"' in pushed and 'data-step="demand"' in pushed
    for region in ("live-board", "live-composer", "live-queue", "live-presence", "live-setup"):
        assert f'id="{region}"' not in pushed
    await communicator.disconnect()


async def test_member_hears_a_step_moved_through_the_service(
    planned_session, facilitator, client_user
):
    await go_live(planned_session, Step.EXPOSE)
    communicator, _ = await open_socket(planned_session, client_user)
    await drain(communicator)

    await database_sync_to_async(services.session_move)(
        session=planned_session, by=facilitator, from_step=Step.EXPOSE, forward=True
    )

    pushed = await receive_until(communicator, "Clarification")
    assert "vous êtes le client" in pushed
    await communicator.disconnect()


async def test_a_session_start_reaches_a_waiting_member(planned_session, facilitator, member):
    communicator, _ = await open_socket(planned_session, member)
    assert "La séance va commencer" in await communicator.receive_from()
    await drain(communicator)

    await post_as(facilitator, "session_start", planned_session, {})

    await receive_until(communicator, '<span class="step-number">1</span> Exposé')
    await communicator.disconnect()


async def test_consultant_socket_gets_no_tag_buttons_and_client_socket_does(
    planned_session, member, client_user, facilitator
):
    await go_live(planned_session, Step.CONTRIBUTIONS)
    await database_sync_to_async(Contribution.objects.create)(
        session=planned_session, author=member, text="Essayez le tête-à-tête"
    )
    consultant_socket, _ = await open_socket(planned_session, member)
    client_socket, _ = await open_socket(planned_session, client_user)
    facilitator_socket, _ = await open_socket(planned_session, facilitator)
    for socket in [consultant_socket, client_socket, facilitator_socket]:
        await drain(socket)

    await post_as(member, "contribution_post", planned_session, {"kind": "mirror", "text": "Moi"})

    client_push = await receive_until(client_socket, "Moi")
    assert 'name="tag" value="keep"' in client_push
    assert "je retiens" in client_push
    for socket in [consultant_socket, facilitator_socket]:
        push = await receive_until(socket, "Moi")
        # The new card alone: the one already there is not sent again.
        assert "Essayez le tête-à-tête" not in push
        assert 'name="tag"' not in push
        assert "je retiens" not in push
    for socket in [consultant_socket, client_socket, facilitator_socket]:
        await socket.disconnect()


async def test_a_tag_reaches_the_client_alone(planned_session, member, client_user):
    await go_live(planned_session, Step.CONTRIBUTIONS)
    card = await database_sync_to_async(Contribution.objects.create)(
        session=planned_session, author=member, text="Essayez"
    )
    consultant_socket, _ = await open_socket(planned_session, member)
    client_socket, _ = await open_socket(planned_session, client_user)
    await drain(consultant_socket)
    await drain(client_socket)

    await database_sync_to_async(services.contribution_tag)(
        session=planned_session, by=client_user, contribution=card, tag="keep"
    )

    assert "tag-keep" in await receive_until(client_socket, "Essayez")
    # The consultant gets the version, and nothing else: not even the card.
    assert await consultant_socket.receive_from() == (
        '<template data-sync data-from="0" data-to="1"></template>'
    )
    await consultant_socket.disconnect()
    await client_socket.disconnect()


async def test_a_socket_on_another_session_hears_nothing(
    planned_session, group, facilitator, member
):
    await go_live(planned_session, Step.EXPOSE)
    other = await database_sync_to_async(Session.objects.create)(
        group=group, scheduled_at=timezone.now(), created_by=facilitator
    )
    communicator, connected = await open_socket(other, member)
    assert connected is True
    await drain(communicator)

    await post_as(facilitator, "session_move", planned_session, {"from_step": Step.EXPOSE})

    assert await communicator.receive_nothing(timeout=0.5)
    await communicator.disconnect()


async def test_anything_sent_up_the_socket_closes_it_and_changes_nothing(planned_session, member):
    await go_live(planned_session, Step.EXPOSE)
    communicator, _ = await open_socket(planned_session, member)
    await drain(communicator)

    await communicator.send_to(text_data='{"step": "learnings"}')

    # The real server's side of this: tests/e2e/test_websocket_hostile.py.
    closed = await communicator.receive_output()
    assert closed == {"type": "websocket.close", "code": POLICY_VIOLATION}
    step = await database_sync_to_async(
        lambda: Session.objects.values_list("step", flat=True).get(pk=planned_session.pk)
    )()
    assert step == Step.EXPOSE
    await communicator.disconnect()


# Presence


async def test_connecting_marks_the_member_present_and_leaving_removes_it(planned_session, member):
    communicator, _ = await open_socket(planned_session, member)
    await communicator.receive_from()

    assert await presences(planned_session) == [member.pk]

    await communicator.disconnect()

    assert await presences(planned_session) == []


async def test_two_phones_of_one_member_count_separately(planned_session, member):
    phone, _ = await open_socket(planned_session, member)
    laptop, _ = await open_socket(planned_session, member)

    assert await presences(planned_session) == [member.pk, member.pk]

    await phone.disconnect()
    assert await presences(planned_session) == [member.pk]
    await laptop.disconnect()
    assert await presences(planned_session) == []


async def test_others_see_a_member_connect_and_leave(planned_session, facilitator, member):
    watcher, _ = await open_socket(planned_session, facilitator)
    await drain(watcher)

    arriving, _ = await open_socket(planned_session, member)
    pushed = await receive_until(
        watcher, 'Bruno Un <span class="muted small">· consultant · connecté'
    )
    assert 'id="live-presence"' in pushed

    await arriving.disconnect()
    left = await receive_until(watcher, 'id="live-presence"')
    assert "consultant · connecté" not in left
    await watcher.disconnect()


async def test_presence_leaves_the_version_alone(planned_session, member):
    # Nothing anybody wrote changed: the regions of the other audiences, cached
    # at this version, stay valid while phones come and go.
    communicator, _ = await open_socket(planned_session, member)
    await communicator.receive_from()
    await communicator.disconnect()

    version = await database_sync_to_async(
        lambda: Session.objects.values_list("version", flat=True).get(pk=planned_session.pk)
    )()
    assert version == 0


async def test_joins_of_one_moment_are_announced_once(
    planned_session, facilitator, consultants, monkeypatch
):
    watcher, _ = await open_socket(planned_session, facilitator)
    await drain(watcher)
    # The moment lasts until both have joined: on a busy machine the second
    # connect can take longer than PRESENCE_DELAY, and the test would be
    # about the machine's speed rather than the merging.
    moment_over = asyncio.Event()

    async def until_both_joined(_delay):
        await moment_over.wait()

    monkeypatch.setattr(
        broadcast,
        "asyncio",
        SimpleNamespace(sleep=until_both_joined, ensure_future=asyncio.ensure_future),
    )
    joined = []
    announce = broadcast.announce_presence

    async def counted(session_id):
        await announce(session_id)
        joined.append(session_id)

    monkeypatch.setattr(broadcast, "announce_presence", counted)

    first, _ = await open_socket(planned_session, consultants[0])
    second, _ = await open_socket(planned_session, consultants[1])
    async with asyncio.timeout(Communicator.WAIT):
        while len(joined) < 2:
            await asyncio.sleep(0.01)
    moment_over.set()
    announced = await receive_until(watcher, 'id="live-presence"')

    assert announced.count("· consultant · connecté") == 2
    assert await watcher.receive_nothing(timeout=broadcast.PRESENCE_DELAY + 0.3)
    for communicator in (first, second, watcher):
        await communicator.disconnect()


async def test_an_announcement_cancelled_midway_does_not_silence_the_session(
    planned_session, facilitator, member
):
    # A socket that closes just before its event loop does (a worker's
    # shutdown, a test's end) leaves its announcement pending; cancelled, it
    # must not keep the session from being announced ever after.
    before = asyncio.all_tasks()
    await broadcast.announce_presence(planned_session.pk)
    (pending,) = asyncio.all_tasks() - before
    pending.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await pending
    assert planned_session.pk not in broadcast._announcing

    await go_live(planned_session, Step.EXPOSE)
    watcher, _ = await open_socket(planned_session, facilitator)
    await drain(watcher)
    phone, _ = await open_socket(planned_session, member)
    announced = await receive_until(watcher, 'id="live-presence"')
    assert announced.count("· connecté") == 2
    for communicator in (phone, watcher):
        await communicator.disconnect()


async def test_a_consumer_that_dies_of_an_error_still_gives_up_its_seat(planned_session, member):
    await go_live(planned_session, Step.EXPOSE)
    phone, _ = await open_socket(planned_session, member)
    await drain(phone)
    seats = Presence.objects.filter(session=planned_session, user=member)
    channel_name = await database_sync_to_async(seats.values_list("channel_name", flat=True).get)()

    # A message no handler takes: channels raises, and the consumer ends
    # without a websocket.disconnect.
    await get_channel_layer().send(channel_name, {"type": "no.such.message"})
    with pytest.raises(ValueError, match="No handler"):
        await phone.wait(timeout=Communicator.WAIT)

    assert not await database_sync_to_async(seats.exists)()


async def test_a_socket_opened_after_a_change_shows_it(planned_session, facilitator, member):
    await go_live(planned_session, Step.CONTRIBUTIONS)
    early, _ = await open_socket(planned_session, member)
    await drain(early)  # its regions are now cached at this version

    status = await post_as(
        member, "contribution_post", planned_session, {"kind": "suggestion", "text": "Carte neuve"}
    )
    assert status == 302
    late, _ = await open_socket(planned_session, member)

    assert "Carte neuve" in await late.receive_from()
    await early.disconnect()
    await late.disconnect()


async def test_the_server_time_is_put_in_when_sending(planned_session, facilitator, member):
    await go_live(planned_session, Step.EXPOSE)
    communicator, _ = await open_socket(planned_session, member)
    first = await communicator.receive_from()
    await post_as(facilitator, "session_move", planned_session, {"from_step": Step.EXPOSE})
    later = await receive_until(communicator, "data-server-now")

    for message in (first, later):
        assert SERVER_NOW_MARK.TEXT not in message
        sent = re.search(r'data-server-now="([^"]+)"', message).group(1)
        age = timezone.now() - dt.datetime.fromisoformat(sent)
        assert abs(age.total_seconds()) < 5
    await communicator.disconnect()


async def test_a_card_sends_the_card_alone(planned_session, member):
    # A contribution is appended to the board's list: no region is rendered
    # nor sent, and the phone keeps what it shows (forms being typed in).
    await go_live(planned_session, Step.CONTRIBUTIONS)
    communicator, _ = await open_socket(planned_session, member)
    await drain(communicator)

    await post_as(member, "contribution_post", planned_session, {"kind": "mirror", "text": "Vu"})
    pushed = await receive_until(communicator, "Vu")

    assert '<div hx-swap-oob="beforeend:#cards">\n<li id="card-' in pushed
    for region in ("live-header", "live-composer", "live-board", "live-presence"):
        assert f'id="{region}"' not in pushed
    await communicator.disconnect()


# Presence after a process died


async def test_rows_a_dead_process_left_expire_and_everyone_is_told(
    planned_session, facilitator, member
):
    # A socket of `member` held by a process killed without its disconnects:
    # its row stays, refreshed by nobody.
    long_ago = timezone.now() - dt.timedelta(seconds=presence.TTL_SECONDS + 1)
    await database_sync_to_async(Presence.objects.create)(
        session=planned_session, user=member, channel_name="dead-process!1", seen_at=long_ago
    )
    watcher, _ = await open_socket(planned_session, facilitator)
    first = await watcher.receive_from()
    assert "Bruno Un" in first and "consultant · connecté" in first
    await drain(watcher)

    assert await presence.keeper().refresh() == {planned_session.pk}
    told = await receive_until(watcher, 'id="live-presence"')

    assert "consultant · connecté" not in told
    assert await presences(planned_session) == [facilitator.pk]
    await watcher.disconnect()


async def test_open_sockets_are_refreshed_not_dropped(planned_session, member):
    communicator, _ = await open_socket(planned_session, member)
    await communicator.receive_from()
    long_ago = timezone.now() - dt.timedelta(seconds=presence.TTL_SECONDS + 1)
    await database_sync_to_async(Presence.objects.update)(seen_at=long_ago)

    # The refresh marks this process's sockets first, so none of them is stale.
    assert await presence.keeper().refresh() == set()
    assert await presences(planned_session) == [member.pk]
    await communicator.disconnect()


# Each phone in its own language


async def test_each_phone_reads_every_change_in_its_own_language(
    planned_session, facilitator, consultants
):
    await go_live(planned_session, Step.EXPOSE)
    french, _ = await open_socket(planned_session, consultants[0])
    english, _ = await open_socket(planned_session, consultants[1], language="en")
    assert "vous êtes consultant" in await french.receive_from()
    assert "you are a consultant" in await english.receive_from()
    await drain(french)
    await drain(english)

    # The facilitator clicks in French: the English phone still reads English.
    await post_as(facilitator, "session_move", planned_session, {"from_step": Step.EXPOSE})

    in_french = await receive_until(french, "Clarification")
    in_english = await receive_until(english, 'id="live-header"')
    assert "vous êtes consultant" in in_french and "you are a consultant" not in in_french
    assert "you are a consultant" in in_english and "vous êtes consultant" not in in_english
    await french.disconnect()
    await english.disconnect()


async def test_a_language_nobody_reads_is_not_rendered(planned_session, facilitator, member):
    await go_live(planned_session, Step.EXPOSE)
    communicator, _ = await open_socket(planned_session, member)
    await drain(communicator)
    sent = []
    layer = get_channel_layer()
    group_send = layer.group_send

    async def spy(group, message):
        sent.append(message)
        await group_send(group, message)

    layer.group_send = spy
    try:
        await post_as(facilitator, "session_move", planned_session, {"from_step": Step.EXPOSE})
        await receive_until(communicator, "Clarification")
    finally:
        del layer.group_send

    assert [set(message["html"]) for message in sent] == [{"fr"}]
    await communicator.disconnect()
