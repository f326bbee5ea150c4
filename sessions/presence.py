"""Presence rows that outlive their daphne process expire.

A socket's Presence row goes when it disconnects; but a process killed
(`kill -9`, out of memory, a crash) runs no disconnect, and its people would
show « connecté » for good. So each process refreshes the rows of its open
sockets every REFRESH_SECONDS, and drops the rows that nobody has refreshed for
TTL_SECONDS, whichever process held them; the sessions that lost someone get a
presence broadcast. One query a minute or so per process, whatever the sockets.
"""

import asyncio
import datetime as dt
import logging
import weakref

from channels.db import database_sync_to_async
from django.utils import timezone

from sessions import broadcast, services

logger = logging.getLogger(__name__)

REFRESH_SECONDS = 20.0
TTL_SECONDS = 60.0

_keepers: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Keeper]" = (
    weakref.WeakKeyDictionary()
)


class Keeper:
    """The open sockets of this process (this event loop), and their refresh."""

    def __init__(self):
        self.channel_names: set[str] = set()
        self.task: asyncio.Task | None = None

    def add(self, channel_name: str) -> None:
        self.channel_names.add(channel_name)
        if self.task is None or self.task.done():
            self.task = asyncio.ensure_future(self._run())

    def discard(self, channel_name: str) -> None:
        self.channel_names.discard(channel_name)
        if not self.channel_names and self.task is not None:
            # No socket left: nothing to refresh (and no task left pending
            # when a test's event loop closes).
            self.task.cancel()
            self.task = None

    async def refresh(self) -> set[int]:
        stale_before = timezone.now() - dt.timedelta(seconds=TTL_SECONDS)
        session_ids = await database_sync_to_async(services.presence_refresh)(
            channel_names=list(self.channel_names), stale_before=stale_before
        )
        for session_id in session_ids:
            await broadcast.announce_presence(session_id)
        return session_ids

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(REFRESH_SECONDS)
            try:
                await self.refresh()
            except Exception:
                logger.exception("Presence refresh failed")


def keeper() -> Keeper:
    loop = asyncio.get_running_loop()
    current = _keepers.get(loop)
    if current is None:
        current = _keepers[loop] = Keeper()
    return current
