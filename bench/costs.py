"""`make bench`, last part: what one click costs the server's CPU, piece by piece.

bench/fanout.py gives the latency under load; this gives the CPU time each
part of a click takes, so the capacity of a machine can be worked out from it
(docs/performance.md, "What a click costs"). Everything runs in this one
process, against the same kind of database and channel layer as fanout.py
(DATABASE_URL, REDIS_URL), on a session of 8 at the contributions step with
12 cards on its board. Times are CPU times (`time.process_time`), so waiting
for PostgreSQL or Redis is not counted: only what daphne itself would spend.

    DATABASE_URL=postgres://… REDIS_URL=redis://… python bench/costs.py
"""

import asyncio
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ["BENCH_SESSIONS"] = "1"

from bench import fanout  # noqa: E402

REPEAT = 200
CARDS = fanout.CARDS


def cpu_ms(action, repeat=REPEAT) -> float:
    """CPU milliseconds per call of `action`, after a warm-up."""
    for _ in range(20):
        action()
    started = time.process_time()
    for _ in range(repeat):
        action()
    return (time.process_time() - started) / repeat * 1000


def main():
    os.environ.update(fanout.SERVER_ENV)
    os.environ["ALLOWED_HOSTS"] = "testserver"
    os.environ["DATABASE_URL"] = fanout.bench_database_url()
    world = fanout.build_world()

    from channels.layers import get_channel_layer
    from django.db import connection
    from django.test import Client
    from django.utils import translation

    from groups.models import User
    from sessions import access
    from sessions.models import Contribution, Session
    from sessions.roles import AUDIENCES
    from sessions.state import REGIONS, SERVER_NOW_MARK, load_state, render_regions

    bench_session = world[0]
    session = Session.objects.get(code=bench_session.code)
    # fanout.build_world seeded the board with its cards (fanout.CARDS).
    assert Contribution.objects.filter(session=session).count() == CARDS
    facilitator = User.objects.get(pk=bench_session.facilitator.user_id)

    def browser(member):
        client = Client(HTTP_HX_REQUEST="true")
        client.cookies["sessionid"] = member.cookie
        return client

    at = {"step": "contributions"}
    facilitator_browser = browser(bench_session.facilitator)
    member_browser = browser(bench_session.members[3])

    def step_change():
        forward = at["step"] == "contributions"
        direction = "next" if forward else "previous"
        response = facilitator_browser.post(
            f"/s/{session.code}/step/", {"from_step": at["step"], "direction": direction}
        )
        assert response.status_code == 204, response.status_code
        at["step"] = "action_plan" if forward else "contributions"

    def page_load():
        response = member_browser.get(f"/s/{session.code}/", HTTP_HX_REQUEST="")
        assert response.status_code == 200, response.status_code

    rows = []

    def row(name, milliseconds, note=""):
        rows.append((name, milliseconds, note))
        fanout.log(f"  {name:<52} {milliseconds:6.2f} ms  {note}")

    # The pieces first, at the contributions step (a consultant's composer,
    # the client's tags on the board); then the whole requests.
    translation.activate("fr")
    session.refresh_from_db()
    row(
        "access check (session_for_member), on a refusal only now",
        cpu_ms(lambda: access.session_for_member(facilitator, session.code)),
    )
    row(
        "live state read, every region (load_state)",
        cpu_ms(lambda: load_state(session.pk, live=True)),
    )
    state = load_state(session.pk, live=True)
    for audience in AUDIENCES:
        row(
            f"render every region for the {audience}",
            cpu_ms(lambda a=audience: render_regions(state, a, server_now=SERVER_NOW_MARK)),
        )
    for region in REGIONS:
        row(
            f"  region {region} (consultant)",
            cpu_ms(lambda r=region: render_regions(state, "consultant", regions=(r,))),
        )
    translation.deactivate()

    def orm_row():
        Session.objects.values_list("version", flat=True).get(pk=session.pk)

    def raw_row():
        with connection.cursor() as cursor:
            cursor.execute("SELECT version FROM codev_sessions_session WHERE id = %s", [session.pk])
            cursor.fetchone()

    row("one row through the ORM", cpu_ms(orm_row))
    row("the same row, raw SQL", cpu_ms(raw_row))

    message = {
        "type": "session.state",
        "html": {"fr": dict.fromkeys(AUDIENCES, "x" * 9000)},
        "roles": {},
    }

    async def sends():
        layer = get_channel_layer()
        for _ in range(20):
            await layer.group_send("costs", message)
        started = time.process_time()
        for _ in range(REPEAT):
            await layer.group_send("costs", message)
        return (time.process_time() - started) / REPEAT * 1000

    row("one group_send of a 27 kB message (a full state)", asyncio.run(sends()))

    queries = []
    with connection.execute_wrapper(lambda execute, *args: queries.append(1) or execute(*args)):
        step_change()
        step_change()
    # An even number of moves: the session ends at the contributions step.
    row("step change POST, whole (Django's handler, no daphne)", cpu_ms(step_change))
    row("  queries it makes", len(queries) / 2, "(a count, not ms)")
    row("session page GET, whole", cpu_ms(page_load))

    figures = {name: value for name, value, _ in rows}
    whole = figures["step change POST, whole (Django's handler, no daphne)"]
    print(
        f"costs step_change_ms={whole:.1f} queries={figures['  queries it makes']:.0f} "
        f"page_ms={figures['session page GET, whole']:.1f} "
        f"cores_at_150_per_s={whole * 150 / 1000:.2f}"
    )


if __name__ == "__main__":
    main()
