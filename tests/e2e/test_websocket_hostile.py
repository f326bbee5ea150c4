"""The live session's socket against a hostile client, on the real server.

Daphne runs as in production (tests/e2e/conftest.py's `live_server_url`);
the client is the `websockets` library, so the test controls every header and
frame. The socket only listens (sessions/consumers.py): a handshake from a
foreign, missing or `null` Origin, or from another port of our host, is
refused (HTTP 403, codev/websocket.py), so is one to a path no consumer
answers (a NUL, an unknown path), and any frame a client sends up is a
protocol violation that closes that socket with 4008 (the app's "policy
violation": daphne refuses a server-sent 1008), except a message over daphne's
1 MiB limit, whose connection daphne drops before the app sees it. Whatever
one socket does, the others of the same session keep receiving, and daphne
keeps serving.
"""

import base64
import contextlib
import http.cookiejar
import os
import socket
import time
import urllib.request
from urllib.parse import urlencode

import pytest
from django.conf import settings
from django.test import Client
from playwright.sync_api import expect
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

from sessions.consumers import POLICY_VIOLATION
from sessions.models import Presence, Session
from sessions.steps import Step
from tests.conftest import go_live

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

# What daphne accepts in one websocket message (daphne.server.Server's default).
DAPHNE_MAX_MESSAGE = 1024 * 1024
# The full state of a session is a few kilobytes; the client accepts far more.
CLIENT_MAX_SIZE = 4 * 1024 * 1024
# Generous: a busy machine once made a 5 s deadline miss by 0.05 s.
TIMEOUT = 30


def session_cookie(user) -> str:
    """A signed-in session for `user`, in the database daphne reads too."""
    client = Client()
    client.force_login(user)
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"


def ws_url(server: str, session: Session) -> str:
    return server.replace("http://", "ws://") + f"/ws/sessions/{session.code}/"


def open_socket(server, session, user, *, origin="same"):
    headers = {"Cookie": session_cookie(user)}
    return connect(
        ws_url(server, session),
        origin=server if origin == "same" else origin,
        additional_headers=headers,
        max_size=CLIENT_MAX_SIZE,
        open_timeout=TIMEOUT,
        close_timeout=TIMEOUT,
    )


def close_code(socket) -> int | None:
    """Read until the server closes the socket; the code it closed with."""
    deadline = time.monotonic() + TIMEOUT
    try:
        while time.monotonic() < deadline:
            socket.recv(timeout=deadline - time.monotonic())
    except ConnectionClosed:
        # 1006 when the server dropped the connection without a close frame.
        return socket.close_code
    except TimeoutError:
        pass
    raise AssertionError("the server left the socket open")


def receive_until(socket, needle: str) -> str:
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        message = socket.recv(timeout=deadline - time.monotonic())
        if needle in message:
            return message
    raise AssertionError(f"{needle!r} never came")


def post_as(server, user, path, data) -> int:
    """An HTTP POST to daphne, signed in and with its CSRF token, as a page does."""
    with urllib.request.urlopen(signed_post(server, user, path, data), timeout=TIMEOUT) as answer:  # noqa: S310
        return answer.status


def signed_post(server, user, path, data) -> urllib.request.Request:
    """That POST, ready to send: the page read for its CSRF token already."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    cookie = session_cookie(user)
    opener.addheaders = [("Cookie", cookie)]
    opener.open(server + path.rsplit("step/", 1)[0], timeout=TIMEOUT).read()
    csrf = next(c.value for c in jar if c.name == settings.CSRF_COOKIE_NAME)
    return urllib.request.Request(
        server + path,
        data=urlencode(data).encode(),
        headers={
            "Cookie": f"{cookie}; {settings.CSRF_COOKIE_NAME}={csrf}",
            "X-CSRFToken": csrf,
            "Origin": server,
        },
    )


@pytest.fixture
def live_session(planned_session):
    return go_live(planned_session, Step.EXPOSE)


OTHER_PORT = "the same host on another port"


@pytest.mark.parametrize(
    "origin",
    [None, "http://evil.example", "null", "http://127.0.0.1.evil.example", OTHER_PORT],
    ids=["missing", "foreign", "null", "lookalike", "other port"],
)
def test_a_handshake_from_another_origin_is_refused(live_server_url, live_session, member, origin):
    if origin == OTHER_PORT:
        port = int(live_server_url.rsplit(":", 1)[1])
        origin = f"http://127.0.0.1:{port + 1}"
    with pytest.raises(InvalidStatus) as refused:
        open_socket(live_server_url, live_session, member, origin=origin)
    assert refused.value.response.status_code == 403


def raw_request(server: str, request_line: bytes, headers: bytes = b"") -> bytes:
    """Send one request as bytes and read the answer until daphne hangs up or
    goes quiet; b"" when it closed without answering."""
    netloc = server.removeprefix("http://")
    host, port = netloc.split(":")
    with socket.create_connection((host, int(port)), timeout=TIMEOUT) as conn:
        conn.sendall(request_line + b"\r\nHost: " + netloc.encode() + b"\r\n" + headers + b"\r\n")
        answer = b""
        with contextlib.suppress(TimeoutError, ConnectionResetError):
            while b"\r\n\r\n" not in answer:
                chunk = conn.recv(65536)
                if not chunk:
                    break
                answer += chunk
    return answer


def handshake_headers(server: str, user) -> bytes:
    """A websocket handshake's headers, from our origin, signed in as `user`."""
    key = base64.b64encode(os.urandom(16))
    return (
        b"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
        b"Sec-WebSocket-Key: " + key + b"\r\nOrigin: " + server.encode() + b"\r\n"
        b"Cookie: " + session_cookie(user).encode() + b"\r\n"
    )


