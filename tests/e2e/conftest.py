"""Browser tests: the app served by daphne, driven in Debian's chromium.

The server is the real thing, `daphne codev.asgi:application`, started once per
test run as a separate process pointed at the test database (DATABASE_URL set to
it; REDIS_URL passed through, so on CI the broadcasts go through Redis). A
separate process rather than a thread because daphne's Twisted reactor wants a
process of its own, and because the browser then meets what production runs.
So the data each test creates must be committed (`django_db(transaction=True)`)
and, on SQLite, the test database must be a file (see tests/conftest.py).

Playwright never downloads a browser here: it launches /usr/bin/chromium.
"""

import os
import re
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.db import connection
from playwright.sync_api import expect

from tests.conftest import PASSWORD

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
]
SCREENSHOTS = Path(__file__).parent / "screenshots"
SERVER_START_TIMEOUT = 30
# Playwright's `expect` waits 5 s by default for what must appear: on a busy
# 2-core machine (CI beside other work) a page sometimes took longer, and a
# test failed for being slow, not wrong. Only a failing test waits this long.
expect.set_options(timeout=20_000)


def _test_database_url() -> str:
    """DATABASE_URL for the test database pytest-django has just created."""
    name = connection.settings_dict["NAME"]
    if connection.vendor == "sqlite":
        if connection.is_in_memory_db():
            raise RuntimeError(
                "The browser tests need a file-based SQLite test database: "
                "another process (daphne) serves the app."
            )
        return f"sqlite:///{Path(name).resolve()}"
    url = os.environ.get("DATABASE_URL", "")
    if not url:
        raise RuntimeError(f"Cannot point daphne at the {connection.vendor} test database.")
    return urlsplit(url)._replace(path=f"/{name}").geturl()


@pytest.fixture(scope="session")
def live_server_url(django_db_setup, tmp_path_factory):
    """Serve the app with daphne (HTTP and websockets) on a free port."""
    log_path = tmp_path_factory.mktemp("daphne") / "daphne.log"
    env = {
        **os.environ,
        "DATABASE_URL": _test_database_url(),
        # A local test server: plain HTTP, static files from the app folders.
        "DEBUG": "true",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "PYTHONUNBUFFERED": "1",
    }
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    command = [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", "0"]
    command.append("codev.asgi:application")
    with log_path.open("wb") as log:
        process = subprocess.Popen(  # noqa: S603
            command, cwd=settings.BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT
        )
    try:
        port = None
        deadline = time.monotonic() + SERVER_START_TIMEOUT
        while port is None:
            found = re.search(r"Listening on TCP address [\d.]+:(\d+)", log_path.read_text())
            if found:
                port = int(found.group(1))
            elif process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"daphne did not start:\n{log_path.read_text()[-3000:]}")
            else:
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="module")
def browser():
    """Debian's chromium, one per test module.

    Playwright's sync API keeps an event loop running in this thread, and Django
    refuses database calls from such a thread: the flag allows them while the
    browser is open (test bodies, then pytest-django's flush), and no longer.
    """
    from playwright.sync_api import sync_playwright

    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            yield browser
            browser.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture(scope="session")
def server_password_hash():
    """PASSWORD hashed with the server's own hasher.

    The suite's autouse `fast_password_hasher` makes MD5 hashes, which the
    daphne process (real settings) cannot check; one PBKDF2 hash, computed once,
    is given to the people who sign in through the login page.
    """
    hasher = PBKDF2PasswordHasher()
    return hasher.encode(PASSWORD, hasher.salt())


PROJECTOR = {"viewport": {"width": 1920, "height": 1080}}


@pytest.fixture
def open_as(browser, live_server_url, server_password_hash):
    """`open_as(user, device, path)`: a page of its own, on `device` (the
    viewport and touch of tests/e2e/test_live_session.py's LAPTOP, PHONE, or
    PROJECTOR), signed in as `user` through the login page, at `path`. Every
    context it opened is closed at the end."""
    from groups.models import User
    from tests.e2e.test_live_session import sign_in

    contexts = []

    def _open(user, device, path):
        User.objects.filter(pk=user.pk).update(password=server_password_hash)
        context = browser.new_context(base_url=live_server_url, locale="fr-FR", **device)
        contexts.append(context)
        page = context.new_page()
        sign_in(page, user, path)
        return page

    yield _open
    for context in contexts:
        context.close()


@pytest.fixture
def screenshot():
    """Save a page's screenshot as tests/e2e/screenshots/<name>.png."""
    SCREENSHOTS.mkdir(exist_ok=True)

    def _screenshot(page, name: str) -> None:
        page.screenshot(path=SCREENSHOTS / f"{name}.png", full_page=True)

    return _screenshot


@pytest.fixture
def servers(django_db_setup, tmp_path):
    """Start daphne and redis-server processes on demand, each on a port of its own.

    `servers.redis()` is a private redis-server a test may stop and start
    again; `servers.daphne(name, redis=…, ping=…, debug=…)` serves the test
    database, through that Redis when given (whatever REDIS_URL this run has),
    with DEBUG on unless `debug=False`. Every process still running at the end
    of the test is stopped.
    """
    from tests.e2e.servers import DaphneServer, RedisServer, production_env, server_env

    started = []

    class Servers:
        def redis(self) -> RedisServer:
            server = RedisServer(tmp_path)
            started.append(server)
            return server.start()

        def daphne(self, name: str, *, redis=None, ping=None, debug=True) -> DaphneServer:
            extra = {"REDIS_URL": redis.url} if redis is not None else {}
            if not debug:
                extra |= production_env(tmp_path / "static")
            env = server_env(_test_database_url(), **extra)
            server = DaphneServer(env, tmp_path, name, ping=ping)
            started.append(server)
            return server.start()

    yield Servers()
    for server in reversed(started):
        server.stop()
