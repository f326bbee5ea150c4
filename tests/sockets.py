"""What the websocket tests share: the ASGI app under test settings, a clean
in-memory layer, and a signed-in member's session cookie."""

import importlib

import pytest
import pytest_asyncio
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.conf import settings
from django.test import Client

import codev.asgi


@pytest.fixture
def asgi_application(settings):
    """codev.asgi.application, built under the test settings.

    AllowedHostsOriginValidator copies ALLOWED_HOSTS when codev.asgi is first
    imported, before pytest-django adds "testserver": import it again here.
    """
    settings.ALLOWED_HOSTS = ["testserver"]
    return importlib.reload(codev.asgi).application


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
