"""The live session's socket: it only listens. Mutations are HTTP POSTs."""

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer

from groups.models import Membership
from sessions import services
from sessions.broadcast import group_name
from sessions.models import Session
from sessions.roles import role_of
from sessions.state import load_state, render_regions


@database_sync_to_async
def _session_for(user, code: str) -> Session | None:
    if not user.is_authenticated:
        return None
    session = Session.objects.select_related("group").filter(code=code).first()
    if session is None or not Membership.objects.filter(group=session.group, user=user).exists():
        return None
    return session


@database_sync_to_async
def _join(session: Session, user, channel_name: str) -> str:
    services.presence_join(session_id=session.pk, user=user, channel_name=channel_name)
    state = load_state(session.pk)
    return render_regions(state, role_of(session, user))


@database_sync_to_async
def _leave(session: Session, channel_name: str) -> None:
    services.presence_leave(session_id=session.pk, channel_name=channel_name)


class SessionConsumer(AsyncWebsocketConsumer):
    session = None

    async def connect(self):
        user = self.scope["user"]
        self.session = await _session_for(user, self.scope["url_route"]["kwargs"]["code"])
        if self.session is None:
            # Closed before joining the group: a stranger hears nothing.
            await self.close()
            return
        self.group = group_name(self.session.pk)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()
        # Full state on every (re)connect: nothing depends on missed messages.
        await self.send(text_data=await _join(self.session, user, self.channel_name))

    async def disconnect(self, code):
        if self.session is not None:
            await self.channel_layer.group_discard(self.group, self.channel_name)
            await _leave(self.session, self.channel_name)

    async def receive(self, text_data=None, bytes_data=None):
        # Nothing travels up the socket: every change is an HTTP POST.
        pass

    async def session_state(self, event):
        audience = event["roles"].get(str(self.scope["user"].pk))
        if audience is None:
            # Every member of the group has a role: this person left or was
            # removed since the socket opened, and must hear nothing more.
            await self.close()
            return
        await self.send(text_data=event["html"][audience])
