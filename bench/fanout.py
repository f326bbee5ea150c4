"""`make bench`: how fast a click in a live session reaches every phone, under load.

What it does, in one run (docs/performance.md explains the figures):

1. Makes a database of its own (`<name>_bench` next to DATABASE_URL on
   PostgreSQL, else a SQLite file) and fills it through Codev's services: 100
   groups of 8, each with a live session at the contributions step (one
   facilitator, one client, six consultants) and 12 cards on its board.
2. Starts the real app, `daphne codev.asgi:application` (REDIS_URL set: the
   Redis pub/sub layer, shared by BENCH_PROCESSES daphne processes on one
   socket, one per core by default; unset: the in-memory layer, one process),
   and opens 800 websockets with each member's session cookie and the right
   Origin.
3. Bytes: in every session a step forward and back, then a card posted, on a
   board of 12 cards; the bytes each phone's socket receives for each, and
   the bytes of the POST's answer.
4. Clicks only: HTTP POSTs at RATE clicks/s (50) for DURATION s, one click at
   a time per session: a consultant's contribution, the step forward, the
   step back. Nothing else asked of daphne: its CPU time (user + system)
   divided by the clicks is `cpu_ms_per_click`.
5. Page loads alone: BENCH_PAGE_LOADS session pages, one per process at a
   time, and nothing else: daphne's CPU per load is `page_cpu_ms`.
6. Steady load: the same clicks at RATE, while a member loads a session page
   ten times a second. For each click, the time from sending the POST until
   all 8 sockets of the session hold the new version; the pages' p95.
7. Capacity: the same at CAPACITY_RATE (150), past what 2 cores carry: the
   clicks done per second.
8. Burst: 100 step changes at once, one per session.
9. Resync: `kill -9` of daphne, a new one on the same socket, and the time
   until the 800 sockets, reconnecting as live.js does, show the current state.
10. The floor: bench/floor_asgi.py under daphne, the same 800 sockets and the
   same clicks at RATE, relaying a message of the size Codev's were, with no
   database and no rendering: its p99, and its CPU per click.

The last line is the summary the issues asked for (SUMMARY_FIELDS, on one line):
fanout sockets=800 rate=50 p50_ms=… p99_ms=… floor_p99_ms=… ratio=… burst_p99_ms=…
    lost=… http_p95_ms=… cpu_ms_per_click=… floor_cpu_ms_per_click=… cpu_ratio=…
    page_cpu_ms=… card_bytes=… step_bytes=… answer_bytes=… capacity_rate=150
    capacity_clicks_per_s=… capacity_p99_ms=…
"""

import asyncio
import contextlib
import os
import random
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import aiohttp
import websockets

ROOT = Path(__file__).resolve().parent.parent
SESSIONS = int(os.environ.get("BENCH_SESSIONS", "100"))
# The rate the issue-11 targets are set at; the capacity phase asks for more.
RATE = float(os.environ.get("BENCH_RATE", "50"))
CAPACITY_RATE = float(os.environ.get("BENCH_CAPACITY_RATE", "150"))
DURATION = float(os.environ.get("BENCH_DURATION", "20"))
# One daphne process per core, as docs/operations.md deploys it (Redis only).
PROCESSES = int(os.environ.get("BENCH_PROCESSES", str(os.cpu_count() or 1)))
PAGE_RATE = 10
# Page loads timed one by one, nothing else running, for `page_cpu_ms`.
PAGE_CPU_LOADS = int(os.environ.get("BENCH_PAGE_LOADS", "200"))
# A directory: py-spy records each daphne process during the clicks-only phase
# and the page loads alone (collapsed stacks, holding the GIL), to read where
# the CPU goes (docs/performance.md). Off by default: it costs CPU itself.
PROFILE = os.environ.get("BENCH_PROFILE", "")
# Cards seeded on every board, as issue 11 measures the bytes a phone gets.
CARDS = 12
# As production runs daphne (Dockerfile): 800 sockets pinged every 3 s.
DAPHNE_PING = ["--ping-interval", "3", "--ping-timeout", "5"]
CLICK_TIMEOUT = 5.0
VERSION = re.compile(r'data-version="(\d+)"')
# The version a message produces, in its envelope (sessions/deltas.py): a
# delta may carry no region, hence no data-version.
PRODUCES = re.compile(r'^<template data-sync[^>]* data-to="(\d+)">')
SECRET_KEY = "bench-" + "k" * 50
CSRF_TOKEN = "b" * 32

