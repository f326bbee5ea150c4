"""A refused request gets a page in French, in the layout: a method the URL
does not take (405, codev.middleware.NotAllowedPageMiddleware)."""

from django.conf import settings
from django.urls import reverse


def english(client):
    # The switch is itself a POST this client would have to get past the
    # CSRF check for: set the cookie it leaves instead.
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


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
