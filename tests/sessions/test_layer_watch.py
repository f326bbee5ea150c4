"""The layer watch tells a silent Redis from a busy process.

An overloaded daphne process runs its event loop late: its heartbeat comes
back late too, though Redis delivered it in time. Closing every socket then
(800 phones reconnecting at once, each asking for the full state) would make
the overload worse: measured with `make bench` before this rule, it closed all
800 sockets of a saturated process. Silence counts only while the loop runs.

No test here waits a fixed time and then looks: on a busy machine the loop
itself runs late, which the watch rightly discounts, and a fixed wait then
ends before the watch has judged. Each waits for the event it is about.
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


async def until(condition, timeout=60):
    deadline = time.monotonic() + timeout
    while not condition() and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
    return condition()


async def watched(redis_url):
    layer = RedisPubSubChannelLayer(hosts=[redis_url])
    watch = layer_watch.watch(layer)
    socket = Socket()
    watch.sockets.add(socket)
    assert await until(lambda: watch._expected is not None)  # the first heartbeat came back
    return layer, watch, socket


async def stop(layer, watch):
    watch._beater.cancel()
    watch._judge_task.cancel()
    watch._listener.cancel()
    await layer.flush()


async def test_a_loop_that_ran_late_closes_no_socket(redis_url):
    layer, watch, socket = await watched(redis_url)

    # The process is busy: nothing runs on its loop for longer than the limit.
    before = watch._expected
    time.sleep(layer_watch.STALE_SECONDS + 1.5)
    # The loop runs again: two heartbeats come back, judged after the stall.
    assert await until(lambda: watch._expected >= before + 2)

    assert socket.closed_with is None
    assert watch.delivering
    await stop(layer, watch)


async def test_a_silent_redis_still_closes_the_sockets(redis_url, tmp_path):
    layer, watch, socket = await watched(redis_url)
    # Redis stops answering: the heartbeats go nowhere while the loop runs.
    watch._listener.cancel()

    assert await until(lambda: socket.closed_with is not None)
    assert socket.closed_with == layer_watch.RETRY_CLOSE_CODE
    await stop(layer, watch)
