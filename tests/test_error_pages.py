"""A refused request gets a page in French, in the layout: a form that cannot be
verified (CSRF, codev.views.csrf_failure) and a method the URL does not take
(405, codev.middleware.NotAllowedPageMiddleware)."""

import pytest
from django.conf import settings
from django.middleware.csrf import _get_new_csrf_string
from django.test import Client
from django.urls import path, reverse

from codev import urls as codev_urls
from groups.models import Group, Membership

NEW_GROUP = {
    "name": "Groupe du jeudi",
    "cadence_week": 2,
    "cadence_weekday": 1,
    "cadence_time": "18:00",
    "default_format": 120,
    "default_place": "Salle 2",
    "charter": "Confidentialité avant tout.",
    "creator_role": Membership.Role.FACILITATOR,
}


@pytest.fixture
def checked_client(member):
    """A signed-in browser whose POSTs go through the CSRF check, as in production."""
    client = Client(enforce_csrf_checks=True)
    client.force_login(member)
    return client


def english(client):
    # The switch is itself a POST this client would have to get past the
    # CSRF check for: set the cookie it leaves instead.
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def stale_token_post(client):
    """The form of a page rendered before the token changed (a sign-in in another tab)."""
    client.get(reverse("group_create"))
    return client.post(
        reverse("group_create"), {**NEW_GROUP, "csrfmiddlewaretoken": _get_new_csrf_string()}
    )


def test_the_form_posts_with_a_valid_token(checked_client):
    # The other tests' refusals come from the token alone, not from the data.
    checked_client.get(reverse("group_create"))
    token = checked_client.cookies[settings.CSRF_COOKIE_NAME].value
    response = checked_client.post(
        reverse("group_create"), {**NEW_GROUP, "csrfmiddlewaretoken": token}
    )
    assert response.status_code == 302
    assert Group.objects.filter(name=NEW_GROUP["name"]).exists()


def test_a_form_sent_with_a_stale_token_gets_a_french_page(checked_client):
    response = stale_token_post(checked_client)

    assert response.status_code == 403
    content = response.content.decode()
    assert '<html lang="fr">' in content
    assert "<title>Page expirée · Codev</title>" in content
    assert "ce que vous aviez écrit y est encore" in content
    assert "rechargez la page, puis envoyez de nouveau" in content
    # In the layout, the signed-in person's menu included.
    assert 'class="brand"' in content
    assert "Mon carnet" in content
    assert "verification failed" not in content
    assert not Group.objects.filter(name=NEW_GROUP["name"]).exists()


def test_a_form_sent_without_the_csrf_cookie_gets_the_page_and_a_new_cookie(checked_client):
    # The cookie gone (cleared, or a forged POST from another site).
    response = checked_client.post(reverse("group_create"), NEW_GROUP)

    assert response.status_code == 403
    assert "Page expirée" in response.content.decode()
    # The page hands out a fresh token: reloading the form is enough to send again.
    assert response.cookies[settings.CSRF_COOKIE_NAME].value
    assert not Group.objects.filter(name=NEW_GROUP["name"]).exists()


def test_the_csrf_page_follows_the_language_switch(checked_client):
    response = stale_token_post(english(checked_client))

    assert response.status_code == 403
    content = response.content.decode()
    assert '<html lang="en">' in content
    assert "<title>Page expired · Codev</title>" in content
    assert "Go back to the previous page: what you wrote is still there." in content
    assert "Page expirée" not in content


def test_the_csrf_page_for_a_stranger_signed_out(db):
    client = Client(enforce_csrf_checks=True)
    response = client.post(reverse("login"), {"username": "x@test.codev", "password": "x"})

    assert response.status_code == 403
    content = response.content.decode()
    assert "Page expirée" in content
    assert "Mon carnet" not in content


def test_an_htmx_post_gets_the_message_aimed_at_the_layout(checked_client):
    checked_client.get(reverse("group_create"))
    response = checked_client.post(
        reverse("group_create"),
        {**NEW_GROUP, "csrfmiddlewaretoken": _get_new_csrf_string()},
        headers={"hx-request": "true"},
    )

    assert response.status_code == 403
    # static/js/page.js swaps an error answer that names its target.
    assert response["HX-Retarget"] == "#request-error"
    assert response["HX-Reswap"] == "innerHTML"
    content = response.content.decode()
    assert "<html" not in content
    assert "Cette page a expiré" in content
    assert "Copiez votre texte, rechargez la page" in content
    assert not Group.objects.filter(name=NEW_GROUP["name"]).exists()


def test_an_htmx_post_gets_the_message_in_english_too(checked_client):
    response = english(checked_client).post(
        reverse("group_create"), NEW_GROUP, headers={"hx-request": "true"}
    )

    assert response.status_code == 403
    assert "This page has expired" in response.content.decode()


