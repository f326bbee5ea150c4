"""What every websocket handshake meets before a consumer: the Origin check,
and a clean refusal for a path no consumer answers.

channels' AllowedHostsOriginValidator compares the Origin's host name with
ALLOWED_HOSTS and ignores its scheme and port: a page served by anything else
on the same host (http://codev.example.org:8080, a forgotten admin tool) could
open a member's socket with their cookie. Here the Origin must be the very
origin the handshake was sent to — scheme, host and port, as Django's CSRF
check asks of a POST's Origin — or one of CSRF_TRUSTED_ORIGINS. Settings are
read at each handshake, not copied at import.
"""

from urllib.parse import urlsplit

from channels.security.websocket import WebsocketDenier
from django.conf import settings
from django.http.request import split_domain_port, validate_host
from django.utils.http import is_same_domain

DEFAULT_PORTS = {"http": 80, "https": 443}


def _header(scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return value.decode("latin1")
    return None


def _is_secure(scope) -> bool:
    """As HttpRequest.is_secure: the scheme, or the proxy's header Django trusts."""
    if scope.get("scheme") in ("wss", "https"):
        return True
    if settings.SECURE_PROXY_SSL_HEADER:
        meta_name, secure_value = settings.SECURE_PROXY_SSL_HEADER
        name = meta_name.removeprefix("HTTP_").lower().replace("_", "-").encode()
        forwarded = _header(scope, name)
        return forwarded is not None and forwarded.split(",")[0].strip() == secure_value
    return False


def _origin_tuple(scheme: str, netloc: str):
    """(scheme, host, port) with the scheme's default port filled in; None if unparsable."""
    try:
        parts = urlsplit(f"{scheme}://{netloc}")
        port = parts.port or DEFAULT_PORTS.get(scheme)
    except ValueError:
        return None
    if not parts.hostname or parts.username is not None or parts.password is not None:
        return None
    return parts.scheme, parts.hostname, port


def _allowed_hosts() -> list[str]:
    # What HttpRequest.get_host allows: ALLOWED_HOSTS, or localhost under DEBUG.
    if settings.DEBUG and not settings.ALLOWED_HOSTS:
        return [".localhost", "127.0.0.1", "[::1]"]
    return settings.ALLOWED_HOSTS


def origin_allowed(scope) -> bool:
    origin, host = _header(scope, b"origin"), _header(scope, b"host")
    if not origin or origin == "null":
        return False
    try:
        parsed = urlsplit(origin)
    except ValueError:
        return False
    if parsed.scheme not in DEFAULT_PORTS or parsed.path or parsed.query or parsed.fragment:
        return False
    claimed = _origin_tuple(parsed.scheme, parsed.netloc)
    if claimed is None:
        return False
    for trusted in settings.CSRF_TRUSTED_ORIGINS:
        scheme, _, netloc = trusted.lower().partition("://")
        if netloc.startswith("*"):
            # As Django's CSRF check: https://*.example.org trusts its subdomains.
            if parsed.scheme == scheme and is_same_domain(parsed.netloc.lower(), netloc[1:]):
                return True
        elif claimed == _origin_tuple(scheme, netloc):
            return True
    if not host:
        return False
    domain, _port = split_domain_port(host)
    if not domain or not validate_host(domain, _allowed_hosts()):
        return False
    return claimed == _origin_tuple("https" if _is_secure(scope) else "http", host)


class SameOriginValidator:
    """Refuse (HTTP 403) a handshake whose Origin is not the site's own."""

    def __init__(self, application):
        self.application = application

    async def __call__(self, scope, receive, send):
        if scope["type"] == "websocket" and not origin_allowed(scope):
            return await WebsocketDenier.as_asgi()(scope, receive, send)
        return await self.application(scope, receive, send)


# The last route of the websocket URLRouter: a path no consumer answers gets
# the same 403 as a stranger, where channels would raise "No route found" and
# daphne answer 500 with a traceback in its log.
refuse = WebsocketDenier.as_asgi()
