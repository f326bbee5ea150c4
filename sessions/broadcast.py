"""One broadcast per committed change: render once per audience, one group_send."""

import asyncio
import logging
import threading

from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.conf import settings
from django.utils import translation

from sessions.models import Session
from sessions.state import SERVER_NOW_MARK, load_state, render_all_audiences, render_regions

logger = logging.getLogger(__name__)

# The state the last broadcast of this thread read, just after its commit: the
# view answering the POST that caused it renders from it instead of reading
# the same rows again (see `take_state`).
_recent = threading.local()


def group_name(session_id: int) -> str:
    return f"session-{session_id}"


def session_changed(session_id: int, regions=None) -> None:
    """Called on commit. A failure here loses nothing: the data is saved and
    every screen gets the full state again when it reconnects.

    `regions` (None: all) are the live page's regions the change touched; only
    those are read, rendered and sent.
    """
    _recent.value = None
    try:
        state = load_state(session_id, regions, live=True)
        message = {
            "type": "session.state",
            "html": render_all_audiences(state, regions),
            # Roles can change during a session: each socket looks its own up.
            "roles": {str(user_id): role for user_id, role in state.roles.items()},
        }
        _recent.value = (session_id, regions, state)
        if regions is None:
            for language, by_audience in message["html"].items():
                for audience, html in by_audience.items():
                    _remember(session_id, audience, language, state.session.version, html)
        async_to_sync(get_channel_layer().group_send)(group_name(session_id), message)
    except Exception:
        logger.exception("Broadcast failed for session %s", session_id)


def forget_state() -> None:
    _recent.value = None


def take_state(session_id: int):
    """(regions, state) of this thread's last broadcast for `session_id`, once.

    Callers clear it first (`forget_state`) so that nothing from an earlier
    request served by the same thread can be taken.
    """
    recent, _recent.value = getattr(_recent, "value", None), None
    if recent is None or recent[0] != session_id:
        return None
    return recent[1], recent[2]


# Every region of a session for one audience, as last rendered by this process,
# keyed by the session's version (which every change but presence bumps). A
# burst of (re)connects, 800 phones after a restart, renders each session once
# per audience instead of once per phone. Presence shown in it may be a moment
# old: the presence broadcast that follows each join corrects it.
_rendered: dict[tuple[int, str, str], tuple[int, str]] = {}
_RENDERED_MAX = 2000
_rendered_lock = threading.Lock()


def _remember(session_id: int, audience: str, language: str, version: int, html: str) -> None:
    key = (session_id, audience, language)
    with _rendered_lock:
        _rendered.pop(key, None)
        _rendered[key] = (version, html)
        while len(_rendered) > _RENDERED_MAX:
            _rendered.pop(next(iter(_rendered)))


def forget_rendered() -> None:
    """Empty the cache (tests: their databases hand the same ids out again)."""
    with _rendered_lock:
        _rendered.clear()


def current_regions(session_id: int, audience: str, language: str) -> str:
    """Every region at the session's current version for `audience`, unstamped."""
    version = Session.objects.values_list("version", flat=True).get(pk=session_id)
    cached = _rendered.get((session_id, audience, language))
    if cached is not None and cached[0] == version:
        return cached[1]
    state = load_state(session_id, live=True)
    with translation.override(language):
        html = render_regions(state, audience, server_now=SERVER_NOW_MARK)
    _remember(session_id, audience, language, state.session.version, html)
    return html


def for_socket(html: dict, language: str, audience: str) -> str:
    """A broadcast's HTML for one socket: its language (else the default one,
    for a socket that joined after the broadcast read who is there)."""
    by_audience = html.get(language) or html[settings.LANGUAGE_CODE]
    return by_audience.get(audience) or by_audience["all"]


# Presence is announced a moment after a socket opens or closes, once for all
# the sockets of the session that came and went meanwhile: after a restart the
# eight phones of a session reconnect within a second, and one broadcast tells
# everyone who is there instead of eight.
PRESENCE_DELAY = 0.3
_announcing: set[int] = set()


async def announce_presence(session_id: int) -> None:
    if session_id in _announcing:
        return
    _announcing.add(session_id)

    async def later():
        await asyncio.sleep(PRESENCE_DELAY)
        _announcing.discard(session_id)
        await database_sync_to_async(session_changed)(session_id, ("presence",))

    asyncio.ensure_future(later())
