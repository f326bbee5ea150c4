"""Sign-in, « rester connecté », sign-out, password reset; no open sign-up."""

import datetime as dt
import re

import pytest
from django.conf import settings
from django.urls import reverse

from tests.conftest import PASSWORD

THIRTY_DAYS = int(dt.timedelta(days=30).total_seconds())


def sign_in(client, email, password=PASSWORD, *, remember_me=True):
    data = {"username": email, "password": password}
    if remember_me:
        data["remember_me"] = "on"
    return client.post(reverse("login"), data)


def signed_in_user_id(client):
    return client.session.get("_auth_user_id")


def test_login_page_offers_rester_connecte_checked_by_default(client, db):
    response = client.get(reverse("login"))

    assert response.status_code == 200
    assert response.context["form"]["remember_me"].value() is True
    assert "Rester connecté" in response.content.decode()


def test_member_signs_in_with_email_and_password(client, member):
    response = sign_in(client, member.email)

    assert response.status_code == 302
    assert response.url == reverse("home")
    assert signed_in_user_id(client) == str(member.pk)


def test_sign_in_ignores_the_case_of_the_email(client, member):
    response = sign_in(client, member.email.upper())

    assert response.status_code == 302
    assert signed_in_user_id(client) == str(member.pk)


def test_wrong_password_shows_french_error(client, member):
    response = sign_in(client, member.email, "pas le bon mot de passe")

    assert response.status_code == 200
    assert "Adresse e-mail ou mot de passe incorrect." in response.content.decode()
    assert signed_in_user_id(client) is None


def test_unknown_email_shows_the_same_french_error(client, db):
    response = sign_in(client, "personne@test.codev")

    assert response.status_code == 200
    assert "Adresse e-mail ou mot de passe incorrect." in response.content.decode()


def test_rester_connecte_keeps_the_session_for_30_days(client, member):
    response = sign_in(client, member.email, remember_me=True)

    assert client.session.get_expiry_age() == THIRTY_DAYS
    assert client.session.get_expire_at_browser_close() is False
    assert response.cookies[settings.SESSION_COOKIE_NAME]["max-age"] == THIRTY_DAYS


def test_without_rester_connecte_the_session_ends_with_the_browser(client, member):
    response = sign_in(client, member.email, remember_me=False)

    assert signed_in_user_id(client) == str(member.pk)
    assert client.session.get_expire_at_browser_close() is True
    # A cookie without max-age (nor expires) is a browser-session cookie.
    cookie = response.cookies[settings.SESSION_COOKIE_NAME]
    assert cookie["max-age"] == ""
    assert cookie["expires"] == ""


def test_member_signs_out_by_post(client, member):
    sign_in(client, member.email)

    response = client.post(reverse("logout"))

    assert response.status_code == 302
    assert response.url == reverse("login")
    assert signed_in_user_id(client) is None


def test_sign_out_refuses_get(login, member):
    client = login(member)

    response = client.get(reverse("logout"))

    assert response.status_code == 405
    assert signed_in_user_id(client) == str(member.pk)


def test_password_reset_mails_a_link_that_sets_a_new_password(client, member, mailoutbox):
    response = client.post(reverse("password_reset"), {"email": member.email.upper()})

    assert response.status_code == 302
    assert response.url == reverse("password_reset_done")
    assert len(mailoutbox) == 1
    mail = mailoutbox[0]
    assert mail.to == [member.email]
    match = re.search(r"https?://testserver(/accounts/password/reset/\S+/\S+/)", mail.body)
    assert match, mail.body

    # The emailed link swaps its token for a session-held one, then shows the form.
    form_page = client.get(match.group(1), follow=True)
    assert form_page.status_code == 200
    assert form_page.context["validlink"] is True
    new_password = "une toute nouvelle phrase secrète"
    response = client.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": new_password, "new_password2": new_password},
    )

    assert response.status_code == 302
    assert response.url == reverse("password_reset_complete")
    member.refresh_from_db()
    assert member.check_password(new_password)
    assert sign_in(client, member.email, new_password).status_code == 302
    assert signed_in_user_id(client) == str(member.pk)


def test_password_reset_link_works_only_once(client, member, mailoutbox):
    client.post(reverse("password_reset"), {"email": member.email})
    link = re.search(r"https?://testserver(/\S+)", mailoutbox[0].body).group(1)
    form_page = client.get(link, follow=True)
    new_password = "une toute nouvelle phrase secrète"
    client.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": new_password, "new_password2": new_password},
    )

    response = client.get(link, follow=True)

    assert response.context["validlink"] is False
    assert "Ce lien n" in response.content.decode()


def test_password_reset_for_an_unknown_email_sends_nothing(client, db, mailoutbox):
    response = client.post(reverse("password_reset"), {"email": "personne@test.codev"})

    # Same answer as for a known address: the page does not reveal who has an account.
    assert response.status_code == 302
    assert response.url == reverse("password_reset_done")
    assert mailoutbox == []


@pytest.mark.parametrize("path", ["/accounts/signup/", "/accounts/register/", "/signup/"])
def test_there_is_no_open_sign_up_page(client, db, path):
    assert client.get(path).status_code == 404


def test_login_page_offers_no_sign_up_link(client, db):
    content = client.get(reverse("login")).content.decode()

    assert "signup" not in content
    assert "sur invitation" in content