# The daphne processes are told they run in production, over plain HTTP.
SERVER_ENV = {
    "SECRET_KEY": SECRET_KEY,
    "DEBUG": "false",
    "ALLOWED_HOSTS": "127.0.0.1",
    "SECURE_SSL_REDIRECT": "false",
    "SESSION_COOKIE_SECURE": "false",
    "CSRF_COOKIE_SECURE": "false",
    "SECURE_HSTS_SECONDS": "0",
    "DJANGO_SETTINGS_MODULE": "codev.settings",
    "PYTHONUNBUFFERED": "1",
    # A pool of PostgreSQL connections shared by daphne's request threads.
    "DATABASE_POOL_SIZE": os.environ.get("DATABASE_POOL_SIZE", "16"),
}


def log(*args):
    print(*args, file=sys.stderr, flush=True)


def percentile(values, fraction):
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


# -- database ---------------------------------------------------------------


def bench_database_url() -> str:
    """A database of the bench's own, made empty: never the developer's data."""
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith(("postgres://", "postgresql://")):
        import psycopg

        parts = urlsplit(url)
        name = (parts.path.lstrip("/") or "codev") + "_bench"
        admin = parts._replace(path="/postgres").geturl()
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')
        return parts._replace(path=f"/{name}").geturl()
    path = Path(tempfile.gettempdir()) / f"codev-bench-{os.getpid()}.sqlite3"
    path.unlink(missing_ok=True)
    return f"sqlite:///{path}"


@dataclass
class Member:
    user_id: int
    cookie: str


@dataclass
class BenchSession:
    index: int
    code: str
    facilitator: Member
    consultants: list
    members: list
    version: int = 0
    step: str = "contributions"
    clicks: int = 0
    busy: bool = False
    pending: "Pending | None" = None


@dataclass
class Pending:
    started: float
    base: int
    done: asyncio.Future
    got: set = field(default_factory=set)
    last: float = 0.0
    # UTF-8 bytes of the messages that carried the new version, all sockets.
    bytes: int = 0


def build_world():
    """Groups, members and live sessions, made through Codev's own services."""
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connections
    from django.test import Client
    from django.utils import timezone

    from groups import services as group_services
    from groups.models import Membership, User
    from sessions import services
    from sessions.models import Contribution, Session
    from sessions.steps import Step

    call_command("migrate", verbosity=0)
    call_command("collectstatic", verbosity=0, interactive=False)
    users = User.objects.bulk_create(
        User(email=f"p{i}@bench.codev", full_name=f"Pair {i}", password="!")  # noqa: S106
        for i in range(SESSIONS * 8)
    )
    world = []
    for index in range(SESSIONS):
        people = users[index * 8 : (index + 1) * 8]
        facilitator, client, consultants = people[0], people[1], people[2:]
        group = group_services.group_create(
            user=facilitator,
            creator_role=Membership.Role.FACILITATOR,
            name=f"Groupe {index}",
        )
        Membership.objects.bulk_create(
            Membership(group=group, user=u, charter_accepted_at=timezone.now()) for u in people[1:]
        )
        session = Session.objects.create(
            group=group, scheduled_at=timezone.now(), created_by=facilitator
        )
        services.session_set_roles(
            session=session,
            by=facilitator,
            facilitator=facilitator,
            client=client,
            consultants=list(consultants),
        )
        session.refresh_from_db()
        services.session_start(session=session, by=facilitator, include_retour=False)
        session.refresh_from_db()
        while session.step != Step.CONTRIBUTIONS:
            services.session_move(
                session=session, by=facilitator, from_step=session.step, forward=True
            )
            session.refresh_from_db()
        # Seeded, not posted: no broadcast, and the version stays as it was.
        Contribution.objects.bulk_create(
            Contribution(
                session=session,
                author=consultants[i % len(consultants)],
                text=f"Carte {i} : et si vous en parliez d'abord à l'équipe ?",
            )
            for i in range(CARDS)
        )
        members = []
        for user in people:
            browser = Client()
            browser.force_login(user)
            members.append(Member(user.pk, browser.cookies["sessionid"].value))
        world.append(
            BenchSession(
                index=index,
                code=session.code,
                facilitator=members[0],
                consultants=members[2:],
                members=members,
            )
        )
    connections.close_all()
    return world


