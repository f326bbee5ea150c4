"""One broadcast per committed change: what it touched, drawn once per
audience that sees it differently, in one group_send."""

import asyncio
import logging
import threading

from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.conf import settings
from django.utils import translation

from sessions.deltas import envelope
from sessions.models import Session
from sessions.state import SERVER_NOW_MARK, load_state, render_all_audiences, render_regions

logger = logging.getLogger(__name__)


def group_name(session_id: int) -> str:
    return f"session-{session_id}"


def _publish(session_id: int, message: dict) -> None:
    async_to_sync(get_channel_layer().group_send)(group_name(session_id), message)


def session_changed(session_id: int, regions=None) -> None:
    """Called on commit of a change that reshapes the page (the start, the
    close, the roles, an action's progress at the retour): every region, for
    every audience, as a full state. `regions=("presence",)`: who is there,
    the same for everyone, with no version (it is whole, and bumps none).

    A failure here loses nothing: the data is saved and every screen gets the
    full state again when it reconnects.
    """
    try:
        state = load_state(session_id, regions, live=True)
        html = render_all_audiences(state, regions)
        message = {"type": "session.state", "html": html}
        if regions is None:
            version = state.session.version
            for language, by_audience in html.items():
                for audience, text in by_audience.items():
                    _remember(session_id, audience, language, version, text)
                    by_audience[audience] = envelope(version, full=True) + text
            # Roles can change: each socket looks its own up, and one whose
            # person is no longer a member closes.
            message["roles"] = {str(user_id): role for user_id, role in state.roles.items()}
        _publish(session_id, message)
    except Exception:
        logger.exception("Broadcast failed for session %s", session_id)


def publish_delta(delta) -> None:
    """Called on commit of a change that sends only itself (sessions.deltas)."""
    session_id = delta.session.pk
    try:
        message = {
            "type": "session.state",
            "html": delta.render(),
            # The group's members as the write saw them: a socket whose person
            # left or was removed closes at the next change, whatever it is.
            "members": delta.claimed.members,
        }
        _publish(session_id, message)
    except Exception:
        logger.exception("Broadcast failed for session %s", session_id)


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
    """The full state at the session's current version for `audience`,
    unstamped, opening with its envelope."""
    version = Session.objects.values_list("version", flat=True).get(pk=session_id)
    cached = _rendered.get((session_id, audience, language))
    if cached is None or cached[0] != version:
        state = load_state(session_id, live=True)
        version = state.session.version
        with translation.override(language):
            html = render_regions(state, audience, server_now=SERVER_NOW_MARK)
        _remember(session_id, audience, language, version, html)
        cached = (version, html)
    return envelope(cached[0], full=True) + cached[1]


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

    def forget_if_cancelled(task):
        if task.cancelled():
            # By a closing event loop, perhaps before it ran: a session left
            # in the set would never be announced again by this process.
            _announcing.discard(session_id)

    asyncio.ensure_future(later()).add_done_callback(forget_if_cancelled)
