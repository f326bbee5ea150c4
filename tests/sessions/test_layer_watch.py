"""The layer watch tells a silent Redis from a busy process.

An overloaded daphne process runs its event loop late: its heartbeat comes
back late too, though Redis delivered it in time. Closing every socket then
(800 phones reconnecting at once, each asking for the full state) would make
the overload worse: measured with `make bench` before this rule, it closed all
800 sockets of a saturated process. Silence counts only while the loop runs.
"""

import asyncio
import time

import pytest
from channels_redis.pubsub import RedisPubSubChannelLayer

from sessions import layer_watch
from tests.e2e.servers import RedisServer

pytestmark = pytest.mark.asyncio


class Socket:
    def __init__(self):
        self.closed_with = None

    async def close(self, code=None):
        self.closed_with = code


@pytest.fixture
def redis_url(tmp_path):
    server = RedisServer(tmp_path).start()
    yield server.url
    server.stop()


async def watched(redis_url):
    layer = RedisPubSubChannelLayer(hosts=[redis_url])
    watch = layer_watch.watch(layer)
    socket = Socket()
    watch.sockets.add(socket)
    deadline = time.monotonic() + 5
    while watch._expected is None and time.monotonic() < deadline:
        await asyncio.sleep(0.1)  # the first heartbeat came back
    assert watch._expected is not None
    return layer, watch, socket


async def stop(layer, watch):
    watch._beater.cancel()
    watch._judge_task.cancel()
    watch._listener.cancel()
    await layer.flush()


async def test_a_loop_that_ran_late_closes_no_socket(redis_url):
    layer, watch, socket = await watched(redis_url)

    # The process is busy: nothing runs on its loop for longer than the limit.
    time.sleep(layer_watch.STALE_SECONDS + 1.5)
    await asyncio.sleep(2 * layer_watch.HEARTBEAT_SECONDS + 0.5)

    assert socket.closed_with is None
    assert watch.delivering
    await stop(layer, watch)


async def test_a_silent_redis_still_closes_the_sockets(redis_url, tmp_path):
    layer, watch, socket = await watched(redis_url)
    # Redis stops answering: the heartbeats go nowhere while the loop runs.
    watch._listener.cancel()

    await asyncio.sleep(layer_watch.STALE_SECONDS + 2 * layer_watch.HEARTBEAT_SECONDS + 0.5)

    assert socket.closed_with == layer_watch.RETRY_CLOSE_CODE
    await stop(layer, watch)
