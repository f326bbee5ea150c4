"""Settings come from the environment; production settings pass `check --deploy`."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def run_manage(*args, **env_overrides):
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DEBUG", "DATABASE_URL", "REDIS_URL", "SECRET_KEY", "ALLOWED_HOSTS"}
    }
    env.update(env_overrides)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def print_setting(expression, **env):
    result = run_manage(
        "shell", "-c", f"from django.conf import settings; print({expression})", **env
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1]


PRODUCTION = {
    "DEBUG": "false",
    "SECRET_KEY": "k3y-" + "x7Qp9zR2mW4vB8nC1dF6gH0jK5lM3sT" * 2,
    "ALLOWED_HOSTS": "codev.example.org",
    "CSRF_TRUSTED_ORIGINS": "https://codev.example.org",
}


def test_production_settings_pass_check_deploy():
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION)
    assert result.returncode == 0, result.stdout + result.stderr


def test_missing_secret_key_fails_loudly_when_debug_is_off():
    result = run_manage("check", DEBUG="false", ALLOWED_HOSTS="codev.example.org")
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_bad_boolean_fails_loudly():
    result = run_manage("check", DEBUG="peut-être")
    assert result.returncode != 0
    assert "DEBUG must be true or false" in result.stderr


def test_database_defaults_to_sqlite_and_follows_database_url():
    assert print_setting("settings.DATABASES['default']['ENGINE']", DEBUG="true") == (
        "django.db.backends.sqlite3"
    )
    engine = print_setting(
        "settings.DATABASES['default']['ENGINE']",
        DEBUG="true",
        DATABASE_URL="postgres://postgres@127.0.0.1:5432/codev",
    )
    assert engine == "django.db.backends.postgresql"


@pytest.mark.parametrize(
    ("redis_url", "backend"),
    [
        (None, "channels.layers.InMemoryChannelLayer"),
        ("redis://127.0.0.1:6379/0", "channels_redis.pubsub.RedisPubSubChannelLayer"),
    ],
)
def test_channel_layer_follows_redis_url(redis_url, backend):
    env = {"DEBUG": "true"} | ({"REDIS_URL": redis_url} if redis_url else {})
    assert print_setting("settings.CHANNEL_LAYERS['default']['BACKEND']", **env) == backend


def test_a_checkout_without_secret_key_runs_in_debug_mode():
    assert print_setting("settings.DEBUG") == "True"


def test_setting_a_secret_key_turns_debug_off_by_default():
    assert print_setting("settings.DEBUG", SECRET_KEY=PRODUCTION["SECRET_KEY"]) == "False"


def test_production_policy_lists_the_sites_websocket_origin():
    # Safari before 16 does not count wss:// as 'self': the public origin is named.
    connect_src = print_setting(
        "settings.CONTENT_SECURITY_POLICY['DIRECTIVES']['connect-src']", **PRODUCTION
    )
    assert connect_src == "[\"'self'\", 'wss://codev.example.org']"


def test_behind_a_proxy_the_client_address_setting_follows_the_environment():
    assert print_setting("settings.TRUSTED_PROXY_COUNT", DEBUG="true") == "0"
    assert (
        print_setting("settings.TRUSTED_PROXY_COUNT", DEBUG="true", TRUSTED_PROXY_COUNT="1") == "1"
    )
    result = run_manage("check", DEBUG="true", TRUSTED_PROXY_COUNT="un")
    assert result.returncode != 0
    assert "TRUSTED_PROXY_COUNT must be an integer" in result.stderr


def test_site_url_follows_the_environment_without_its_trailing_slash():
    assert print_setting("repr(settings.SITE_URL)", DEBUG="true") == "''"
    assert (
        print_setting("settings.SITE_URL", DEBUG="true", SITE_URL="https://codev.example.org/")
        == "https://codev.example.org"
    )


@pytest.mark.parametrize(
    "site_url",
    ["codev.example.org", "ftp://codev.example.org", "https://codev.example.org/codev", "https://"],
)
def test_a_site_url_that_is_not_an_http_origin_fails_loudly(site_url):
    result = run_manage("check", DEBUG="true", SITE_URL=site_url)
    assert result.returncode != 0
    assert "SITE_URL must be an http(s) address without a path" in result.stderr
