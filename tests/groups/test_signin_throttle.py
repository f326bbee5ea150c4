"""Repeated failed sign-ins: slowed down, then locked for a while (groups.throttle).

With the default settings: from the 3rd failure of one email address from one
client address, the next try must wait 5 s, then 10, 20… after the last
failure; the 10th failure locks the pair for 30 minutes (a 429 page in French
that says until when and offers a password reset). A success starts over.

No test sleeps: time travels by moving axes's failure records back.
"""

import datetime as dt
import html
import re

import pytest
from axes.models import AccessAttempt, AccessLog
from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.db.models import F
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from groups import throttle
from groups.models import Membership, User
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

WRONG = "pas le bon mot de passe"
HOME = "127.0.0.1"
ELSEWHERE = "198.51.100.7"
BAD_LOGIN = "Adresse e-mail ou mot de passe incorrect."


def sign_in(client, email, password=PASSWORD, ip=HOME, **extra):
    return client.post(
        reverse("login"), {"username": email, "password": password}, REMOTE_ADDR=ip, **extra
    )


def text(response) -> str:
    return html.unescape(response.content.decode())


def signed_in(client) -> bool:
    return "_auth_user_id" in client.session


def travel(seconds: float) -> None:
    """Move every recorded failure `seconds` into the past."""
    AccessAttempt.objects.update(attempt_time=F("attempt_time") - dt.timedelta(seconds=seconds))


def wait_due(failures: int) -> int:
    """The wait the settings ask after `failures` failures (0 before the slow-down)."""
    if failures < settings.SIGNIN_SLOWDOWN_AFTER:
        return 0
    return settings.SIGNIN_SLOWDOWN_SECONDS * 2 ** (failures - settings.SIGNIN_SLOWDOWN_AFTER)


def fail(client, email, times, ip=HOME, **extra):
    """`times` wrong passwords, each after the wait due; returns the last answer."""
    for _ in range(times):
        failures = sum(
            a.failures_since_start
            for a in AccessAttempt.objects.filter(username=email.lower(), ip_address=ip)
        )
        travel(wait_due(failures))
        response = sign_in(client, email, WRONG, ip, **extra)
    return response


def failures_recorded(email) -> int:
    return sum(a.failures_since_start for a in AccessAttempt.objects.filter(username=email))


def test_defaults_slow_down_after_3_and_lock_after_10_for_30_minutes():
    assert settings.SIGNIN_SLOWDOWN_AFTER == 3
    assert settings.SIGNIN_SLOWDOWN_SECONDS == 5
    assert settings.AXES_FAILURE_LIMIT == 10
    assert settings.AXES_COOLOFF_TIME.total_seconds() == 30 * 60
    # The slow-down ends before the lockout.
    assert settings.SIGNIN_SLOWDOWN_AFTER < settings.AXES_FAILURE_LIMIT


def test_two_failures_leave_the_next_try_free(client, member):
    fail(client, member.email, 2)

    response = sign_in(client, member.email)

    assert response.status_code == 302
    assert signed_in(client)


def test_a_try_too_soon_after_three_failures_is_refused_with_the_email_kept(client, member):
    response = fail(client, member.email, 3)
    assert response.status_code == 200
    assert BAD_LOGIN in text(response)

    response = sign_in(client, member.email)  # the right password, too soon

    assert response.status_code == 429
    assert response["Retry-After"] == "5"
    page = text(response)
    assert "Trop d'essais : réessayez dans 5 secondes." in page
    assert f'value="{member.email}"' in page
    assert not signed_in(client)
    # Neither checked nor counted.
    assert failures_recorded(member.email) == 3


def test_after_the_wait_one_more_try_is_allowed(client, member):
    fail(client, member.email, 3)
    travel(4)
    assert sign_in(client, member.email).status_code == 429

    travel(1)
    response = sign_in(client, member.email)

    assert response.status_code == 302
    assert signed_in(client)


def test_the_wait_doubles_with_each_failure(client, member):
    for failures, seconds in [(3, 5), (4, 10), (5, 20), (6, 40), (7, 80)]:
        fail(client, member.email, 1 if failures > 3 else 3)

        response = sign_in(client, member.email, WRONG)

        assert response.status_code == 429
        assert f"réessayez dans {seconds} secondes" in text(response), failures
    # From two minutes on, the wait is said in minutes.
    fail(client, member.email, 1)
    assert "Trop d'essais : réessayez dans 3 minutes." in text(sign_in(client, member.email))


