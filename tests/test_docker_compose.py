"""No Docker engine runs here: check that docker-compose.yml matches the settings."""

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent


def compose():
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def variables_read_by_settings():
    source = (ROOT / "codev" / "settings.py").read_text()
    return set(re.findall(r'env_\w+\(\s*"([A-Z_]+)"', source)) | {"DATABASE_URL"}


def env_example_variables():
    lines = (ROOT / ".env.example").read_text().splitlines()
    return {line.split("=", 1)[0] for line in lines if re.match(r"^[A-Z_]+=", line)}


def test_compose_has_db_redis_and_web():
    assert set(compose()["services"]) == {"db", "redis", "web"}


def test_db_is_postgres_16_with_healthcheck_and_volume():
    db = compose()["services"]["db"]
    assert db["image"].startswith("postgres:16")
    assert "pg_isready" in " ".join(db["healthcheck"]["test"])
    assert any(volume.startswith("pgdata:") for volume in db["volumes"])
    assert "pgdata" in compose()["volumes"]


def test_web_migrates_then_runs_daphne_and_waits_for_healthy_services():
    web = compose()["services"]["web"]
    command = " ".join(web["command"])
    assert command.index("migrate") < command.index("daphne")
    assert "-b 0.0.0.0 -p 8000" in command
    assert web["build"] == "."
    assert web["env_file"] == ".env"
    assert web["depends_on"]["db"]["condition"] == "service_healthy"


def test_web_points_database_and_redis_at_the_compose_services():
    environment = compose()["services"]["web"]["environment"]
    assert "@db:5432/" in environment["DATABASE_URL"]
    assert environment["REDIS_URL"].startswith("redis://redis:6379")


def test_env_example_lists_every_variable_the_settings_read():
    assert variables_read_by_settings() <= env_example_variables()


def test_env_example_lists_nothing_the_settings_ignore():
    # POSTGRES_PASSWORD is read by docker-compose itself, not by Django.
    assert env_example_variables() - {"POSTGRES_PASSWORD"} <= variables_read_by_settings()


def daphne_ping(text: str) -> tuple[int, int]:
    interval = re.search(r'--ping-interval"?,? "?(\d+)', text)
    timeout = re.search(r'--ping-timeout"?,? "?(\d+)', text)
    assert interval and timeout, "daphne started without its ping flags"
    return int(interval[1]), int(timeout[1])


def production_ping() -> tuple[int, int]:
    """How production's daphne drops a socket whose phone lost its network
    (docs/decisions.md); tests/e2e/test_live_controls.py starts daphne so."""
    return daphne_ping((ROOT / "Dockerfile").read_text())


def test_every_daphne_notices_a_dead_socket_within_seconds():
    interval, timeout = production_ping()
    # Ten seconds at worst with the 2 s check in between (docs/decisions.md).
    assert interval + 2 + timeout <= 10
    for place in ("Makefile", "docker-compose.yml", "bench/fanout.py"):
        assert daphne_ping((ROOT / place).read_text()) == production_ping(), place
