"""One broadcast per committed change: render once per audience, one group_send."""

import logging

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from sessions.state import load_state, render_all_audiences

logger = logging.getLogger(__name__)


def group_name(session_id: int) -> str:
    return f"session-{session_id}"


def session_changed(session_id: int) -> None:
    """Called on commit. A failure here loses nothing: the data is saved and
    every screen gets the full state again when it reconnects."""
    try:
        state = load_state(session_id)
        message = {
            "type": "session.state",
            "html": render_all_audiences(state),
            # Roles can change during a session: each socket looks its own up.
            "roles": {str(user_id): role for user_id, role in state.roles.items()},
        }
        async_to_sync(get_channel_layer().group_send)(group_name(session_id), message)
    except Exception:
        logger.exception("Broadcast failed for session %s", session_id)