# -- servers ----------------------------------------------------------------


class Servers:
    """daphne processes sharing one listening socket, so a restart keeps the port."""

    def __init__(self, application: str, processes: int, env: dict, log_path: Path):
        self.application = application
        self.processes = processes
        self.env = env
        self.log_path = log_path
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(1024)
        self.port = self.sock.getsockname()[1]
        self.children = []

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self):
        fd = self.sock.fileno()
        log_file = self.log_path.open("ab")
        for _ in range(self.processes):
            command = [sys.executable, "-m", "daphne", "--fd", str(fd), *DAPHNE_PING]
            command.append(self.application)
            self.children.append(
                subprocess.Popen(  # noqa: S603
                    command,
                    cwd=ROOT,
                    env=self.env,
                    stdout=log_file,
                    stderr=subprocess.STDOUT,
                    pass_fds=[fd],
                )
            )

    def wait_ready(self, path: str):
        import urllib.request

        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(self.base + path, timeout=2)  # noqa: S310
                return
            except Exception as error:  # noqa: BLE001
                if getattr(error, "code", None):
                    return
                time.sleep(0.2)
        raise RuntimeError(f"daphne did not answer:\n{self.log_path.read_text()[-3000:]}")

    def kill(self):
        for child in self.children:
            child.send_signal(signal.SIGKILL)
            child.wait()
        self.children = []

    def stop(self):
        for child in self.children:
            child.terminate()
        for child in self.children:
            try:
                child.wait(timeout=10)
            except subprocess.TimeoutExpired:
                child.kill()
        self.children = []

    @property
    def pids(self):
        return [child.pid for child in self.children]


# -- clients ----------------------------------------------------------------


class Fleet:
    """800 phones: one websocket each, noting when each version arrives."""

    def __init__(self, base: str, world, ws_path):
        self.base = base
        self.world = world
        self.ws_path = ws_path
        self.origin = base
        self.received = 0
        self.sizes = []
        self.tasks = []
        self.connected = asyncio.Event()
        self.synced_at = {}
        self.reconnecting = False
        self.stopping = False

    async def open(self, concurrency=40):
        limit = asyncio.Semaphore(concurrency)
        ready = []
        for session in self.world:
            for slot, member in enumerate(session.members):
                ready.append(asyncio.get_running_loop().create_future())
                self.tasks.append(
                    asyncio.create_task(self.phone(session, slot, member, limit, ready[-1]))
                )
        await asyncio.wait_for(asyncio.gather(*ready), 600)

    async def phone(self, session, slot, member, limit, ready):
        uri = self.base.replace("http", "ws", 1) + self.ws_path(session)
        headers = {"Origin": self.origin, "Cookie": f"sessionid={member.cookie}"}
        attempt = 0
        while not self.stopping:
            try:
                async with limit:
                    ws = await websockets.connect(
                        uri, additional_headers=headers, max_size=None, open_timeout=30
                    )
                    first = await ws.recv()
                attempt = 0
                self.note(session, slot, first)
                if not ready.done():
                    ready.set_result(None)
                self.synced_at[(session.index, slot)] = time.perf_counter()
                async for message in ws:
                    self.note(session, slot, message)
            # A refused handshake too (InvalidStatus): the server closed the socket
            # before accepting it, as it does while Redis refuses messages.
            except (TimeoutError, OSError, websockets.WebSocketException):
                pass
            if self.stopping:
                return
            # live.js: a bounded, jittered delay, so that 800 phones spread out.
            attempt += 1
            await asyncio.sleep(min(3.0, 0.25 * 2**attempt) * random.uniform(0.5, 1.0))

    def note(self, session, slot, message):
        now = time.perf_counter()
        found = PRODUCES.match(message) or VERSION.search(message)
        if not found:
            return
        version = int(found.group(1))
        self.received += 1
        self.sizes.append(len(message))
        session.version = max(session.version, version)
        pending = session.pending
        if pending and version > pending.base:
            pending.bytes += len(message.encode())
        if pending and version > pending.base and slot not in pending.got:
            pending.got.add(slot)
            pending.last = now
            if len(pending.got) == len(session.members) and not pending.done.done():
                pending.done.set_result(now)

    async def close(self):
        self.stopping = True
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)


