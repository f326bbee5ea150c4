"""Operations: several daphne processes, and what the live session does when
Redis stops, when daphne is killed, when a client never reads, and when a
change races a page load.

Every test starts its own processes (tests/e2e/servers.py): daphne on a fixed
port, so that a killed server comes back where its clients reconnect, and a
private redis-server that a test may stop, on SQLite runs too. What they showed
is written up in docs/operations.md.
"""

import base64
import os
import re
import socket
import statistics
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass

import pytest
from django.conf import settings
from django.test import Client
from playwright.sync_api import Page, expect
from websockets.sync.client import connect

from sessions import services
from sessions.layer_watch import STALE_SECONDS
from sessions.models import Contribution, Presence, Question, Session
from sessions.steps import Step
from tests.conftest import go_live
from tests.e2e.test_live_session import PHONE

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

# A change reaches an open screen within this: a generous wait, not a speed
# target (as in test_live_session.py); the delays are printed, `make bench`
# measures them.
LIVE_DELAY = 20.0
# live.js waits at most 4 s between two tries (then the page loads the state).
RECONNECT_CAP = 4.0
VERSION = re.compile(r'data-version="(\d+)"')
# The version a message produces, in its envelope (sessions/deltas.py).
PRODUCES = re.compile(r'^<template data-sync[^>]* data-to="(\d+)">')


def version_of(html: str) -> int:
    produced = PRODUCES.match(html)
    if produced:
        return int(produced[1])
    return max(int(v) for v in VERSION.findall(html))


@dataclass
class Answer:
    status: int
    seconds: float
    body: str
    # For a step change: the session's version once it was taken.
    version: int | None = None


class Person:
    """A member signed in (a session cookie), without a browser: HTTP and websockets."""

    def __init__(self, user):
        client = Client()
        client.force_login(user)
        self.user = user
        self.cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
        self.csrf = None

    def cookies(self) -> str:
        cookies = f"{settings.SESSION_COOKIE_NAME}={self.cookie}"
        if self.csrf:
            cookies += f"; {settings.CSRF_COOKIE_NAME}={self.csrf[0]}"
        return cookies

    def _open(self, request) -> Answer:
        started = time.monotonic()
        try:
            # Only the local http:// daphne this test started.
            with urllib.request.urlopen(request, timeout=15) as response:  # noqa: S310
                status, body, headers = response.status, response.read(), response.headers
        except urllib.error.HTTPError as error:
            status, body, headers = error.code, error.read(), error.headers
        for cookie in headers.get_all("Set-Cookie") or []:
            found = re.match(rf"{settings.CSRF_COOKIE_NAME}=([^;]+)", cookie)
            if found:
                self.csrf = (found.group(1), self.csrf[1] if self.csrf else None)
        return Answer(status, time.monotonic() - started, body.decode())

    def get(self, base_url: str, path: str) -> Answer:
        request = urllib.request.Request(base_url + path, headers={"Cookie": self.cookies()})
        answer = self._open(request)
        # The token htmx sends, as the page gives it (hx-headers on <body>).
        token = re.search(r'"X-CSRFToken": "([^"]+)"', answer.body)
        if token:
            self.csrf = (self.csrf[0], token.group(1))
        return answer

    def post(self, base_url: str, path: str, data: dict) -> Answer:
        """An htmx POST, as the page makes it: CSRF token in the header."""
        assert self.csrf, "get() a page first: it sets the CSRF cookie and token"
        headers = {
            "Cookie": self.cookies(),
            "X-CSRFToken": self.csrf[1],
            "HX-Request": "true",
            "Origin": base_url,
        }
        body = urllib.parse.urlencode(data).encode()
        return self._open(urllib.request.Request(base_url + path, data=body, headers=headers))

    def socket(self, base_url: str, session):
        url = base_url.replace("http://", "ws://") + f"/ws/sessions/{session.code}/"
        headers = {"Cookie": self.cookies(), "Origin": base_url}
        return connect(url, additional_headers=headers, open_timeout=10, max_size=None, legacy=True)


