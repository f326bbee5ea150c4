"""A live-page form whose CSRF token has changed since the page was drawn (a
sign-in in another tab): the phone shows why in French, keeps the typed text,
and a reload lets the person send again.

htmx swaps no 403 answer by default: the message only shows because
static/js/page.js swaps an error answer that names its target (HX-Retarget).
"""

import pytest
from django.conf import settings
from django.middleware.csrf import _get_new_csrf_string
from playwright.sync_api import expect

from groups.models import User
from sessions.steps import Step
from tests.conftest import go_live
from tests.e2e.test_live_session import PHONE, sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

TITLE = "Mes délais qui glissent"


@pytest.fixture
def exposing(planned_session):
    return go_live(planned_session, Step.EXPOSE)


def test_an_expired_htmx_form_says_so_and_keeps_the_text(
    browser, live_server_url, server_password_hash, exposing, client_user, screenshot
):
    User.objects.filter(pk=client_user.pk).update(password=server_password_hash)
    context = browser.new_context(base_url=live_server_url, locale="fr-FR", **PHONE)
    page = context.new_page()
    path = f"/s/{exposing.code}/"
    sign_in(page, client_user, path)
    banner = page.locator("#request-error")
    expect(banner).to_be_hidden()

    # Another tab changed the token: the one this page carries no longer matches.
    stale = {"name": settings.CSRF_COOKIE_NAME, "value": _get_new_csrf_string()}
    context.add_cookies([{**stale, "url": live_server_url}])
    composer = page.locator("#live-composer")
    composer.locator("input[name=title]").fill(TITLE)
    composer.get_by_role("button", name="Enregistrer l'exposé").click()

    expect(banner).to_contain_text("Cette page a expiré")
    expect(banner).to_be_visible()
    expect(composer.locator("input[name=title]")).to_have_value(TITLE)
    assert page.evaluate("window.loadedOnce === true")
    exposing.refresh_from_db()
    assert exposing.expose_title == ""
    screenshot(page, "expired-form-phone")

    # The message covers the top of the form: closing it uncovers the text to copy.
    banner.get_by_role("button", name="Fermer pour copier mon texte").click()
    expect(banner).to_be_hidden()
    expect(composer.locator("input[name=title]")).to_be_visible()
    expect(composer.locator("input[name=title]")).to_have_value(TITLE)
    # Sent again without reloading, it is refused again, and says so again.
    composer.get_by_role("button", name="Enregistrer l'exposé").click()
    expect(banner).to_contain_text("Cette page a expiré")

    banner.get_by_role("link", name="Recharger la page").click()
    page.wait_for_url(f"**{path}")
    expect(banner).to_be_hidden()
    composer.locator("input[name=title]").fill(TITLE)
    composer.get_by_role("button", name="Enregistrer l'exposé").click()
    expect(page.locator("#live-board")).to_contain_text(TITLE)
    expect(banner).to_be_hidden()
    context.close()