def test_ten_failures_lock_the_account_from_this_address_with_a_french_page(client, member):
    response = fail(client, member.email, 10)

    assert response.status_code == 429
    page = text(response)
    assert "Trop d'essais" in page
    assert "la connexion est bloquée jusqu'à" in page
    assert "(dans 30 minutes)" in page
    until = timezone.localtime(timezone.now() + dt.timedelta(minutes=30))
    assert re.search(r"jusqu'à (\d\d:\d\d)", page).group(1) in {
        until.strftime("%H:%M"),
        (until - dt.timedelta(minutes=1)).strftime("%H:%M"),
    }
    assert "Mot de passe oublié ?" in page
    assert f'href="{reverse("password_reset")}"' in page
    assert int(response["Retry-After"]) in range(1790, 1801)


def test_locked_even_with_the_right_password_until_the_cool_off_ends(client, member):
    fail(client, member.email, 10)

    response = sign_in(client, member.email)

    assert response.status_code == 429
    assert "la connexion est bloquée jusqu'à" in text(response)
    assert not signed_in(client)

    travel(29 * 60)
    assert sign_in(client, member.email).status_code == 429
    assert not signed_in(client)
    # A try during the lockout does not push its end further.
    assert failures_recorded(member.email) == 10

    travel(60)
    response = sign_in(client, member.email)

    assert response.status_code == 302
    assert signed_in(client)


def test_a_success_resets_the_count(client, member):
    fail(client, member.email, 3)
    travel(5)
    assert sign_in(client, member.email).status_code == 302
    assert failures_recorded(member.email) == 0
    client.post(reverse("logout"))

    fail(client, member.email, 2)
    response = sign_in(client, member.email)

    assert response.status_code == 302


def test_the_same_email_from_another_address_is_not_locked(client, member):
    fail(client, member.email, 10, ip=HOME)

    response = sign_in(client, member.email, ip=ELSEWHERE)

    assert response.status_code == 302
    assert signed_in(client)


def test_another_email_from_the_same_address_is_not_locked(client, member, consultants):
    fail(client, member.email, 10)

    response = sign_in(client, consultants[1].email)

    assert response.status_code == 302


def test_the_case_of_the_email_does_not_escape_the_count(client, member):
    fail(client, member.email.upper(), 3)

    response = sign_in(client, member.email)

    assert response.status_code == 429
    assert "Trop d'essais" in text(response)


def test_an_unknown_email_is_slowed_down_the_same_way(client, db):
    fail(client, "personne@test.codev", 3)

    response = sign_in(client, "personne@test.codev")

    assert response.status_code == 429
    assert "Trop d'essais : réessayez dans 5 secondes." in text(response)


def test_a_password_reset_lifts_the_lockout(client, member):
    fail(client, member.email, 10)
    uid = urlsafe_base64_encode(force_bytes(member.pk))
    token = default_token_generator.make_token(member)
    url = reverse("password_reset_confirm", args=[uid, token])
    # Django first moves the token into the session, then shows the form.
    form_url = client.get(url).url
    new_password = "une phrase de passe neuve 2031"

    response = client.post(form_url, {"new_password1": new_password, "new_password2": new_password})

    assert response.status_code == 302
    assert sign_in(client, member.email, new_password).status_code == 302


@pytest.fixture
def staff_member(member):
    User.objects.filter(pk=member.pk).update(is_staff=True, is_superuser=True)
    member.refresh_from_db()
    return member


def test_admin_sign_in_is_slowed_down_too(client, staff_member):
    for _ in range(3):
        client.post(reverse("admin:login"), {"username": staff_member.email, "password": WRONG})

    response = client.post(
        reverse("admin:login"), {"username": staff_member.email, "password": PASSWORD}
    )

    assert "Trop d'essais : réessayez dans 5 secondes." in text(response)
    assert not signed_in(client)


def test_admin_sign_in_shares_the_lockout(client, staff_member):
    fail(client, staff_member.email, 10)

    response = client.post(
        reverse("admin:login"), {"username": staff_member.email, "password": PASSWORD}
    )

    assert response.status_code == 429
    assert "la connexion est bloquée jusqu'à" in text(response)
    assert not signed_in(client)