@dataclass
class Answer:
    """What a click's POST gave back: its status, which kind of click it was
    ("card", "step", "relay") and the size of its body in bytes."""

    status: int
    kind: str
    bytes: int


@dataclass
class Kind:
    """Totals for one kind of click: POSTs, their answers' bytes, and the
    bytes and messages the sockets received for them."""

    clicks: int = 0
    answer_bytes: int = 0
    socket_bytes: int = 0
    deliveries: int = 0

    @property
    def bytes_per_phone(self) -> float:
        return self.socket_bytes / self.deliveries if self.deliveries else float("nan")


@dataclass
class Results:
    latencies: list = field(default_factory=list)
    expected: int = 0
    delivered: int = 0
    errors: int = 0
    skipped: int = 0
    posts: int = 0
    cpu: float = 0.0
    client_cpu: float = 0.0
    kinds: dict = field(default_factory=dict)

    def cpu_ms_per_click(self) -> float:
        return self.cpu / self.posts * 1000 if self.posts else float("nan")

    def answer_bytes(self) -> float:
        clicks = sum(k.clicks for k in self.kinds.values())
        return sum(k.answer_bytes for k in self.kinds.values()) / clicks if clicks else 0.0


async def click(http, session, send, results: Results):
    """One POST; done when every socket of the session has the new version."""
    loop = asyncio.get_running_loop()
    session.busy = True
    session.pending = pending = Pending(
        started=time.perf_counter(), base=session.version, done=loop.create_future()
    )
    try:
        answer = await send(http, session)
        results.posts += 1
        if answer.status >= 400:
            results.errors += 1
            log(f"click on session {session.index}: HTTP {answer.status}")
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(asyncio.shield(pending.done), CLICK_TIMEOUT)
        results.expected += len(session.members)
        results.delivered += len(pending.got)
        kind = results.kinds.setdefault(answer.kind, Kind())
        kind.clicks += 1
        kind.answer_bytes += answer.bytes
        kind.socket_bytes += pending.bytes
        kind.deliveries += len(pending.got)
        if len(pending.got) == len(session.members):
            results.latencies.append((pending.last - pending.started) * 1000)
    finally:
        session.pending = None
        session.busy = False
        session.clicks += 1


async def steady(http, world, send, results: Results, rate: float, duration: float):
    loop = asyncio.get_running_loop()
    interval = 1 / rate
    start = loop.time()
    tasks = set()
    n = 0
    cursor = 0
    while n * interval < duration:
        delay = start + n * interval - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        n += 1
        for _ in range(len(world)):
            session = world[cursor % len(world)]
            cursor += 1
            if not session.busy:
                session.busy = True  # before the task runs: the loop may not yield
                task = asyncio.create_task(click(http, session, send, results))
                tasks.add(task)
                task.add_done_callback(tasks.discard)
                break
        else:
            results.skipped += 1
    await asyncio.gather(*tasks)


async def burst(http, world, send_step, results: Results):
    await asyncio.gather(*(click(http, s, send_step, results) for s in world))


async def sample(http, world, sender, results: Results):
    """The bytes of each kind of click, every board holding CARDS cards: a step
    forward and back in every session, then one card posted on each board.
    One click at a time per session, 20 sessions at once."""
    limit = asyncio.Semaphore(20)

    async def one(session, send):
        async with limit:
            await click(http, session, send, results)

    for send in (sender.step, sender.step, sender.card):
        await asyncio.gather(*(one(s, send) for s in world))


