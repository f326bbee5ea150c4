"""Slow down, then lock out, repeated failed password checks (with django-axes).

django-axes records every failed password check (the sign-in page, the admin's,
and the password asked again to change it or to delete the account) per email
address and client address together, and locks the pair at AXES_FAILURE_LIMIT
failures until AXES_COOLOFF_TIME after the last one. Before that, from
SIGNIN_SLOWDOWN_AFTER failures, each new try must wait SIGNIN_SLOWDOWN_SECONDS,
doubled at every further failure and counted from the last one. The server never
sleeps: a try that comes too early is refused at once, with the seconds left,
and its password is neither checked nor counted.

The settings (codev/settings.py) point axes at three functions of this module:
`attempted_email`, `client_ip` and `lockout_response`.
"""

import ipaddress
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_client_parameters, get_client_user_agent, get_cool_off
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth.signals import user_login_failed
from django.core.exceptions import ValidationError
from django.db.models import Max, Sum
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import ngettext


def attempted_email(request, credentials=None) -> str | None:
    """The email address a try is counted under (AXES_USERNAME_CALLABLE).

    In lower case, as sign-in compares it: « Alice@… » and « alice@… » share
    one count.
    """
    value = (credentials or {}).get("username") or request.POST.get("username")
    if not value:
        return None
    return str(value).strip().lower()[:255]


def client_ip(request) -> str | None:
    """The client's address (AXES_CLIENT_IP_CALLABLE).

    Behind TRUSTED_PROXY_COUNT reverse proxies, the address the outermost one
    saw: X-Forwarded-For read from the right, since each proxy appends the
    address it received from and a client can only forge what is on the left.
    """
    remote = request.META.get("REMOTE_ADDR")
    proxies = settings.TRUSTED_PROXY_COUNT
    if proxies:
        forwarded = [p.strip() for p in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        if len(forwarded) >= proxies:
            try:
                return str(ipaddress.ip_address(forwarded[-proxies]))
            except ValueError:
                pass
    return remote


@dataclass(frozen=True)
class Attempts:
    """Recent failures of one email address from one client address."""

    failures: int
    last_failure: datetime | None

    @property
    def locked(self) -> bool:
        return self.failures >= settings.AXES_FAILURE_LIMIT

    @property
    def next_try_at(self) -> datetime | None:
        """When the next try is allowed; None if it already is."""
        if self.last_failure is None or self.failures < settings.SIGNIN_SLOWDOWN_AFTER:
            return None
        cool_off = get_cool_off()
        if self.locked:
            return self.last_failure + cool_off
        doublings = self.failures - settings.SIGNIN_SLOWDOWN_AFTER
        wait = timedelta(seconds=settings.SIGNIN_SLOWDOWN_SECONDS * 2**doublings)
        return self.last_failure + min(wait, cool_off)

    def retry_after(self) -> int:
        """Whole seconds before the next try is allowed (0: now)."""
        if self.next_try_at is None:
            return 0
        return max(0, math.ceil((self.next_try_at - timezone.now()).total_seconds()))


def attempts_for(request, email: str | None) -> Attempts:
    """The failures axes counts for `email` from this request's client."""
    if not email:
        return Attempts(0, None)
    since = timezone.now() - get_cool_off(request)
    credentials = {"username": email}
    # The lockout parameters (email and address together) as axes reads them.
    filters = get_client_parameters(
        email, client_ip(request), get_client_user_agent(request), request, credentials
    )
    found = Attempts(0, None)
    for lookup in filters:
        row = AccessAttempt.objects.filter(**lookup, attempt_time__gte=since).aggregate(
            failures=Sum("failures_since_start"), last=Max("attempt_time")
        )
        if (row["failures"] or 0) > found.failures:
            found = Attempts(row["failures"], row["last"])
    return found


def too_early_error(seconds: int) -> ValidationError:
    if seconds >= 120:
        minutes = math.ceil(seconds / 60)
        message = ngettext(
            "Trop d'essais : réessayez dans %(count)d minute.",
            "Trop d'essais : réessayez dans %(count)d minutes.",
            minutes,
        ) % {"count": minutes}
    else:
        message = ngettext(
            "Trop d'essais : réessayez dans %(count)d seconde.",
            "Trop d'essais : réessayez dans %(count)d secondes.",
            seconds,
        ) % {"count": seconds}
    return ValidationError(message, code="throttled", params={"retry_after": seconds})


def refuse_early_try(request, email: str | None) -> None:
    """Raise a form error if `email` must still wait; a lockout is left to axes.

    Sign-in forms call it before authenticate(): the locked case then goes
    through axes's backend, which refuses it and shows `lockout_response`.
    """
    attempts = attempts_for(request, email)
    seconds = attempts.retry_after()
    if seconds and not attempts.locked:
        raise too_early_error(seconds)


def verify_password(request, user, password: str) -> bool:
    """user.check_password for a signed-in person asked their password again.

    Counted like a sign-in, under the same email and address: whoever holds an
    open session cannot try passwords faster than at the sign-in page. Raises a
    form error while the pair must wait; a failure that reaches the lockout
    flags the request, and axes's middleware answers with `lockout_response`.
    """
    attempts = attempts_for(request, user.email)
    seconds = attempts.retry_after()
    if seconds:
        raise too_early_error(seconds)
    if user.check_password(password):
        return True
    # Django's own signal for a failed credential check: axes records it.
    user_login_failed.send(sender=__name__, credentials={"username": user.email}, request=request)
    return False


def forget(email: str) -> None:
    """Clear every failure of `email` (its password was just reset by email)."""
    AxesProxyHandler.reset_attempts(username=email.strip().lower())


def lockout_response(request, original_response=None, credentials=None):
    """The 429 page of a locked email + address (AXES_LOCKOUT_CALLABLE).

    Reads the email from the request rather than from the arguments: axes's
    async middleware passes them in another order than its sync one.
    """
    email = attempted_email(request, getattr(request, "axes_credentials", None))
    if not email and request.user.is_authenticated:
        email = request.user.email
    attempts = attempts_for(request, email)
    locked_until = attempts.next_try_at if attempts.locked else None
    locked_until = locked_until or timezone.now() + get_cool_off(request)
    seconds = max(1, math.ceil((locked_until - timezone.now()).total_seconds()))
    response = render(
        request,
        "registration/locked_out.html",
        {"locked_until": locked_until, "minutes_left": math.ceil(seconds / 60)},
        status=settings.AXES_HTTP_RESPONSE_CODE,
    )
    response["Retry-After"] = str(seconds)
    return response
