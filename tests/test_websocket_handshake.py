"""What a websocket handshake meets before any consumer (codev/websocket.py):
an Origin that must be the site's own, scheme, host and port; and a path no
consumer answers, refused like a stranger instead of crashing the router."""

import pytest
from django.conf import settings

import codev.asgi
from tests.sockets import Communicator, session_cookie

pytestmark = [
    pytest.mark.asyncio,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("empty_channel_layer", "asgi_application"),
]


async def handshake(path, user=None, *, origin=b"http://testserver", host=b"testserver", extra=()):
    headers = [(b"host", host), *extra]
    if origin is not None:
        headers.append((b"origin", origin))
    if user is not None:
        cookie = f"{settings.SESSION_COOKIE_NAME}={await session_cookie(user)}"
        headers.append((b"cookie", cookie.encode()))
    communicator = Communicator(codev.asgi.application, path, headers=headers)
    try:
        connected, _ = await communicator.connect()
    finally:
        await communicator.disconnect()
    return connected


def session_path(session):
    return f"/ws/sessions/{session.code}/"


# The path


@pytest.mark.parametrize(
    "path",
    [
        "/ws/sessions/%00/",
        "/ws/sessions/abc%00def/",
        "/ws/sessions/" + "a" * 10_000 + "/",
        "/ws/sessions/é/",
        "/ws/sessions/",
        "/ws/",
        "/",
        "/ws/groups/x/",
        "/s/x/",
    ],
    ids=["nul", "nul inside", "10 kB code", "unicode", "no code", "ws", "root", "other", "page"],
)
async def test_a_path_no_consumer_answers_is_refused(planned_session, member, monkeypatch, path):
    def no_lookup(*args):
        raise AssertionError("refused before any database lookup")

    monkeypatch.setattr("sessions.consumers._session_for", no_lookup)

    assert await handshake(path, member) is False


async def test_the_session_path_still_connects(planned_session, member):
    assert await handshake(session_path(planned_session), member) is True


# The Origin


@pytest.mark.parametrize(
    "origin",
    [
        b"http://testserver:8080",
        b"https://testserver",
        b"http://testserver:443",
        b"ws://testserver",
        b"http://evil.example",
        b"http://testserver.evil.example",
        b"http://user@testserver",
        b"http://testserver/path",
        b"null",
        b"",
        b"http://[::1",
        None,
    ],
    ids=[
        "other port",
        "other scheme",
        "https port over http",
        "ws scheme",
        "foreign",
        "lookalike",
        "userinfo",
        "path",
        "null",
        "empty",
        "unparsable",
        "missing",
    ],
)
async def test_an_origin_other_than_the_sites_own_is_refused(planned_session, member, origin):
    assert await handshake(session_path(planned_session), member, origin=origin) is False


@pytest.mark.parametrize(
    ("origin", "host"),
    [
        (b"http://testserver:8080", b"testserver:8080"),
        (b"http://testserver", b"testserver:80"),
        (b"http://TestServer", b"testserver"),
    ],
)
async def test_the_origin_the_handshake_was_sent_to_is_accepted(
    planned_session, member, origin, host
):
    assert await handshake(session_path(planned_session), member, origin=origin, host=host)


async def test_a_host_outside_allowed_hosts_is_refused_even_with_a_matching_origin(
    planned_session, member
):
    assert not await handshake(
        session_path(planned_session), member, origin=b"http://evil.example", host=b"evil.example"
    )


async def test_behind_the_tls_proxy_the_https_origin_is_the_sites_own(
    planned_session, member, settings
):
    path = session_path(planned_session)
    proxied = [(b"x-forwarded-proto", b"https")]

    assert await handshake(path, member, origin=b"https://testserver", extra=proxied)
    assert not await handshake(path, member, origin=b"http://testserver", extra=proxied)
    assert not await handshake(path, member, origin=b"https://testserver:8443", extra=proxied)


async def test_a_trusted_origin_is_accepted_with_its_exact_port(planned_session, member, settings):
    # nginx passes `Host $host`, without the port: a public site on another
    # port is listed in CSRF_TRUSTED_ORIGINS, as its POSTs need anyway.
    settings.CSRF_TRUSTED_ORIGINS = ["https://testserver:8443", "https://*.codev.example"]
    path = session_path(planned_session)

    assert await handshake(path, member, origin=b"https://testserver:8443")
    assert await handshake(path, member, origin=b"https://room.codev.example")
    assert not await handshake(path, member, origin=b"https://testserver:9443")
    assert not await handshake(path, member, origin=b"http://room.codev.example")