def change_password(client, old_password):
    new = "une phrase de passe neuve 2031"
    return client.post(
        reverse("password_change"),
        {"old_password": old_password, "new_password1": new, "new_password2": new},
    )


def test_password_change_counts_wrong_current_passwords_like_sign_ins(login, member):
    client = login(member)
    for _ in range(3):
        assert change_password(client, WRONG).status_code == 200

    response = change_password(client, PASSWORD)

    assert "Trop d'essais : réessayez dans 5 secondes." in text(response)
    member.refresh_from_db()
    assert member.check_password(PASSWORD)
    # The same count as the sign-in page's (a browser that is not signed in).
    travel(5)
    browser = Client()
    assert sign_in(browser, member.email, WRONG).status_code == 200
    assert "réessayez dans 10 secondes" in text(sign_in(browser, member.email))


def test_password_change_locks_at_the_tenth_wrong_password(login, member):
    fail(Client(), member.email, 9)
    client = login(member)

    travel(wait_due(9))
    response = change_password(client, WRONG)

    assert response.status_code == 429
    assert "la connexion est bloquée jusqu'à" in text(response)


def test_account_deletion_password_is_slowed_down_too(login, member, group):
    client = login(member)
    for _ in range(3):
        response = client.post(reverse("account_delete"), {"password": WRONG})
        assert "Mot de passe incorrect" in text(response)

    response = client.post(reverse("account_delete"), {"password": PASSWORD})

    assert "Trop d'essais : réessayez dans 5 secondes." in text(response)
    assert User.objects.filter(pk=member.pk).exists()
    assert Membership.objects.filter(user=member).exists()


class TestClientAddress:
    def test_without_a_trusted_proxy_x_forwarded_for_is_ignored(self, client, member):
        fail(client, member.email, 10, HTTP_X_FORWARDED_FOR="203.0.113.1")

        response = sign_in(client, member.email, HTTP_X_FORWARDED_FOR="203.0.113.2")

        assert response.status_code == 429

    def test_behind_a_proxy_the_address_it_saw_counts(self, client, member, settings):
        settings.TRUSTED_PROXY_COUNT = 1
        fail(
            client, member.email, 10, ip="203.0.113.9", HTTP_X_FORWARDED_FOR="1.2.3.4, 203.0.113.9"
        )
        assert AccessAttempt.objects.get().ip_address == "203.0.113.9"

        # What the client wrote on the left is not believed.
        forged = sign_in(client, member.email, HTTP_X_FORWARDED_FOR="9.9.9.9, 203.0.113.9")
        other = sign_in(client, member.email, HTTP_X_FORWARDED_FOR="203.0.113.10")

        assert forged.status_code == 429
        assert other.status_code == 302

    def test_a_garbled_header_falls_back_to_the_connection_address(self, rf, settings):
        settings.TRUSTED_PROXY_COUNT = 2
        request = rf.get("/", HTTP_X_FORWARDED_FOR="nonsense, 203.0.113.9", REMOTE_ADDR="10.0.0.1")
        assert throttle.client_ip(request) == "10.0.0.1"
        request = rf.get("/", HTTP_X_FORWARDED_FOR="203.0.113.9", REMOTE_ADDR="10.0.0.1")
        assert throttle.client_ip(request) == "10.0.0.1"


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_the_lockout_page_under_asgi(async_client, member):
    """Under daphne axes's middleware runs its async path: the same page."""
    from asgiref.sync import sync_to_async

    await sync_to_async(fail)(Client(), member.email, 10)

    response = await async_client.post(
        reverse("login"), {"username": member.email, "password": PASSWORD}
    )

    assert response.status_code == 429
    assert "la connexion est bloquée jusqu'à" in text(response)


def test_the_messages_are_in_english_after_the_switch(client, member):
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    fail(client, member.email, 3)

    assert "Too many attempts: try again in 5 seconds." in text(sign_in(client, member.email))

    fail(client, member.email, 7)
    page = text(sign_in(client, member.email))
    assert "signing in is blocked until" in page
    assert "Choose a new password" in page
    assert "Trop d'essais" not in page


def test_successful_sign_ins_leave_no_log(client, member):
    assert sign_in(client, member.email).status_code == 302
    assert not AccessLog.objects.exists()
