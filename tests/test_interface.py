"""French by default, English through the switch; no page asks another host for anything."""

import re

from django.urls import reverse


def test_french_by_default_even_for_an_english_browser(client):
    response = client.get(reverse("login"), HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    assert '<html lang="fr">' in response.content.decode()
    assert "Mot de passe oublié ?" in response.content.decode()


def test_the_language_switch_shows_english(client):
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    response = client.get(reverse("login"))
    content = response.content.decode()
    assert '<html lang="en">' in content
    assert "Forgotten your password?" in content


def test_htmx_and_its_ws_extension_come_from_django_htmx(client):
    content = client.get(reverse("login")).content.decode()
    assert "/static/django_htmx/htmx-2.min.js" in content
    assert "/static/django_htmx/ext/hx-ws-2.min.js" in content


def test_no_page_requests_another_host(login, group, planned_session, facilitator):
    signed_in = login(facilitator)
    for url in [
        reverse("home"),
        reverse("group_detail", args=[group.code]),
        reverse("session_detail", args=[planned_session.code]),
    ]:
        content = signed_in.get(url).content.decode()
        sources = re.findall(r'(?:src|href)="([^"]+)"', content)
        assert sources, url
        assert all(not s.startswith(("http://", "https://", "//")) for s in sources), url