async def page_cost(http, base, world, servers, loads: int, concurrency: int) -> float:
    """daphne's CPU ms per session page load, with nothing else asked of it:
    `concurrency` members loading pages one after another, `loads` in all."""
    remaining = iter(range(loads))

    async def member():
        for n in remaining:
            session = world[n % len(world)]
            viewer = session.members[n % len(session.members)]
            async with http.get(
                f"{base}/s/{session.code}/", headers={"Cookie": f"sessionid={viewer.cookie}"}
            ) as response:
                await response.read()
                if response.status != 200:
                    log(f"page load on session {session.index}: HTTP {response.status}")

    before = cpu_seconds(servers.pids)
    await asyncio.gather(*(member() for _ in range(concurrency)))
    return (cpu_seconds(servers.pids) - before) / loads * 1000


async def page_loads(http, base, world, stop: asyncio.Event, timings: list):
    while not stop.is_set():
        session = random.choice(world)
        member = random.choice(session.members)
        started = time.perf_counter()
        async with http.get(
            f"{base}/s/{session.code}/", headers={"Cookie": f"sessionid={member.cookie}"}
        ) as response:
            await response.read()
            if response.status == 200:
                timings.append((time.perf_counter() - started) * 1000)
        await asyncio.sleep(max(0, 1 / PAGE_RATE - (time.perf_counter() - started)))


# -- Codev's clicks ---------------------------------------------------------


@dataclass
class Senders:
    mixed: object
    step: object
    card: object


def codev_sender(base: str) -> Senders:
    async def post(http, session, path, member, data, kind):
        headers = {
            "Cookie": f"sessionid={member.cookie}; csrftoken={CSRF_TOKEN}",
            "X-CSRFToken": CSRF_TOKEN,
            "Origin": base,
            "HX-Request": "true",
        }
        async with http.post(f"{base}/s/{session.code}/{path}", data=data, headers=headers) as r:
            return Answer(r.status, kind, len(await r.read()))

    async def step(http, session):
        forward = session.step == "contributions"
        data = {"from_step": session.step, "direction": "next" if forward else "previous"}
        answer = await post(http, session, "step/", session.facilitator, data, "step")
        if answer.status < 400:
            session.step = "action_plan" if forward else "contributions"
        return answer

    async def card(http, session):
        author = session.consultants[session.clicks % len(session.consultants)]
        text = f"Contribution {session.clicks} : et si vous en parliez d'abord à l'équipe ?"
        data = {"kind": "suggestion", "text": text}
        return await post(http, session, "contributions/", author, data, "card")

    async def mixed(http, session):
        # contribution, forward, back: two step changes for one contribution.
        if session.clicks % 3 == 0 and session.step == "contributions":
            return await card(http, session)
        return await step(http, session)

    return Senders(mixed=mixed, step=step, card=card)


def floor_sender(base: str, size: int):
    async def relay(http, session):
        url = f"{base}/relay/{session.index}/{session.version + 1}/{size}/"
        async with http.post(url) as response:
            return Answer(response.status, "relay", len(await response.read()))

    return relay


# -- the run ----------------------------------------------------------------


