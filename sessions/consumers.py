"""The live session's socket: it only listens. Mutations are HTTP POSTs."""

import datetime as dt
import logging

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from channels.layers import get_channel_layer
from django.utils import timezone

from codev.middleware import chosen_language
from sessions import broadcast, layer_watch, presence, services
from sessions.access import session_for_member
from sessions.broadcast import group_name
from sessions.models import Session
from sessions.roles import ROOM, role_of
from sessions.state import stamp

_session_for = database_sync_to_async(session_for_member)


@database_sync_to_async
def _join(session: Session, user, channel_name: str, language: str, screen: bool) -> bool:
    """Take a seat (a presence row); False when the person holds too many."""
    stale_before = timezone.now() - dt.timedelta(seconds=presence.TTL_SECONDS)
    try:
        services.presence_join(
            session_id=session.pk,
            user=user,
            channel_name=channel_name,
            language=language,
            stale_before=stale_before,
            screen=screen,
        )
    except services.TooManySockets:
        return False
    return True


@database_sync_to_async
def _full_state(session: Session, user, language: str, screen: bool) -> tuple[str, str]:
    """My audience (the room, for a room screen), and the full state drawn for it."""
    audience = ROOM if screen else role_of(session, user)
    return audience, broadcast.current_regions(session.pk, audience, language)


@database_sync_to_async
def _leave(session: Session, channel_name: str) -> None:
    services.presence_leave(session_id=session.pk, channel_name=channel_name)


logger = logging.getLogger(__name__)


# 1008 (policy violation) in the application's range 4000-4999.
POLICY_VIOLATION = 4008
# 429 (too many requests) in the same range: this person already holds
# settings.LIVE_SOCKETS_PER_PERSON sockets on the session.
TOO_MANY_SOCKETS = 4029


class SessionConsumer(AsyncWebsocketConsumer):
    session = None
    watch = None
    audience = None
    released = False

    def __init__(self, *args, screen=False, **kwargs):
        super().__init__(*args, **kwargs)
        # The room screen's socket (sessions/routing.py): the ROOM audience,
        # no presence shown, its own seats.
        self.screen = screen

    async def __call__(self, scope, receive, send):
        if not layer_watch.accepting(get_channel_layer()):
            # Redis refuses messages: this socket could hear nothing. Refused
            # at once, the phone shows « reconnexion… » and tries again.
            await receive()
            await send({"type": "websocket.close"})
            return
        try:
            await super().__call__(scope, receive, send)
        finally:
            # However the consumer ended (an exception in a handler; daphne
            # killing it past its application_close_timeout), its seat goes:
            # else the person shows « connecté » until the TTL sweep.
            await self._release()

    async def dispatch(self, message):
        # channels closes stale database connections before every handler: a
        # thread hop per socket per broadcast, 6 % of a click's CPU (bench
        # profile, docs/performance.md). Relaying a broadcast reads no database,
        # and every handler that does goes through database_sync_to_async,
        # which closes them itself.
        if message["type"] == "session.state":
            await self.session_state(message)
            return
        await super().dispatch(message)

    async def connect(self):
        user = self.scope["user"]
        session = await _session_for(user, self.scope["url_route"]["kwargs"]["code"])
        if session is None:
            # Closed before joining the group: a stranger hears nothing.
            await self.close()
            return
        # The language of the page it belongs to (codev.middleware).
        self.language = chosen_language(self.scope.get("cookies", {}))
        if not await _join(session, user, self.channel_name, self.language, self.screen):
            # Accepted only to be closed with a code that says why; it hears
            # nothing. The page tries again every few seconds and gets in
            # once one of the person's other screens has closed.
            await self.accept()
            await self.close(code=TOO_MANY_SOCKETS)
            return
        # From here on, disconnect() removes the seat.
        self.session = session
        self.group = group_name(session.pk)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()
        # Closed by the watch when Redis may have lost this socket's messages.
        self.watch = layer_watch.watch(self.channel_layer)
        if self.watch is not None:
            self.watch.sockets.add(self)
        # Full state on every (re)connect: nothing depends on missed messages.
        self.audience, html = await _full_state(session, user, self.language, self.screen)
        await self.send(text_data=stamp(html))
        presence.keeper().add(self.channel_name)
        if not self.screen:
            # A room screen is nobody: who is online does not change.
            await broadcast.announce_presence(self.session.pk)

    async def disconnect(self, code):
        await self._release()

    async def _release(self):
        """Leave the group and the seat, once (disconnect, then __call__'s end)."""
        if self.watch is not None:
            self.watch.sockets.discard(self)
        if self.session is None or self.released:
            return
        self.released = True
        # The seat first: who is online must not wait on Redis.
        presence.keeper().discard(self.channel_name)
        await _leave(self.session, self.channel_name)
        try:
            await self.channel_layer.group_discard(self.group, self.channel_name)
        except Exception:
            # Redis down: the subscription went with it.
            logger.warning("Leaving %s without the channel layer", self.group)
        if not self.screen:
            await broadcast.announce_presence(self.session.pk)

    async def send(self, text_data=None, bytes_data=None, close=False):
        try:
            await super().send(text_data=text_data, bytes_data=bytes_data, close=close)
        except Exception as error:
            # The socket is closing (the phone left, or we closed it) and its
            # websocket.disconnect is on its way: daphne refuses a frame now
            # (autobahn's Disconnected). A consumer dying here would never
            # run its disconnect, and leave its seat behind.
            logger.info("Not sent to a closing socket: %r", error)

    async def receive(self, text_data=None, bytes_data=None):
        # Nothing travels up the socket: every change is an HTTP POST, and the
        # page's htmx sends nothing (no ws-send). So any frame, text or binary,
        # whatever its size or content, is a client breaking the protocol: the
        # socket is closed unread. The close code is POLICY_VIOLATION, not the
        # standard 1008: daphne's autobahn lets a server send only 1000 or
        # 3000-4999. Other sockets, the same person's too, are untouched.
        await self.close(code=POLICY_VIOLATION)

    async def session_state(self, event):
        user_id = self.scope["user"].pk
        if self.screen:
            await self._to_room(event, user_id)
            return
        if "roles" in event:
            # A full state: roles may have changed, mine with them.
            audience = event["roles"].get(str(user_id))
        elif "members" in event:
            # A delta: drawn per audience, and mine has not changed since the
            # last full state (only those change roles).
            audience = self.audience if user_id in event["members"] else None
        else:
            # Presence: the same for everyone.
            audience = self.audience
        if audience is None:
            # Every member of the group has a role: this person left or was
            # removed since the socket opened, and must hear nothing more.
            await self.close()
            return
        self.audience = audience
        html = broadcast.for_socket(event["html"], self.language, audience)
        await self.send(text_data=stamp(html))

    async def _to_room(self, event, user_id):
        """A room screen hears every change, as long as its person is a member;
        not who is online, which it does not show."""
        if "roles" in event:
            member = str(user_id) in event["roles"]
        elif "members" in event:
            member = user_id in event["members"]
        else:
            return
        if not member:
            await self.close()
            return
        by_audience = event["html"].get(self.language, {})
        html = by_audience.get(ROOM)
        if html is None:
            # Drawn before this screen was there to be drawn for: the full
            # state instead, which the page takes whatever version it shows.
            _audience, html = await _full_state(
                self.session, self.scope["user"], self.language, screen=True
            )
        await self.send(text_data=stamp(html))
