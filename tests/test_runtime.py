"""The server process settles Python's garbage collector once the app is loaded."""

import gc
import os
import subprocess
import sys
import weakref
from pathlib import Path

import pytest
from asgiref.sync import SyncToAsync

from codev.runtime import FULL_COLLECTION_EVERY, settle_garbage_collector

ROOT = Path(__file__).resolve().parent.parent


class Node:
    other = None


def test_loading_the_asgi_application_freezes_what_it_loaded():
    # In a fresh interpreter, as daphne loads it: this test process has
    # imported codev.asgi already (the socket tests do).
    probe = "import gc, codev.asgi; print(gc.get_freeze_count(), *gc.get_threshold(), sep=',')"
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "codev.settings"}
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    frozen, gen0, gen1, gen2 = map(int, result.stdout.strip().splitlines()[-1].split(","))
    # Django, the apps and the routing: tens of thousands of objects that no
    # full collection walks again.
    assert frozen > 20_000
    assert (gen0, gen1, gen2) == (700, 10, FULL_COLLECTION_EVERY)


def test_only_the_full_collection_is_made_rarer():
    before = gc.get_threshold()
    try:
        gc.set_threshold(700, 10, 10)
        settle_garbage_collector()
        assert gc.get_threshold() == (700, 10, FULL_COLLECTION_EVERY)
        # What is frozen is what existed: a cycle made afterwards is collected.
        cycle = Node()
        cycle.other = cycle
        alive = weakref.ref(cycle)
        del cycle
        gc.collect()
        assert alive() is None
    finally:
        gc.set_threshold(*before)
        gc.unfreeze()


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_a_request_under_asgi_runs_its_middleware_in_one_thread(monkeypatch, async_client):
    # Django's ASGI handler adapts each middleware to the mode of the one
    # below it: an async-capable one at the bottom made every MiddlewareMixin
    # above hop to a thread and back for each hook (codev.middleware).
    hops = []
    original = SyncToAsync.__call__

    async def counted(self, *args, **kwargs):
        hops.append(getattr(self.func, "__qualname__", repr(self.func)))
        return await original(self, *args, **kwargs)

    monkeypatch.setattr(SyncToAsync, "__call__", counted)
    response = await async_client.get("/accounts/login/")

    assert response.status_code == 200
    # One hop for the whole chain; the others are Django's ASGI handler's own
    # (the request_started signal, view middleware, the view, the render, the
    # close). With the chain async there were 19, one per middleware hook.
    assert not [hop for hop in hops if ".process_request" in hop or ".process_response" in hop]
    assert len(hops) <= 6, hops
