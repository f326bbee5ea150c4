"""Codev settings, all read from the environment (see .env.example).

Unset DATABASE_URL / REDIS_URL give the embedded defaults (a SQLite file and an
in-memory channel layer, one process), so `make run` works on a bare machine.
"""

import os
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, "").strip() or default


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name, "").strip().lower()
    if not raw:
        return default
    if raw in _TRUE:
        return True
    if raw in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {raw!r}.")


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be an integer, not {raw!r}.") from None


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_origin(name: str) -> str:
    """An http(s) scheme and host, without the trailing slash; "" when unset.

    Paths are refused: the app's URLs are reversed from the root, so a path here
    would give links that look right and lead nowhere.
    """
    raw = os.environ.get(name, "").strip()
    if not raw:
        return ""
    try:
        parts = urlsplit(raw)
        # .port raises ValueError on a port that is not a number up to 65535.
        valid = (
            parts.scheme in {"http", "https"}
            and bool(parts.hostname)
            and parts.port != 0
            and parts.username is None
            and parts.path in {"", "/"}
            and not parts.query
            and not parts.fragment
        )
    except ValueError:
        valid = False
    if not valid:
        raise ImproperlyConfigured(
            f"{name} must be an http(s) address without a path, like "
            f"https://codev.example.org, not {raw!r}."
        )
    return f"{parts.scheme}://{parts.netloc}"


SECRET_KEY = env_str("SECRET_KEY")
# A deployment always sets SECRET_KEY, and with it DEBUG is off unless asked
# for; a checkout with no SECRET_KEY is a developer's machine, in debug mode.
DEBUG = env_bool("DEBUG", not SECRET_KEY)
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is false.")
    SECRET_KEY = "django-insecure-local-development-key-do-not-use-in-production"

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
# The public address, for links in mail sent outside a request (send_reminders);
# unset, those mails carry no link. A request's own links use its Host header.
SITE_URL = env_origin("SITE_URL")

INSTALLED_APPS = [
    # daphne first: its runserver serves HTTP and websockets together.
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "channels",
    "django_htmx",
    "template_partials",
    # django-csp's system checks; django-axes's attempt records (sign-in throttling).
    "csp",
    "axes",
    "groups",
    "sessions.apps.SessionsConfig",
]

MIDDLEWARE = [
    # First, the three that put the security headers on an answer: every
    # answer given by anything below them (the HTTPS redirect, the NUL
    # refusal, an unknown host, the health check, a static file, a crash)
    # passes back through them.
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Then /healthz, which answers whatever the Host header or the scheme
    # (SECURE_REDIRECT_EXEMPT below; the three above never read the host).
    "codev.health.HealthCheckMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "codev.middleware.LanguageCookieMiddleware",
    "codev.middleware.RefuseNulMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "codev.middleware.NotAllowedPageMiddleware",
    # With DEBUG on (`make run`), the 404 and 400 pages of production rather
    # than Django's technical pages.
    "codev.middleware.RefusalPageMiddleware",
    # Last, as django-axes asks: turns a locked-out sign-in into its 429 page.
    # Sync only, so the whole chain runs in one thread (codev.middleware).
    "codev.middleware.SyncAxesMiddleware",
]
# axes.W002 looks for django-axes' own middleware by name; Codev's is its
# subclass, sync only (codev.middleware.SyncAxesMiddleware).
SILENCED_SYSTEM_CHECKS = ["axes.W002"]
# A failed CSRF check gets a page in French in the layout (Django's is English).
CSRF_FAILURE_VIEW = "codev.views.csrf_failure"

ROOT_URLCONF = "codev.urls"
ASGI_APPLICATION = "codev.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        # Persistent connections are opt-in: under ASGI each sync_to_async
        # thread holds its own connection.
        conn_max_age=env_int("CONN_MAX_AGE", 0),
        conn_health_checks=True,
    )
}
# Under daphne every request runs in a thread of its own, so a persistent
# connection is never reused: DATABASE_POOL_SIZE > 0 keeps that many PostgreSQL
# connections open in a pool shared by those threads (docs/performance.md).
DATABASE_POOL_SIZE = env_int("DATABASE_POOL_SIZE", 0)
if DATABASE_POOL_SIZE and DATABASES["default"]["ENGINE"].endswith("postgresql"):
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": 2,
        "max_size": DATABASE_POOL_SIZE,
        "timeout": 10,
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env_str("REDIS_URL")
if REDIS_URL:
    # The pub/sub layer: measured here at 2,400 msg/s, p99 5 ms on 800 sockets,
    # where the core Redis layer dropped sockets on a burst (MaxConnectionsError).
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            # redis-py waits 5 s by default on a Redis that accepts and never
            # answers (frozen, or a network that drops packets), and the POST
            # whose broadcast it is waits with it: 1 s, then the broadcast is
            # given up and logged (docs/operations.md). A refused connection
            # fails at once.
            "CONFIG": {
                "hosts": [{"address": REDIS_URL, "socket_connect_timeout": 1, "socket_timeout": 1}]
            },
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