class Reader:
    """A websocket client that reads every message in a thread, with its arrival time."""

    def __init__(self, person: Person, base_url: str, session):
        self.socket = person.socket(base_url, session)
        self.messages: list[tuple[float, str]] = []
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self) -> None:
        try:
            for message in self.socket:
                self.messages.append((time.monotonic(), message))
        except Exception:  # closed by the test or the server
            return

    def arrival(self, version: int, timeout: float = 10.0) -> float:
        """When the first message at `version` or later arrived."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for arrived, message in list(self.messages):
                versioned = PRODUCES.match(message) or VERSION.search(message)
                if versioned and version_of(message) >= version:
                    return arrived
            time.sleep(0.005)
        raise AssertionError(f"version {version} never came")

    def close(self) -> None:
        self.socket.close()


def open_phone(browser, server, person: Person, session) -> Page:
    """A phone's page on `server`, signed in by cookie, its socket open."""
    context = browser.new_context(base_url=server.url, locale="fr-FR", **PHONE)
    context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": person.cookie, "url": server.url}]
    )
    page = context.new_page()
    page.goto(f"/s/{session.code}/")
    # The socket's first message (the full state) shows its owner online.
    me = page.locator("#live-presence li").filter(has_text=person.user.full_name)
    expect(me).to_contain_text("connecté", timeout=10_000)
    return page


def header_shows(page: Page, label: str, seconds: float) -> None:
    expect(page.locator("#live-header h1")).to_contain_text(label, timeout=int(seconds * 1000))


def move(person: Person, server, session, from_step: str, direction: str = "next") -> Answer:
    answer = person.post(
        server.url, f"/s/{session.code}/step/", {"from_step": from_step, "direction": direction}
    )
    assert answer.status == 204, answer.body[:500]
    # The answer is empty: the version the move produced is the session's now.
    answer.version = Session.objects.values_list("version", flat=True).get(pk=session.pk)
    return answer


def test_a_step_posted_to_one_process_reaches_a_phone_on_another(
    servers, browser, planned_session, facilitator, consultants
):
    redis = servers.redis()
    first, second = servers.daphne("a", redis=redis), servers.daphne("b", redis=redis)
    go_live(planned_session)
    animator = Person(facilitator)
    animator.get(first.url, f"/s/{planned_session.code}/")
    phone = open_phone(browser, second, Person(consultants[0]), planned_session)
    # And a socket on the first process: a broadcast reaches both.
    reader = Reader(Person(consultants[1]), first.url, planned_session)

    since = time.monotonic()
    answer = move(animator, first, planned_session, "expose")
    header_shows(phone, "Clarification", LIVE_DELAY)
    print(f"\n[ops] A → phone on B: {time.monotonic() - since:.3f} s")
    assert reader.arrival(answer.version) - since < LIVE_DELAY
    reader.close()