def raw_handshake(server: str, path: str, user) -> bytes:
    return raw_request(server, f"GET {path} HTTP/1.1".encode(), handshake_headers(server, user))


@pytest.mark.parametrize(
    "path",
    ["/ws/sessions/%00/", "/ws/sessions/a%00b/", "/ws/nothing/", "/", "/ws/sessions/%ff/"],
    ids=["nul", "nul inside", "unknown", "root", "not utf-8"],
)
def test_a_handshake_to_a_path_nobody_answers_is_refused_not_a_500(
    live_server_url, live_session, member, path
):
    answer = raw_handshake(live_server_url, path, member)

    assert answer.startswith(b"HTTP/1.1 403"), answer[:200]
    # And daphne still serves the session's own socket.
    good = raw_handshake(live_server_url, f"/ws/sessions/{live_session.code}/", member)
    assert good.startswith(b"HTTP/1.1 101"), good[:200]


@pytest.mark.parametrize("path", ["/s/%00/", "/?q=%00"])
def test_the_nul_refusal_from_daphne_carries_the_security_headers(live_server_url, db, path):
    answer = raw_request(live_server_url, f"GET {path} HTTP/1.1".encode()).lower()
    headers = answer.split(b"\r\n\r\n", 1)[0].split(b"\r\n")

    assert headers[0] == b"http/1.1 400 bad request", answer[:200]
    assert b"x-frame-options: deny" in headers
    assert b"x-content-type-options: nosniff" in headers
    assert b"referrer-policy: same-origin" in headers
    assert b"cross-origin-opener-policy: same-origin" in headers
    policy = next(h for h in headers if h.startswith(b"content-security-policy: "))
    assert b"frame-ancestors 'none'" in policy


def test_a_request_line_over_16_kb_is_dropped_without_an_answer(live_server_url, db):
    # What docs/operations.md says daphne does (twisted's LineReceiver.MAX_LENGTH):
    # a line over 16 KiB closes the connection with no answer at all; below
    # it, the request reaches Django. nginx in front answers 414 long before.
    near = raw_request(live_server_url, b"GET /" + b"a" * 15_000 + b" HTTP/1.1")
    over = raw_request(live_server_url, b"GET /" + b"a" * 17_000 + b" HTTP/1.1")

    assert near.startswith(b"HTTP/1.1 404"), near[:200]
    assert over == b""


def test_the_same_origin_is_accepted(live_server_url, live_session, member):
    # The control for the refusals above: same member, same cookie, our origin.
    with open_socket(live_server_url, live_session, member) as socket:
        assert 'id="live-header"' in socket.recv(timeout=TIMEOUT)


def _send(data):
    def attack(socket):
        # The server may hang up before the whole frame is out: so much the better.
        with contextlib.suppress(ConnectionClosed):
            socket.send(data)

    return attack


def _flood(socket):
    """100 messages a second for a second, or until the server hangs up."""
    for i in range(100):
        try:
            socket.send(f'{{"n": {i}}}')
        except ConnectionClosed:
            return
        time.sleep(0.01)


ATTACKS = {
    "text": _send('{"HEADERS": {"HX-Trigger": "x"}}'),
    "malformed json": _send('{"n": [1, 2'),
    "binary": _send(b"\x00\xff\xfe binary"),
    "one megabyte": _send("x" * 1_000_000),
    "over daphne's limit": _send("x" * (2 * DAPHNE_MAX_MESSAGE)),
    "flood": _flood,
}
# Over its limit, daphne (autobahn, failByDrop) drops the TCP connection
# without a close frame: the client sees an abnormal closure.
EXPECTED_CODE = {"over daphne's limit": 1006}