def test_every_page_holds_the_target_of_a_refused_htmx_post(client):
    content = client.get(reverse("login")).content.decode()
    assert '<div id="request-error" class="request-error" role="alert"></div>' in content


def test_a_post_only_address_opened_as_a_link_gets_a_french_page(login, planned_session, member):
    response = login(member).get(reverse("session_move", args=[planned_session.code]))

    assert response.status_code == 405
    assert response["Allow"] == "POST"
    content = response.content.decode()
    assert '<html lang="fr">' in content
    assert "<title>Action impossible à cette adresse · Codev</title>" in content
    assert "elle ne s'ouvre pas comme une page" in content
    assert 'class="brand"' in content


def test_the_405_page_follows_the_language_switch(login, planned_session, member):
    client = english(login(member))
    response = client.get(reverse("session_move", args=[planned_session.code]))

    assert response.status_code == 405
    assert response["Allow"] == "POST"
    content = response.content.decode()
    assert '<html lang="en">' in content
    assert "it does not open as a page" in content


def test_a_post_to_a_page_gets_the_other_405_sentence(login, group, member):
    response = login(member).post(reverse("home"))

    assert response.status_code == 405
    assert "GET" in response["Allow"]
    content = response.content.decode()
    assert "Cette page s'ouvre, mais ne reçoit rien" in content


def test_a_class_based_view_gets_the_405_page_too(client):
    # LogoutView answers GET with http_method_not_allowed, not @require_POST.
    response = client.get(reverse("logout"))

    assert response.status_code == 405
    assert response["Allow"] == "POST, OPTIONS"
    assert "Action impossible à cette adresse" in response.content.decode()


def boom(request):
    raise RuntimeError("a bug")


urlpatterns = [path("boom/", boom), *codev_urls.urlpatterns]


def crash(settings, member, *, debug: bool):
    """A view that raises, answered as a browser would see it."""
    settings.DEBUG = debug
    settings.ROOT_URLCONF = __name__
    client = Client(raise_request_exception=False)
    client.force_login(member)
    return client.get("/boom/")


def test_a_server_error_gets_a_french_page_with_debug_off(settings, member):
    # Django renders 500.html with no context at all: the page stands alone.
    response = crash(settings, member, debug=False)

    assert response.status_code == 500
    page = response.content.decode()
    assert "Erreur du serveur" in page
    assert "réessayez dans un moment" in page
    assert "a bug" not in page and "Traceback" not in page


# With DEBUG on, as `make run` serves: a refusal looks as it does in
# production (codev.middleware.RefusalPageMiddleware), not Django's technical
# page listing every URL pattern.


@pytest.fixture
def debug_on(settings):
    settings.DEBUG = True


def assert_refusal_page(response, status, title):
    assert response.status_code == status
    page = response.content.decode()
    assert f"<h1>{title}</h1>" in page
    assert 'id="request-error"' in page  # the layout
    assert "DEBUG = True" not in page and "URLconf" not in page


@pytest.mark.usefixtures("debug_on")
def test_a_stranger_refused_a_session_gets_the_french_page_with_debug_on(
    client, outsider, planned_session
):
    client.force_login(outsider)
    response = client.get(reverse("session_detail", args=[planned_session.code]))
    assert_refusal_page(response, 404, "Page introuvable")


@pytest.mark.usefixtures("debug_on")
def test_an_address_that_leads_nowhere_gets_the_french_page_with_debug_on(client, member):
    client.force_login(member)
    assert_refusal_page(client.get("/no/such/page/"), 404, "Page introuvable")
    assert_refusal_page(client.get("/s/nope/report/"), 404, "Page introuvable")
    english(client)
    assert_refusal_page(client.get("/no/such/page/"), 404, "Page not found")


@pytest.mark.usefixtures("debug_on")
def test_a_nul_in_the_address_gets_the_french_page_with_debug_on(client, member):
    client.force_login(member)
    assert_refusal_page(client.get("/groups/%00/"), 400, "Demande illisible")


@pytest.mark.usefixtures("debug_on")
def test_the_slash_is_still_added_with_debug_on(client, member):
    client.force_login(member)
    response = client.get("/carnet")
    assert response.status_code == 301
    assert response["Location"] == "/carnet/"


def test_without_debug_the_refusals_are_the_same_pages(client, outsider, planned_session):
    client.force_login(outsider)
    response = client.get(reverse("session_detail", args=[planned_session.code]))
    assert_refusal_page(response, 404, "Page introuvable")
    assert_refusal_page(client.get("/no/such/page/"), 404, "Page introuvable")
    assert_refusal_page(client.get("/groups/%00/"), 400, "Demande illisible")


def test_a_server_error_keeps_the_technical_page_with_debug_on(settings, member):
    # What DEBUG is for: the developer sees the traceback.
    response = crash(settings, member, debug=True)

    assert response.status_code == 500
    assert "a bug" in response.content.decode()
