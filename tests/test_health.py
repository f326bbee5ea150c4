"""GET /healthz: 200 while the database answers, 503 when it does not."""

import subprocess
import sys

from django.conf import settings

from tests.e2e.servers import free_port


def test_health_answers_a_proxy_over_http_with_any_host(client, db, settings):
    settings.ALLOWED_HOSTS = ["codev.example.org"]
    settings.SECURE_SSL_REDIRECT = True
    response = client.get("/healthz", headers={"host": "10.0.0.5:8000"})
    assert response.status_code == 200
    assert response.content == b"ok\n"


def test_other_paths_still_check_the_host(client, db, settings):
    settings.ALLOWED_HOSTS = ["codev.example.org"]
    response = client.get("/accounts/login/", headers={"host": "10.0.0.5:8000"})
    assert response.status_code == 400


def test_health_is_503_when_the_database_does_not_answer():
    # A real process whose PostgreSQL is a port where nothing listens.
    script = (
        "import django; django.setup(); from django.test import Client; "
        "r = Client().get('/healthz'); print(r.status_code, r.content.decode().strip())"
    )
    env = {
        "DJANGO_SETTINGS_MODULE": "codev.settings",
        "DEBUG": "true",
        "DATABASE_URL": f"postgres://nobody@127.0.0.1:{free_port()}/codev",
        "PATH": "/usr/bin:/bin",
    }
    result = subprocess.run(  # noqa: S603
        [sys.executable, "-c", script],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.stdout.strip().splitlines()[-1] == "503 database unavailable", result.stderr
    assert "Health check: the database does not answer" in result.stderr
