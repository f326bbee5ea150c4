"""The processes the operations tests start, stop and kill: daphne and redis-server.

Each server binds an explicit port chosen once (never `-p 0`), so that a server
killed and started again comes back where its clients reconnect. Redis is a
private `redis-server` on its own port: a test may stop it without touching the
Redis other runs share on 6379.
"""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

START_TIMEOUT = 30


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait(ready, process: subprocess.Popen, what: str, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while not ready():
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"{what} did not start:\n{log.read_text()[-3000:]}")
        time.sleep(0.05)


def _stop(process: subprocess.Popen | None, sig: int) -> None:
    if process is None or process.poll() is not None:
        return
    process.send_signal(sig)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


class RedisServer:
    """`redis-server` without persistence on a port of its own."""

    def __init__(self, directory: Path):
        self.port = free_port()
        self.log_path = directory / f"redis-{self.port}.log"
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as conn:
                conn.sendall(b"PING\r\n")
                return conn.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def start(self) -> "RedisServer":
        command = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1"]
        command += ["--save", "", "--appendonly", "no", "--daemonize", "no"]
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(  # noqa: S603
                command, stdout=log, stderr=subprocess.STDOUT
            )
        _wait(self.answers, self.process, "redis-server", self.log_path)
        return self

    def stop(self) -> None:
        _stop(self.process, signal.SIGTERM)

    def freeze(self) -> None:
        """SIGSTOP: connections are accepted by the kernel, never answered."""
        self.process.send_signal(signal.SIGSTOP)

    def thaw(self) -> None:
        self.process.send_signal(signal.SIGCONT)


class DaphneServer:
    """`daphne codev.asgi:application` on a fixed port, with the environment given."""

    def __init__(self, env: dict[str, str], directory: Path, name: str, *, ping=None):
        self.env = env
        self.cwd = Path(__file__).resolve().parents[2]
        self.port = free_port()
        self.log_path = directory / f"daphne-{name}.log"
        # (interval, timeout) in seconds: how daphne drops clients that never answer.
        self.ping = ping
        self.process: subprocess.Popen | None = None
        self._log_offset = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        return self.process.pid

    def _listening(self) -> bool:
        log = self.log_path.read_bytes()[self._log_offset :]
        return b"Listening on TCP address" in log

    def start(self) -> "DaphneServer":
        command = [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(self.port)]
        if self.ping:
            interval, timeout = self.ping
            command += ["--ping-interval", str(interval), "--ping-timeout", str(timeout)]
        command.append("codev.asgi:application")
        self._log_offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(  # noqa: S603
                command, cwd=self.cwd, env=self.env, stdout=log, stderr=log
            )
        _wait(self._listening, self.process, "daphne", self.log_path)
        return self

    def kill(self) -> None:
        """`kill -9`: no close frame, no cleanup, as a crashed machine."""
        _stop(self.process, signal.SIGKILL)

    def stop(self) -> None:
        _stop(self.process, signal.SIGTERM)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def rss_kib(self) -> int:
        """Resident memory of the server process, from /proc (Linux)."""
        status = Path(f"/proc/{self.pid}/status").read_text()
        line = next(line for line in status.splitlines() if line.startswith("VmRSS:"))
        return int(line.split()[1])


def production_env(static_root: Path) -> dict[str, str]:
    """What a test daphne needs to run with DEBUG off over plain HTTP: a secret
    key, cookies without Secure, no HTTPS redirect, and the static files
    collected (WhiteNoise serves the manifest's hashed names then)."""
    env = {
        "DEBUG": "false",
        "SECRET_KEY": "e2e-" + "q8Lr2Vt6Wy0Zb4Nc9Xd3Fg7Hj1Km5Ps" * 2,
        "SECURE_SSL_REDIRECT": "false",
        "SESSION_COOKIE_SECURE": "false",
        "CSRF_COOKIE_SECURE": "false",
        "SECURE_HSTS_SECONDS": "0",
        "STATIC_ROOT": str(static_root),
    }
    subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"],
        cwd=Path(__file__).resolve().parents[2],
        env={**os.environ, **env},
        check=True,
        timeout=120,
    )
    return env


def server_env(database_url: str, **extra: str) -> dict[str, str]:
    """The environment of a local test daphne: plain HTTP, the test database."""
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "DEBUG": "true",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "PYTHONUNBUFFERED": "1",
    }
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    env.pop("REDIS_URL", None)
    env.update(extra)
    return env
