"""The Content-Security-Policy in Debian's chromium, against daphne.

The real header, enforced by a real browser: the live page and the compte rendu
load without a single violation or console error; the live page still follows
the session over its websocket (connect-src 'self'), and the print button still
prints (its handler comes from static/js/page.js, not an onclick=). Then the
slowed-down and locked-out sign-in, as a phone shows them.

Each page records `securitypolicyviolation` events and window.print() calls
through an init script, which the browser runs whatever the page's policy says.
"""

import datetime as dt
import re
import time

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import F
from django.utils import timezone
from playwright.sync_api import Page, expect

from groups.models import User
from sessions.models import Session
from sessions.steps import Step
from tests.conftest import PASSWORD, go_live
from tests.e2e.test_live_session import LAPTOP, LIVE_DELAY, PHONE, sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

WATCH = """
window.__violations = [];
window.__printed = 0;
document.addEventListener("securitypolicyviolation", function (event) {
  window.__violations.push(event.violatedDirective + " " + event.blockedURI + " "
    + (event.sourceFile || "") + ":" + event.lineNumber);
});
window.print = function () { window.__printed += 1; };
"""


class Watched:
    """A page with its console errors and policy violations recorded."""

    def __init__(self, browser, base_url, device):
        self.context = browser.new_context(base_url=base_url, locale="fr-FR", **device)
        self.context.add_init_script(WATCH)
        self.page: Page = self.context.new_page()
        self.console: list[str] = []
        self.page.on(
            "console",
            lambda message: (
                self.console.append(f"{message.type}: {message.text}")
                if message.type in ("error", "warning")
                else None
            ),
        )
        self.page.on("pageerror", lambda error: self.console.append(f"pageerror: {error}"))

    def violations(self) -> list[str]:
        return self.page.evaluate("window.__violations")

    def assert_clean(self):
        assert self.violations() == [], self.page.url
        assert self.console == [], self.page.url


@pytest.fixture
def watched(browser, live_server_url):
    opened = []

    def _open(device=PHONE):
        watched = Watched(browser, live_server_url, device)
        opened.append(watched)
        return watched

    yield _open
    for watched in opened:
        watched.context.close()


def assert_enforced(response):
    header = response.headers["content-security-policy"]
    directives = {part.split()[0]: part.split()[1:] for part in header.split(";")}
    assert directives["script-src"] == ["'self'"]
    assert directives["style-src"] == ["'self'"]
    assert "unsafe" not in header


def test_the_live_page_follows_the_session_under_the_policy(
    watched, server_password_hash, planned_session, facilitator, consultants
):
    people = [facilitator, consultants[0]]
    User.objects.filter(pk__in=[p.pk for p in people]).update(password=server_password_hash)
    go_live(planned_session, Step.EXPOSE)
    path = f"/s/{planned_session.code}/"
    laptop, phone = watched(LAPTOP), watched(PHONE)
    sign_in(laptop.page, facilitator, path)
    sign_in(phone.page, consultants[0], path)
    assert_enforced(phone.page.reload())
    phone.page.evaluate("window.loadedOnce = true")
    online = laptop.page.locator("#live-presence li").filter(has_text="connecté")
    expect(online).to_have_count(2, timeout=10_000)

    since = time.monotonic()
    laptop.page.get_by_test_id("next-step").click()

    for page in (laptop.page, phone.page):
        remaining = max(1, int((since + LIVE_DELAY - time.monotonic()) * 1000))
        expect(page.locator("#live-header h1")).to_contain_text("Clarification", timeout=remaining)
    # Over the websocket, not by a reload.
    assert phone.page.evaluate("window.loadedOnce === true")
    laptop.assert_clean()
    phone.assert_clean()


def test_the_report_prints_under_the_policy(
    watched, server_password_hash, planned_session, client_user
):
    User.objects.filter(pk=client_user.pk).update(password=server_password_hash)
    Session.objects.filter(pk=planned_session.pk).update(
        status=Session.Status.CLOSED,
        step=Step.LEARNINGS,
        started_at=timezone.now(),
        closed_at=timezone.now(),
    )
    phone = watched(PHONE)
    path = f"/s/{planned_session.code}/report/"
    sign_in(phone.page, client_user, path)
    assert_enforced(phone.page.reload())

    phone.page.get_by_role("button", name="Imprimer / enregistrer en PDF").click()

    assert phone.page.evaluate("window.__printed") == 1
    phone.assert_clean()


def test_the_calendar_address_is_selected_on_a_tap(watched, server_password_hash, member):
    User.objects.filter(pk=member.pk).update(password=server_password_hash)
    phone = watched(PHONE)
    sign_in(phone.page, member, "/accounts/")

    phone.page.locator("input.copy").click()

    selected = phone.page.evaluate(
        "(() => { const input = document.querySelector('input.copy');"
        " return [input.selectionStart, input.selectionEnd, input.value.length]; })()"
    )
    assert selected[0] == 0 and selected[1] == selected[2] > 0
    phone.assert_clean()


def try_password(page: Page, email: str, password: str):
    page.locator("input[name=username]").fill(email)
    page.locator("input[name=password]").fill(password)
    with page.expect_navigation() as navigation:
        page.get_by_role("button", name="Se connecter").click()
    return navigation.value


def test_slowed_down_then_locked_out_on_a_phone(watched, server_password_hash, member, screenshot):
    User.objects.filter(pk=member.pk).update(password=server_password_hash)
    phone = watched(PHONE)
    phone.page.goto("/accounts/login/")
    for _ in range(settings.SIGNIN_SLOWDOWN_AFTER):
        assert try_password(phone.page, member.email, "pas le bon").status == 200

    response = try_password(phone.page, member.email, PASSWORD)

    assert response.status == 429
    # The wait counts from the last failure on the real clock: on a busy
    # machine a second or more may have passed since (the exact figures are
    # tests/groups/test_signin_throttle.py's, under a fixed clock).
    expect(phone.page.locator(".form-errors")).to_contain_text(
        re.compile(r"Trop d'essais : réessayez dans [1-5] secondes?\.")
    )
    expect(phone.page.locator("input[name=username]")).to_have_value(member.email)
    screenshot(phone.page, "signin-slowed-down-phone")

    # Time travel: each next failure as soon as its wait is over.
    while AccessAttempt.objects.get().failures_since_start < settings.AXES_FAILURE_LIMIT:
        AccessAttempt.objects.update(attempt_time=F("attempt_time") - dt.timedelta(minutes=6))
        response = try_password(phone.page, member.email, "pas le bon")

    assert response.status == 429
    assert_enforced(response)
    expect(phone.page.get_by_role("heading", name="Trop d'essais")).to_be_visible()
    expect(phone.page.locator(".notice")).to_contain_text("la connexion est bloquée jusqu'à")
    expect(phone.page.get_by_role("link", name="Choisir un nouveau mot de passe")).to_be_visible()
    screenshot(phone.page, "signin-locked-out-phone")

    # Even the right password waits for the end of the lockout.
    phone.page.goto("/accounts/login/")
    assert try_password(phone.page, member.email, PASSWORD).status == 429
    # The browser reports each 429 in its console: only violations are counted here.
    assert phone.violations() == []
