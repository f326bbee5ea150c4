"""Does this process's channel layer still deliver? A heartbeat through Redis.

channels_redis's pub/sub layer outlives a Redis outage by itself: it connects
again and subscribes again. But whatever was published meanwhile is gone, and
the sockets never learn it: a phone connected all along would keep showing the
step it had, with no sign that anything is wrong, until the next change.

So each daphne process sends itself a numbered heartbeat through Redis every
second. When none has come back for STALE_SECONDS (Redis down or frozen), or
one is missing from the sequence (an outage shorter than that), every socket of
the process is closed with RETRY_CLOSE_CODE: the phones show « reconnexion… »
and reconnect (static/js/live.js), and each gets the full state once Redis
answers (DESIGN.md, « How a change travels », 5). While Redis refuses the
heartbeat, a new socket is refused at once (SessionConsumer.__call__) instead
of failing inside the layer, which logs a traceback and keeps a queue for the
channel it could not subscribe (channels_redis 4.3).

Only the Redis layer is watched: the in-memory one lives and dies with the
process.
"""

import asyncio
import logging
import uuid
import weakref

from channels_redis.pubsub import RedisPubSubChannelLayer

logger = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 1.0
# No heartbeat back for this long: the layer is not delivering.
STALE_SECONDS = 3.0
# How often the silence is judged (and the loop's own lateness measured).
JUDGE_SECONDS = 0.25
# « Try again later » (1013) in the private range, since autobahn lets a server
# close only with 1000 or 3000-4999. live.js reconnects on it.
RETRY_CLOSE_CODE = 4013

_watches: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, LayerWatch]" = (
    weakref.WeakKeyDictionary()
)


def watch(layer) -> "LayerWatch | None":
    """This event loop's watch of `layer`, started on first use (Redis layer only)."""
    if not isinstance(layer, RedisPubSubChannelLayer):
        return None
    loop = asyncio.get_running_loop()
    current = _watches.get(loop)
    if current is None:
        current = _watches[loop] = LayerWatch(layer, loop)
    return current


def accepting(layer) -> bool:
    """False while this process's last heartbeat could not be published."""
    if not isinstance(layer, RedisPubSubChannelLayer):
        return True
    current = _watches.get(asyncio.get_running_loop())
    return current is None or current.publishing


class LayerWatch:
    def __init__(self, layer, loop: asyncio.AbstractEventLoop):
        self.layer = layer
        self.loop = loop
        # The consumers to close when messages may have been lost.
        self.sockets: weakref.WeakSet = weakref.WeakSet()
        self.delivering = True
        self.publishing = True
        self._sent = 0
        self._expected = None  # the next heartbeat number, once one has come back
        self._last_heard = self._last_refused = loop.time()
        self._channel = self._channel_name()
        self._listener = loop.create_task(self._listen())
        self._beater = loop.create_task(self._beat())
        self._judge_task = loop.create_task(self._judge())

    @staticmethod
    def _channel_name() -> str:
        return f"heartbeat.{uuid.uuid4().hex}"

    async def _listen(self) -> None:
        while True:
            try:
                message = await self.layer.receive(self._channel)
            except asyncio.CancelledError:
                raise
            except Exception:
                # Subscribing failed (Redis down). The layer keeps the channel
                # as if it were subscribed: the next try uses a new name.
                self._channel = self._channel_name()
                await asyncio.sleep(HEARTBEAT_SECONDS)
                continue
            self._heard(message["n"])

    async def _beat(self) -> None:
        while True:
            await asyncio.sleep(HEARTBEAT_SECONDS)
            self._sent += 1
            message = {"type": "layer.heartbeat", "n": self._sent}
            try:
                await asyncio.wait_for(
                    self.layer.send(self._channel, message), timeout=HEARTBEAT_SECONDS
                )
                self.publishing = True
            except Exception:
                # Also a number missing from the sequence, seen when Redis is back.
                self.publishing = False
                self._last_refused = self.loop.time()

    async def _judge(self) -> None:
        """Is the silence Redis's? Judged on the time this loop actually ran.

        A busy process runs its loop late, and so hears late what Redis
        delivered in time: closing every socket of an overloaded process would
        only add 800 reconnects to its load. This task does nothing but sleep,
        so how late it wakes is how long the loop did not run, whatever the
        other tasks were awaiting: that time is not counted as silence.
        """
        while True:
            planned = self.loop.time() + JUDGE_SECONDS
            await asyncio.sleep(JUDGE_SECONDS)
            now = self.loop.time()
            self._last_heard += max(0.0, now - planned)
            if now - self._last_heard > STALE_SECONDS:
                if self.delivering:
                    self.delivering = False
                    self.close_all(f"no heartbeat for {STALE_SECONDS:.0f} s")
                if now - self._last_refused > STALE_SECONDS:
                    # Redis takes the heartbeats yet none comes back: subscribe anew.
                    self._listener.cancel()
                    self._channel = self._channel_name()
                    self._listener = self.loop.create_task(self._listen())
                    self._last_refused = now  # one new subscription per silence

    def _heard(self, number: int) -> None:
        if self._expected is not None and number > self._expected and self.delivering:
            self.close_all(f"heartbeat {self._expected} lost")
        if not self.delivering:
            logger.warning("Channel layer delivering again")
        self.delivering = True
        self._expected = number + 1
        self._last_heard = self.loop.time()

    def close_all(self, reason: str) -> None:
        """Messages may have been lost: every socket reconnects for the full state."""
        sockets = list(self.sockets)
        logger.warning("Channel layer lost messages (%s): closing %d sockets", reason, len(sockets))
        for consumer in sockets:
            self.sockets.discard(consumer)
            self.loop.create_task(consumer.close(code=RETRY_CLOSE_CODE))