AUTH_USER_MODEL = "groups.User"
# Axes first: it refuses a locked-out email + address before any password is checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# « Rester connecté »: a phone stays signed in for 30 days; without the box
# the session ends with the browser (see groups.views.accounts).
SESSION_COOKIE_AGE = int(timedelta(days=30).total_seconds())
INVITATION_VALIDITY = timedelta(days=14)

LANGUAGE_CODE = "fr"
LANGUAGES = [("fr", _("Français")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env_str("TIME_ZONE", "Europe/Paris")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
# Where collectstatic puts the files WhiteNoise serves when DEBUG is off; a
# test server with DEBUG off collects into a folder of its own (tests/e2e).
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(BASE_DIR / "staticfiles")))
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
# Under daphne in development WhiteNoise serves straight from the apps' folders.
WHITENOISE_USE_FINDERS = DEBUG
WHITENOISE_AUTOREFRESH = DEBUG

EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Codev <noreply@codev.local>")

# Behind a TLS-terminating proxy in production (docker-compose, a load balancer).
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
# The proxy and docker check the health over plain HTTP (codev/health.py).
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", not DEBUG)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", not DEBUG)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", not DEBUG)
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# Content-Security-Policy (django-csp): scripts and styles from our own static
# files only, never inline, never eval. What depends on it: no onclick= or
# style= in templates (static/js/page.js binds data-print and the like), htmx
# configured with allowEval/allowScriptTags/includeIndicatorStyles off
# (templates/base.html), the QR code an SVG served by the app (img-src 'self').
# connect-src 'self' covers the same-origin websocket in CSP3 browsers (Chromium
# 71+, Safari 16+); the public https origins are also listed as wss:// for
# older Safari.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "connect-src": [
            "'self'",
            *(
                "wss://" + origin.removeprefix("https://")
                for origin in CSRF_TRUSTED_ORIGINS
                if origin.startswith("https://")
            ),
        ],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

# Open sockets one person may hold on one session (a phone, a laptop, a couple
# of tabs); the next is closed with 4029 (sessions/consumers.py).
LIVE_SOCKETS_PER_PERSON = env_int("LIVE_SOCKETS_PER_PERSON", 5)
if LIVE_SOCKETS_PER_PERSON < 1:
    raise ImproperlyConfigured("LIVE_SOCKETS_PER_PERSON must be 1 or more.")

# Sign-in throttling: django-axes counts failed password checks per email
# address *and* client address together, so that a stranger cannot lock a
# member out from everywhere. After SIGNIN_SLOWDOWN_AFTER failures, each new
# try must wait (SIGNIN_SLOWDOWN_SECONDS, doubling with each failure; the
# server never sleeps, groups/throttle.py refuses early tries); at
# SIGNIN_LOCKOUT_AFTER failures the pair is locked for SIGNIN_LOCKOUT_MINUTES
# counted from the last failure. A success, or a password reset, starts over.
SIGNIN_SLOWDOWN_AFTER = env_int("SIGNIN_SLOWDOWN_AFTER", 3)
SIGNIN_SLOWDOWN_SECONDS = env_int("SIGNIN_SLOWDOWN_SECONDS", 5)
AXES_FAILURE_LIMIT = env_int("SIGNIN_LOCKOUT_AFTER", 10)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("SIGNIN_LOCKOUT_MINUTES", 30))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
# Sign-in forms post the email as "username"; counted in lower case.
AXES_USERNAME_FORM_FIELD = "username"
AXES_USERNAME_CALLABLE = "groups.throttle.attempted_email"
AXES_LOCKOUT_CALLABLE = "groups.throttle.lockout_response"
AXES_RESET_ON_SUCCESS = True
# Only failures are kept, and only until their cool-off ends: no log of who
# signed in when, which nothing here needs.
AXES_DISABLE_ACCESS_LOG = True
# A try during the lockout does not push its end further: the page can say when.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
# The client address. Behind a reverse proxy REMOTE_ADDR is the proxy's, the
# same for everyone: set TRUSTED_PROXY_COUNT to the number of proxies in front
# of daphne, and the address is read from X-Forwarded-For, counted from the
# right (what the proxies appended), never from what a client may forge.
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)
AXES_CLIENT_IP_CALLABLE = "groups.throttle.client_ip"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        # Axes tells every check at INFO; its warnings (each failure, each lockout) stay.
        "axes": {"level": "WARNING"},
    },
}
