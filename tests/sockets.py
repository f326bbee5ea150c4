"""What the websocket tests share: the ASGI app under test settings, a clean
in-memory layer, and a signed-in member's session cookie."""

import importlib

import channels.db
import django.db
import pytest_asyncio
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.db import connections
from django.test import Client

import codev.asgi


class Communicator(WebsocketCommunicator):
    """A test socket that waits as long as a busy machine needs for what must come.

    Channels waits 1 s by default for the connect, each message and the close:
    on a 2-core machine running the suite beside other work, a full state
    rendered after a database write sometimes took longer, and a test failed
    for being slow, not wrong. What must arrive gets WAIT seconds (only a
    failing test waits that long); what must not arrive (`receive_nothing`)
    keeps its short window, which on a slow machine can only let a test pass.
    """

    WAIT = 30

    async def connect(self, timeout=WAIT):
        return await super().connect(timeout)

    async def receive_output(self, timeout=WAIT):
        return await super().receive_output(timeout)

    async def receive_from(self, timeout=WAIT):
        return await super().receive_from(timeout)

    async def disconnect(self, code=1000, timeout=WAIT):
        return await super().disconnect(code, timeout)


@pytest_asyncio.fixture
async def asgi_application(settings):
    """codev.asgi.application, built under the test settings.

    AllowedHostsOriginValidator copies ALLOWED_HOSTS when codev.asgi is first
    imported, before pytest-django adds "testserver": import it again here.

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
    await get_channel_layer().flush()
    yield
    await get_channel_layer().flush()


@database_sync_to_async
def session_cookie(user):
    client = Client()
    client.force_login(user)
    return client.cookies[settings.SESSION_COOKIE_NAME].value