def cpu_seconds(pids) -> float:
    """User + system CPU time of the processes: what a click costs the server,
    whatever else the machine is doing."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        except (OSError, IndexError, ValueError):
            pass
    return total / os.sysconf("SC_CLK_TCK")


def rss_mb(pids) -> float:
    total = 0
    for pid in pids:
        try:
            status = Path(f"/proc/{pid}/status").read_text()
            total += int(re.search(r"VmRSS:\s+(\d+)", status).group(1))
        except (OSError, AttributeError):
            pass
    return total / 1024


async def open_fleet(base, world, ws_path) -> "Fleet":
    fleet = Fleet(base, world, ws_path)
    opened = time.perf_counter()
    await fleet.open()
    log(f"  {len(fleet.tasks)} sockets open in {time.perf_counter() - opened:.1f} s")
    await asyncio.sleep(2)  # the presence broadcasts of the last joins settle
    return fleet


def http_client():
    connector = aiohttp.TCPConnector(limit=0)
    return aiohttp.ClientSession(connector=connector, cookie_jar=aiohttp.DummyCookieJar())


@contextlib.contextmanager
def profiled(pids, name: str):
    """py-spy on every daphne process while the block runs, when BENCH_PROFILE is set."""
    if not PROFILE:
        yield
        return
    Path(PROFILE).mkdir(parents=True, exist_ok=True)
    spies = [
        subprocess.Popen(  # noqa: S603
            [
                str(Path(sys.executable).parent / "py-spy"),
                "record",
                "--pid",
                str(pid),
                "--gil",
                "--rate",
                "100",
                "--format",
                "raw",
                "--nonblocking",
                "--output",
                str(Path(PROFILE) / f"{name}-{pid}.txt"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for pid in pids
    ]
    time.sleep(1)
    try:
        yield
    finally:
        for spy in spies:
            spy.send_signal(signal.SIGINT)
        for spy in spies:
            spy.wait(timeout=30)


async def timed(pids, phase, results: Results):
    """Run `phase`, charging the servers' CPU and this client's to `results`."""
    cpu_before = cpu_seconds(pids)
    client_before = cpu_seconds([os.getpid()])
    await phase
    results.cpu = cpu_seconds(pids) - cpu_before
    results.client_cpu = cpu_seconds([os.getpid()]) - client_before


async def loaded(http, base, world, send, results, rate, pids, page_timings):
    """The steady phase with a member loading a session page PAGE_RATE times a second."""
    stop = asyncio.Event()
    pages = asyncio.create_task(page_loads(http, base, world, stop, page_timings))
    await timed(pids, steady(http, world, send, results, rate, DURATION), results)
    stop.set()
    await pages


@dataclass
class CodevRun:
    sample: Results
    clicks_only: Results
    steady: Results
    capacity: "Results | None"
    burst: Results
    page_timings: list
    capacity_page_timings: list
    page_cpu_ms: float
    sizes: list
    resync: "float | None"


async def measure_codev(base, world, servers: Servers) -> CodevRun:
    """Every phase against Codev, on the same 800 sockets, one after the other."""
    fleet = await open_fleet(base, world, lambda s: f"/ws/sessions/{s.code}/")
    sender = codev_sender(base)
    pids = servers.pids
    async with http_client() as http:
        log(f"  bytes: a step forward and back, then a card, on boards of {CARDS} cards")
        sampled = Results()
        await sample(http, world, sender, sampled)
        log(f"  clicks only: {RATE:g}/s for {DURATION:g} s, no page loads")
        clicks_only = Results()
        phase = steady(http, world, sender.mixed, clicks_only, RATE, DURATION)
        with profiled(pids, "clicks"):
            await timed(pids, phase, clicks_only)
        await asyncio.sleep(1)
        log(f"  page loads alone: {PAGE_CPU_LOADS}, {servers.processes} at a time")
        with profiled(pids, "pages"):
            page_cpu_ms = await page_cost(
                http, base, world, servers, PAGE_CPU_LOADS, servers.processes
            )
        await asyncio.sleep(1)
        log(f"  steady: {RATE:g}/s for {DURATION:g} s, {PAGE_RATE} page loads/s")
        results, page_timings = Results(), []
        await loaded(http, base, world, sender.mixed, results, RATE, pids, page_timings)
        capacity, capacity_timings = None, []
        if CAPACITY_RATE:
            await asyncio.sleep(1)
            log(f"  capacity: {CAPACITY_RATE:g}/s asked for {DURATION:g} s, page loads too")
            capacity = Results()
            await loaded(
                http, base, world, sender.mixed, capacity, CAPACITY_RATE, pids, capacity_timings
            )
        await asyncio.sleep(1)
        burst_results = Results()
        await burst(http, world, sender.step, burst_results)
        resync = await restart(servers, fleet, world)
    sizes = fleet.sizes
    await fleet.close()
    return CodevRun(
        sample=sampled,
        clicks_only=clicks_only,
        steady=results,
        capacity=capacity,
        burst=burst_results,
        page_timings=page_timings,
        capacity_page_timings=capacity_timings,
        page_cpu_ms=page_cpu_ms,
        sizes=sizes,
        resync=resync,
    )


async def measure_floor(base, world, servers: Servers, size: int) -> Results:
    """The floor: the same sockets and clicks at RATE, clicks only, CPU counted."""
    fleet = await open_fleet(base, world, lambda s: f"/ws/floor/{s.index}/")
    relay = floor_sender(base, size)
    results = Results()
    async with http_client() as http:
        await timed(servers.pids, steady(http, world, relay, results, RATE, DURATION), results)
    await fleet.close()
    return results


async def restart(servers: Servers, fleet: Fleet, world):
    """kill -9, start again on the same socket, time until every phone is current."""
    before = {s.index: s.version for s in world}
    fleet.synced_at.clear()
    killed = time.perf_counter()
    await asyncio.to_thread(servers.kill)
    await asyncio.to_thread(servers.start)
    deadline = killed + 120
    total = sum(len(s.members) for s in world)
    while time.perf_counter() < deadline:
        current = sum(
            1
            for s in world
            for slot in range(len(s.members))
            if (s.index, slot) in fleet.synced_at and s.version >= before[s.index]
        )
        if current == total:
            break
        await asyncio.sleep(0.05)
    synced = [t for t in fleet.synced_at.values() if t > killed]
    if len(synced) < total:
        return None
    return max(synced) - killed


def summarize(name, results: Results):
    lat = results.latencies
    log(
        f"  {name}: clicks={len(lat)} p50={percentile(lat, 0.5):.1f} ms "
        f"p99={percentile(lat, 0.99):.1f} ms max={max(lat, default=0):.1f} ms "
        f"delivered={results.delivered}/{results.expected} errors={results.errors} "
        f"skipped={results.skipped}"
    )
    if results.posts and results.cpu:
        log(
            f"    server CPU {results.cpu_ms_per_click():.1f} ms per click"
            f" ({results.cpu / DURATION:.2f} cores), this client"
            f" {results.client_cpu / DURATION:.2f} cores, of {os.cpu_count()}"
        )


# The fields of the last line, in order, each with its format. The issue-5
# fields first (docs/performance.md), then issue 11's: CPU per click in the
# clicks-only phase for Codev and the floor, a page load's CPU, the bytes a
# phone receives, and the capacity run.
SUMMARY_FIELDS = (
    ("sockets", "d"),
    ("rate", "g"),
    ("p50_ms", ".1f"),
    ("p99_ms", ".1f"),
    ("floor_p99_ms", ".1f"),
    ("ratio", ".2f"),
    ("burst_p99_ms", ".1f"),
    ("lost", "d"),
    ("http_p95_ms", ".1f"),
    ("cpu_ms_per_click", ".2f"),
    ("floor_cpu_ms_per_click", ".2f"),
    ("cpu_ratio", ".2f"),
    ("page_cpu_ms", ".2f"),
    ("card_bytes", ".0f"),
    ("step_bytes", ".0f"),
    ("answer_bytes", ".0f"),
    ("capacity_rate", "g"),
    ("capacity_clicks_per_s", ".1f"),
    ("capacity_p99_ms", ".1f"),
)


def summary_line(figures: dict) -> str:
    """`fanout name=value …`: every field of SUMMARY_FIELDS, none left out."""
    missing = [name for name, _ in SUMMARY_FIELDS if name not in figures]
    if missing:
        raise KeyError(f"summary fields missing: {', '.join(missing)}")
    return "fanout " + " ".join(f"{name}={figures[name]:{spec}}" for name, spec in SUMMARY_FIELDS)


def ratio(a: float, b: float) -> float:
    return a / b if b else float("nan")


def main():
    os.chdir(ROOT)
    sys.path.insert(0, str(ROOT))
    os.environ.update(SERVER_ENV)
    os.environ["DATABASE_URL"] = bench_database_url()
    layer = "redis pub/sub" if os.environ.get("REDIS_URL") else "in-memory"
    processes = PROCESSES if os.environ.get("REDIS_URL") else 1
    log(
        f"fanout bench: {SESSIONS} sessions × 8, {RATE:g} clicks/s for {DURATION:g} s"
        f" (capacity: {CAPACITY_RATE:g}/s)"
    )
    log(f"  database {os.environ['DATABASE_URL']}, channel layer {layer}, daphne × {processes}")
    started = time.perf_counter()
    world = build_world()
    log(
        f"  {len(world)} live sessions made through the services"
        f" in {time.perf_counter() - started:.1f} s"
    )

    logs = Path(tempfile.mkdtemp(prefix="codev-bench-"))
    servers = Servers("codev.asgi:application", processes, dict(os.environ), logs / "daphne.log")
    servers.start()
    servers.wait_ready("/accounts/login/")
    try:
        rss_before = rss_mb(servers.pids)
        run = asyncio.run(measure_codev(servers.base, world, servers))
        rss_after = rss_mb(servers.pids)
    finally:
        servers.stop()
    cards, steps = run.sample.kinds.get("card", Kind()), run.sample.kinds.get("step", Kind())
    log(
        f"  bytes a phone receives: {cards.bytes_per_phone:.0f} per card,"
        f" {steps.bytes_per_phone:.0f} per step change;"
        f" the POST's answer: {ratio(cards.answer_bytes, cards.clicks):.0f} for a card,"
        f" {ratio(steps.answer_bytes, steps.clicks):.0f} for a step change"
    )
    summarize("codev clicks only", run.clicks_only)
    log(f"  page load alone: {run.page_cpu_ms:.2f} ms of daphne CPU each")
    summarize("codev steady", run.steady)
    log(
        f"  session page under load: {len(run.page_timings)} loads,"
        f" p95 {percentile(run.page_timings, 0.95):.1f} ms"
    )
    if run.capacity is not None:
        summarize("codev capacity", run.capacity)
        log(
            f"    {run.capacity.posts / DURATION:.1f} clicks done per second;"
            f" page p95 {percentile(run.capacity_page_timings, 0.95):.1f} ms"
        )
    summarize("codev burst", run.burst)
    size = round(statistics.fmean(run.sizes)) if run.sizes else 1000
    log(f"  message size: mean {size} chars; daphne RSS {rss_before:.0f} → {rss_after:.0f} MB")
    if run.resync is None:
        log("  resync after kill -9: not every socket came back within 120 s")
        print(f"resync sockets={SESSIONS * 8} seconds=timeout")
    else:
        print(f"resync sockets={SESSIONS * 8} seconds={run.resync:.2f}")

    floor_servers = Servers(
        "bench.floor_asgi:application", processes, dict(os.environ), logs / "floor.log"
    )
    floor_servers.start()
    floor_servers.wait_ready("/")
    floor_world = [
        BenchSession(
            index=s.index,
            code=s.code,
            facilitator=s.facilitator,
            consultants=s.consultants,
            members=s.members,
        )
        for s in world
    ]
    try:
        floor = asyncio.run(measure_floor(floor_servers.base, floor_world, floor_servers, size))
    finally:
        floor_servers.stop()
    summarize("floor steady", floor)
    log(f"  daphne logs: {logs}")

    p99 = percentile(run.steady.latencies, 0.99)
    floor_p99 = percentile(floor.latencies, 0.99)
    # Every update a socket never got, in every phase at RATE and the burst;
    # the capacity phase, past saturation by design, is reported apart.
    lost = sum(
        r.expected - r.delivered for r in (run.sample, run.clicks_only, run.steady, run.burst)
    )
    if run.capacity is not None:
        log(f"  lost in the capacity phase: {run.capacity.expected - run.capacity.delivered}")
    capacity = run.capacity or Results()
    figures = {
        "sockets": SESSIONS * 8,
        "rate": RATE,
        "p50_ms": percentile(run.steady.latencies, 0.5),
        "p99_ms": p99,
        "floor_p99_ms": floor_p99,
        "ratio": ratio(p99, floor_p99),
        "burst_p99_ms": percentile(run.burst.latencies, 0.99),
        "lost": lost,
        "http_p95_ms": percentile(run.page_timings, 0.95),
        "cpu_ms_per_click": run.clicks_only.cpu_ms_per_click(),
        "floor_cpu_ms_per_click": floor.cpu_ms_per_click(),
        "cpu_ratio": ratio(run.clicks_only.cpu_ms_per_click(), floor.cpu_ms_per_click()),
        "page_cpu_ms": run.page_cpu_ms,
        "card_bytes": cards.bytes_per_phone,
        "step_bytes": steps.bytes_per_phone,
        "answer_bytes": run.sample.answer_bytes(),
        "capacity_rate": CAPACITY_RATE,
        "capacity_clicks_per_s": capacity.posts / DURATION,
        "capacity_p99_ms": percentile(capacity.latencies, 0.99),
    }
    print(summary_line(figures), flush=True)


if __name__ == "__main__":
    main()