def test_redis_stopped_mid_session_keeps_the_data_and_the_phones_catch_up(
    servers, browser, planned_session, facilitator, consultants
):
    redis = servers.redis()
    server = servers.daphne("app", redis=redis)
    go_live(planned_session)
    animator, consultant = Person(facilitator), Person(consultants[1])
    for person in (animator, consultant):
        person.get(server.url, f"/s/{planned_session.code}/")
    phone = open_phone(browser, server, Person(consultants[0]), planned_session)
    banner = phone.locator("#live-offline")
    expect(banner).to_be_hidden()

    redis.stop()
    stopped = time.monotonic()
    moved = move(animator, server, planned_session, "expose")
    question = "Depuis quand votre équipe fonctionne-t-elle ainsi ?"
    asked = consultant.post(
        server.url, f"/s/{planned_session.code}/questions/", {"kind": "fact", "text": question}
    )
    # The POSTs are taken at once (204), and the data is kept.
    assert asked.status == 204
    assert max(moved.seconds, asked.seconds) < 1.0, (moved.seconds, asked.seconds)
    planned_session.refresh_from_db()
    assert planned_session.step == Step.CLARIFICATION
    assert Question.objects.filter(session=planned_session, text=question).exists()
    assert f"Broadcast failed for session {planned_session.pk}" in server.log()

    # The phone missed both; within a few seconds it says so, instead of
    # showing a stale step as if it were current.
    # The watch discounts the time its own loop ran late: on a busy machine
    # the banner comes later than STALE_SECONDS, and that is right.
    expect(banner).to_be_visible(timeout=int(LIVE_DELAY + STALE_SECONDS) * 1000)
    print(f"\n[ops] Redis down → banner after {time.monotonic() - stopped:.2f} s")
    header_shows(phone, "Exposé", 0.1)
    # While Redis is down a new socket is refused at once (the page retries).
    with pytest.raises(Exception, match="403"):
        consultant.socket(server.url, planned_session)

    redis.start()  # the same port
    back = time.monotonic()
    header_shows(phone, "Clarification", RECONNECT_CAP + STALE_SECONDS)
    expect(phone.locator("#live-board")).to_contain_text(question)
    expect(banner).to_be_hidden()
    print(f"[ops] Redis back → phone current after {time.monotonic() - back:.2f} s")
    # Live again: the next change arrives without a reload.
    since = time.monotonic()
    move(animator, server, planned_session, "clarification")
    header_shows(phone, "Demande", LIVE_DELAY)
    print(f"[ops] next change after Redis came back: {time.monotonic() - since:.3f} s")
    # Nobody left shown online by a socket that closed while Redis was down.
    assert Presence.objects.filter(session=planned_session).count() == 1


def test_a_frozen_redis_holds_a_post_one_second_at_most(
    servers, planned_session, facilitator, consultants
):
    """A Redis that accepts connections and never answers (paused, or a network
    dropping packets): redis-py's 5 s default would hold the POST as long."""
    redis = servers.redis()
    server = servers.daphne("app", redis=redis)
    go_live(planned_session)
    animator = Person(facilitator)
    animator.get(server.url, f"/s/{planned_session.code}/")
    reader = Reader(Person(consultants[0]), server.url, planned_session)
    reader.arrival(0)

    redis.freeze()
    try:
        answer = move(animator, server, planned_session, "expose")
    finally:
        redis.thaw()
    print(f"\n[ops] POST with a frozen Redis: {answer.seconds:.2f} s")
    assert answer.seconds < 2.0
    planned_session.refresh_from_db()
    assert planned_session.step == Step.CLARIFICATION
    assert f"Broadcast failed for session {planned_session.pk}" in server.log()
    reader.close()


def test_every_phone_reconnects_after_daphne_is_killed(
    servers, browser, planned_session, facilitator, client_user, consultants
):
    redis = servers.redis()
    server = servers.daphne("app", redis=redis)
    go_live(planned_session)
    animator = Person(facilitator)
    animator.get(server.url, f"/s/{planned_session.code}/")
    phones = [
        open_phone(browser, server, Person(user), planned_session)
        for user in [client_user, consultants[0], consultants[1]]
    ]

    move(animator, server, planned_session, "expose")
    server.kill()
    for phone in phones:
        expect(phone.locator("#live-offline")).to_be_visible(timeout=5_000)
    # A change made while no server runs: no phone can have seen it live.
    planned_session.refresh_from_db()
    services.session_move(
        session=planned_session, by=facilitator, from_step=Step.CLARIFICATION, forward=True
    )

    server.start()  # the same port
    back = time.monotonic()
    waits = []
    for phone in phones:
        header_shows(phone, "Demande", RECONNECT_CAP + 2)
        expect(phone.locator("#live-offline")).to_be_hidden()
        waits.append(time.monotonic() - back)
    print(f"\n[ops] after kill -9, phones current {', '.join(f'{w:.2f}' for w in waits)} s")

    since = time.monotonic()
    move(animator, server, planned_session, "demand")
    for phone in phones:
        header_shows(phone, "Contributions", LIVE_DELAY)
    print(f"[ops] first change after the restart on every phone: {time.monotonic() - since:.3f} s")