def test_a_socket_that_sends_anything_is_closed_and_the_others_carry_on(
    live_server_url, live_session, facilitator, consultants
):
    attacker, listener = consultants[0], consultants[1]
    with open_socket(live_server_url, live_session, listener) as bystander:
        assert 'id="live-header"' in bystander.recv(timeout=TIMEOUT)
        for name, attack in ATTACKS.items():
            with open_socket(live_server_url, live_session, attacker) as socket:
                assert 'id="live-header"' in socket.recv(timeout=TIMEOUT)
                started = time.monotonic()
                attack(socket)
                assert close_code(socket) == EXPECTED_CODE.get(name, POLICY_VIOLATION), name
                assert time.monotonic() - started < TIMEOUT, name

        # The bystander's socket is still open and still hears the session.
        bystander.ping().wait(TIMEOUT)
        status = post_as(
            live_server_url,
            facilitator,
            f"/s/{live_session.code}/step/",
            {"from_step": Step.EXPOSE, "direction": "next"},
        )
        assert status == 200
        assert "step-clarification" in receive_until(bystander, "step-clarification")

    # Each closed socket left: no presence stays behind. And daphne still serves.
    deadline = time.monotonic() + TIMEOUT
    while Presence.objects.filter(session=live_session).exists():
        assert time.monotonic() < deadline, "a closed socket is still shown as present"
        time.sleep(0.1)
    with urllib.request.urlopen(live_server_url + "/accounts/login/", timeout=TIMEOUT) as page:
        assert page.status == 200


def test_a_screen_past_the_cap_says_why_and_gets_in_once_another_closes(
    browser, live_server_url, live_session, member
):
    name, value = session_cookie(member).split("=", 1)
    context = browser.new_context(base_url=live_server_url, locale="fr-FR")
    context.add_cookies([{"name": name, "value": value, "url": live_server_url}])
    with contextlib.ExitStack() as held:
        held.callback(context.close)
        sockets = [
            held.enter_context(open_socket(live_server_url, live_session, member))
            for _ in range(settings.LIVE_SOCKETS_PER_PERSON)
        ]
        page = context.new_page()
        page.goto(f"/s/{live_session.code}/")

        banner = page.locator("#live-too-many")
        expect(banner).to_be_visible(timeout=TIMEOUT * 1000)
        expect(banner).to_contain_text("déjà ouverte sur 5 écrans à votre nom")
        expect(page.locator("#live-offline")).to_be_hidden()

        sockets[0].close()
        # The page knocks again every 2-4 s: in once a seat is free.
        expect(banner).to_be_hidden(timeout=3 * TIMEOUT * 1000)
        expect(page.locator("#live-offline")).to_be_hidden()


CLOSE = 0x8


def read_frame(reader) -> tuple[int, bytes]:
    """One frame from the server (never masked, RFC 6455 §5.2): its opcode and payload."""
    first, second = reader.read(2)
    length = second & 0x7F
    if length == 126:
        length = int.from_bytes(reader.read(2), "big")
    elif length == 127:
        length = int.from_bytes(reader.read(8), "big")
    return first & 0x0F, reader.read(length)


def masked_text(payload: bytes) -> bytes:
    """A client's text frame, masked as a client's must be."""
    mask = os.urandom(4)
    assert len(payload) < 126
    masked = bytes(byte ^ mask[i % 4] for i, byte in enumerate(payload))
    return bytes([0x81, 0x80 | len(payload)]) + mask + masked


def test_a_change_that_reaches_a_socket_being_closed_does_not_keep_its_seat(
    live_server_url, live_session, facilitator, consultants
):
    # The server closes a socket that sent a frame; until the client answers
    # its close (autobahn waits a second), daphne refuses any frame for it.
    # A change broadcast in that second once killed the consumer before its
    # disconnect ran: the person stayed « connecté ». Here the client never
    # answers, and the change comes in that second.
    attacker = consultants[0]
    step = signed_post(
        live_server_url,
        facilitator,
        f"/s/{live_session.code}/step/",
        {"from_step": Step.EXPOSE, "direction": "next"},
    )
    netloc = live_server_url.removeprefix("http://")
    host, port = netloc.split(":")
    with socket.create_connection((host, int(port)), timeout=TIMEOUT) as conn:
        conn.sendall(
            f"GET /ws/sessions/{live_session.code}/ HTTP/1.1\r\nHost: {netloc}\r\n".encode()
            + handshake_headers(live_server_url, attacker)
            + b"\r\n"
        )
        reader = conn.makefile("rb")
        assert reader.readline().startswith(b"HTTP/1.1 101"), "the handshake was refused"
        while reader.readline() not in (b"\r\n", b""):
            pass
        opcode, state = read_frame(reader)
        assert b'id="live-header"' in state
        assert Presence.objects.filter(session=live_session, user=attacker).exists()

        conn.sendall(masked_text(b"hello"))
        while opcode != CLOSE:
            opcode, payload = read_frame(reader)
        assert int.from_bytes(payload[:2], "big") == POLICY_VIOLATION
        with urllib.request.urlopen(step, timeout=TIMEOUT) as answer:  # noqa: S310
            assert answer.status == 200
        time.sleep(0.2)  # a moment for the change to reach the closing socket

    deadline = time.monotonic() + TIMEOUT
    while Presence.objects.filter(session=live_session, user=attacker).exists():
        assert time.monotonic() < deadline, "the closed socket is still shown as present"
        time.sleep(0.1)
