"""What the websocket tests share: the ASGI app under test settings, a clean
in-memory layer, and a signed-in member's session cookie."""

import importlib

import channels.db
import django.db
import pytest_asyncio
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.conf import settings
from django.db import connections
from django.test import Client

import codev.asgi
from sessions import broadcast


@pytest_asyncio.fixture
async def asgi_application(settings):
    """codev.asgi.application, built under the test settings ("testserver"
    in ALLOWED_HOSTS, which the Origin check reads at each handshake), and
    imported again so that nothing built at first import carries over.

    Afterwards, the database connections the consumers opened are closed: every
    database_sync_to_async call of the test runs in one worker thread, which
    outlives the test, and a connection it kept (CONN_MAX_AGE > 0, or a call made
    while a communicator waited, see below) would stop PostgreSQL from dropping
    the test database at the end of the run.
    """
    settings.ALLOWED_HOSTS = ["testserver"]
    yield importlib.reload(codev.asgi).application
    # Channels' communicators swap channels.db.close_old_connections for a no-op
    # while they send or wait (mock.patch). Waits that overlap (asyncio.gather
    # over several communicators) leave and restore it in any order, and the
    # last one out may put the no-op back for good: from then on no
    # database_sync_to_async call closes its connection, in this test or later.
    leaked = channels.db.close_old_connections is not django.db.close_old_connections
    channels.db.close_old_connections = django.db.close_old_connections
    await database_sync_to_async(connections.close_all)()
    assert not leaked, (
        "channels.db.close_old_connections was left patched: wait on one "
        "communicator at a time (receive_from), never on several at once."
    )


@pytest_asyncio.fixture
async def empty_channel_layer():
    # The in-memory layer outlives a test; start and end each one with no groups.
    # So does the process's cache of rendered regions, keyed by session id and
    # version: test databases hand the same ids out again, and go_live leaves
    # the version at 0, so a socket could get an earlier test's session.
    broadcast.forget_rendered()
    await get_channel_layer().flush()
    yield
    await get_channel_layer().flush()
    broadcast.forget_rendered()


@database_sync_to_async
def session_cookie(user):
    client = Client()
    client.force_login(user)
    return client.cookies[settings.SESSION_COOKIE_NAME].value