def stuck_socket(person: Person, server, session) -> socket.socket:
    """A client that does the websocket handshake and then never reads again:
    a tiny receive buffer, so that the server's writes back up at once."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", server.port))
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall(
        (
            f"GET /ws/sessions/{session.code}/ HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n"
            "Upgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
            f"Origin: {server.url}\r\nCookie: {person.cookies()}\r\n\r\n"
        ).encode()
    )
    response = b""
    while b"\r\n\r\n" not in response:
        response += sock.recv(1)
    assert response.startswith(b"HTTP/1.1 101"), response
    return sock


def broadcast_latencies(animator, server, session, readers, count: int, until=None):
    """Up to `count` step changes (contributions ⇄ action plan), or until
    `until()` holds; for each, how long until the last reader had it."""
    latencies = []
    step = Step.CONTRIBUTIONS
    for index in range(count):
        if until is not None and until():
            break
        forward = index % 2 == 0
        since = time.monotonic()
        answer = move(animator, server, session, step, "next" if forward else "previous")
        version = answer.version
        latencies.append(max(reader.arrival(version) for reader in readers) - since)
        step = Step.ACTION_PLAN if forward else Step.CONTRIBUTIONS
    # An even count ends where it started, whatever stopped it.
    if step == Step.ACTION_PLAN:
        move(animator, server, session, step, "previous")
    return latencies


def summary(latencies: list[float]) -> str:
    ordered = sorted(latencies)
    p95 = ordered[int(0.95 * (len(ordered) - 1))]
    return (
        f"median {statistics.median(ordered) * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms, "
        f"max {ordered[-1] * 1000:.0f} ms"
    )


def test_a_client_that_never_reads_delays_nobody_and_is_dropped(
    servers, planned_session, facilitator, consultants
):
    ping_interval, ping_timeout = 1, 2
    redis = servers.redis()
    server = servers.daphne("app", redis=redis, ping=(ping_interval, ping_timeout))
    go_live(planned_session, Step.CONTRIBUTIONS)
    # A long board: each broadcast in the contributions step weighs ~130 kB,
    # so that a stuck socket's backlog outgrows the kernel's socket buffers
    # (4 MiB here) within the few seconds it is kept.
    Contribution.objects.bulk_create(
        Contribution(
            session=planned_session,
            author=consultants[index % 3],
            text=f"{index} " + "Un retour d'expérience détaillé. " * 28,
        )
        for index in range(100)
    )
    animator = Person(facilitator)
    animator.get(server.url, f"/s/{planned_session.code}/")
    readers = [Reader(Person(user), server.url, planned_session) for user in consultants[:3]]
    for reader in readers:
        reader.arrival(0)
    baseline = broadcast_latencies(animator, server, planned_session, readers, 20)
    rss_before = server.rss_kib()

    stuck_user = consultants[3]
    stuck = stuck_socket(Person(stuck_user), server, planned_session)
    stuck_port = stuck.getsockname()[1]
    stuck_since = time.monotonic()
    offered_before = sum(len(m) for _t, m in readers[0].messages)
    # daphne pings after `ping_interval` s without a frame from the client
    # (checked every 2 s); the pong cannot come back through a socket nobody
    # reads, so autobahn drops the connection `ping_timeout` s later.
    dropped = re.compile(rf":{stuck_port} .*WSDISCONNECT")
    rss_samples = []

    def stuck_dropped() -> bool:
        rss_samples.append(server.rss_kib())
        return bool(dropped.search(server.log()))

    with_stuck = broadcast_latencies(
        animator, server, planned_session, readers, 400, until=stuck_dropped
    )
    dropped_after = time.monotonic() - stuck_since
    # What the server had for the stuck client: what a reader of the same
    # audience received meanwhile.
    offered = sum(len(m) for _t, m in readers[0].messages) - offered_before
    assert stuck_dropped(), "daphne kept a client that never reads"
    assert dropped_after < ping_interval + ping_timeout + 2 + 4
    # Its consumer's disconnect runs just after: the person is no longer shown online.
    still_online = Presence.objects.filter(session=planned_session, user=stuck_user)
    deadline = time.monotonic() + 5
    while still_online.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not still_online.exists()
    rss_peak = max(rss_samples)

    after = broadcast_latencies(animator, server, planned_session, readers, 20)
    rss_after = server.rss_kib()
    stuck.close()
    for reader in readers:
        reader.close()

    print(
        f"\n[ops] 3 readers, step changes of up to 130 kB:"
        f"\n  without a stuck client ({len(baseline)}): {summary(baseline)}"
        f"\n  with a stuck client ({len(with_stuck)}):    {summary(with_stuck)}"
        f"\n  after it was dropped ({len(after)}):  {summary(after)}"
        f"\n  stuck client dropped after {dropped_after:.1f} s, "
        f"{offered / 2**20:.1f} MiB sent its way; daphne RSS "
        f"{rss_before / 1024:.0f} MiB before, peak {rss_peak / 1024:.0f} MiB, "
        f"{rss_after / 1024:.0f} MiB after"
    )
    # Nobody waits for the stuck socket: a generous margin for a shared machine.
    assert statistics.median(with_stuck) < 2 * statistics.median(baseline) + 0.05
    assert max(with_stuck) < 1.0
    # Bounded: a stuck socket holds at most what was sent its way until the
    # ping dropped it, and the broadcasts after that add nothing.
    assert rss_peak - rss_before < 32 * 1024 + 2 * offered // 1024
    assert rss_after < rss_peak + 8 * 1024


def test_a_change_between_page_render_and_socket_connect_is_not_lost(
    servers, browser, planned_session, facilitator, consultants
):
    redis = servers.redis()
    server = servers.daphne("app", redis=redis)
    go_live(planned_session)
    animator, consultant = Person(facilitator), Person(consultants[0])
    animator.get(server.url, f"/s/{planned_session.code}/")

    # Without a browser: the page rendered, then a change, then the socket.
    rendered = consultant.get(server.url, f"/s/{planned_session.code}/")
    moved = move(animator, server, planned_session, "expose")
    assert moved.version > version_of(rendered.body)
    socket_ = consultant.socket(server.url, planned_session)
    first = socket_.recv(timeout=5)
    socket_.close()
    assert version_of(first) >= moved.version
    assert "step-clarification" in first

    # In a browser: the page is rendered, then its websocket script (htmx's ws
    # extension) is held until a change has been made; the socket can only open
    # after that. (Holding the page's own HTML instead would do, but Chromium
    # then refuses a socket to 127.0.0.1 from a page Playwright fulfilled:
    # ERR_BLOCKED_BY_LOCAL_NETWORK_ACCESS_CHECKS.)
    person = Person(consultants[1])
    context = browser.new_context(base_url=server.url, locale="fr-FR", **PHONE)
    context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": person.cookie, "url": server.url}]
    )
    page = context.new_page()
    held = {}

    def change_then_release(route):
        held["moved"] = move(animator, server, planned_session, "clarification")
        route.continue_()

    page.route("**/django_htmx/ext/hx-ws-2*.js", change_then_release)
    rendered = page.goto(f"/s/{planned_session.code}/")
    assert held["moved"].version > version_of(rendered.text())
    header_shows(page, "Demande", LIVE_DELAY)
    shown = int(page.locator("#live-header").get_attribute("data-version"))
    assert shown >= held["moved"].version
    context.close()
