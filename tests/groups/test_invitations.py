"""Invitations: create, single use, 14 days, joining with the charter, the cap of 8."""

import datetime as dt
import html

from django.urls import reverse
from django.utils import timezone

from groups.models import Invitation, Membership, User
from tests.conftest import PASSWORD, add_member, make_user

FULL = "au plus 8 membres"


def invite(client, group, email=""):
    return client.post(
        reverse("invitation_create", args=[group.code]),
        {"email": email, "role": Membership.Role.MEMBER},
    )


def make_invitation(group, invited_by, **fields):
    return Invitation.objects.create(group=group, invited_by=invited_by, **fields)


def accept_url(invitation):
    return reverse("invitation_accept", args=[invitation.token])


def text(response):
    return html.unescape(response.content.decode())


def join_data(**overrides):
    data = {
        "full_name": "Nina Nouvelle",
        "email": "nina@test.codev",
        "password1": PASSWORD,
        "password2": PASSWORD,
        "accept_charter": "on",
    }
    data.update(overrides)
    return data


def fill_group(group, up_to):
    """Add plain members until `group` counts `up_to` of them (facilitator aside)."""
    existing = group.memberships.members().count()
    for n in range(existing, up_to):
        add_member(group, make_user(f"Membre En Plus {n}"))
    assert group.memberships.members().count() == up_to


# Creating an invitation


def test_member_creates_an_invitation(login, member, group):
    response = invite(login(member), group)

    assert response.status_code == 302
    assert response.url == reverse("group_detail", args=[group.code])
    invitation = Invitation.objects.get(group=group)
    assert invitation.invited_by == member
    assert invitation.role == Membership.Role.MEMBER
    assert invitation.accepted_at is None


def test_group_page_lists_the_pending_invitation(login, member, group):
    client = login(member)
    invite(client, group, "nina@test.codev")

    response = client.get(reverse("group_detail", args=[group.code]))

    assert "nina@test.codev" in response.content.decode()


def test_stranger_cannot_invite_to_a_group(login, outsider, group):
    response = invite(login(outsider), group)

    assert response.status_code == 404
    assert not Invitation.objects.exists()


def test_anonymous_invite_redirects_to_sign_in(client, group):
    response = invite(client, group)

    assert response.status_code == 302
    assert response.url.startswith(reverse("login") + "?next=")
    assert not Invitation.objects.exists()


def test_inviting_someone_already_in_the_group_is_refused(login, member, client_user, group):
    response = invite(login(member), group, client_user.email.upper())

    assert response.status_code == 400
    assert "fait déjà partie du groupe" in text(response)
    assert not Invitation.objects.exists()


def test_invitation_with_an_email_sends_a_mail_with_the_link(login, member, group, mailoutbox):
    invite(login(member), group, "nina@test.codev")

    invitation = Invitation.objects.get(group=group)
    assert len(mailoutbox) == 1
    mail = mailoutbox[0]
    assert mail.to == ["nina@test.codev"]
    assert "Groupe test" in mail.subject
    assert f"http://testserver{accept_url(invitation)}" in mail.body


def test_invitation_without_an_email_sends_no_mail(login, member, group, mailoutbox):
    invite(login(member), group)

    assert Invitation.objects.filter(group=group).count() == 1
    assert mailoutbox == []


# Validity


def test_invitation_expires_fourteen_days_after_it_was_made(login, member, group):
    before = timezone.now()
    invite(login(member), group)

    invitation = Invitation.objects.get(group=group)
    assert before + dt.timedelta(days=14) <= invitation.expires_at
    assert invitation.expires_at <= timezone.now() + dt.timedelta(days=14)


def test_expired_invitation_answers_410(client, group, facilitator):
    invitation = make_invitation(
        group, facilitator, expires_at=timezone.now() - dt.timedelta(minutes=1)
    )

    response = client.get(accept_url(invitation))

    assert response.status_code == 410
    assert "Cette invitation a expiré" in text(response)


def test_expired_invitation_cannot_be_used_to_join(client, group, facilitator):
    invitation = make_invitation(
        group, facilitator, expires_at=timezone.now() - dt.timedelta(minutes=1)
    )

    response = client.post(accept_url(invitation), join_data())

    assert response.status_code == 410
    assert not User.objects.filter(email="nina@test.codev").exists()


def test_invitation_link_works_only_once(client, group, facilitator):
    invitation = make_invitation(group, facilitator)
    client.post(accept_url(invitation), join_data())
    client.logout()

    response = client.post(
        accept_url(invitation), join_data(full_name="Paul Second", email="paul@test.codev")
    )

    assert response.status_code == 410
    assert "Cette invitation a déjà été utilisée." in text(response)
    assert not User.objects.filter(email="paul@test.codev").exists()
    assert client.get(accept_url(invitation)).status_code == 410


def test_unknown_invitation_token_is_404(client, db):
    assert client.get(reverse("invitation_accept", args=["pas-un-jeton"])).status_code == 404


# Joining


def test_invitation_page_shows_the_group_charter(client, group, facilitator):
    invitation = make_invitation(group, facilitator)

    response = client.get(accept_url(invitation))

    assert response.status_code == 200
    assert "Confidentialité" in text(response)
    assert "Rejoindre « Groupe test »" in text(response)


def test_new_person_creates_an_account_through_the_invitation(client, group, facilitator):
    invitation = make_invitation(group, facilitator, email="nina@test.codev")

    response = client.post(accept_url(invitation), join_data(email="Nina@Test.codev"))

    assert response.status_code == 302
    assert response.url == reverse("group_detail", args=[group.code])
    user = User.objects.get(email="nina@test.codev")
    assert user.full_name == "Nina Nouvelle"
    assert user.check_password(PASSWORD)
    membership = Membership.objects.get(group=group, user=user)
    assert membership.role == Membership.Role.MEMBER
    assert membership.charter_accepted_at is not None
    invitation.refresh_from_db()
    assert invitation.accepted_by == user
    assert invitation.accepted_at is not None
    # Signed in at once, and the group page is theirs.
    assert client.session["_auth_user_id"] == str(user.pk)
    assert client.get(response.url).status_code == 200


def test_invitation_form_is_prefilled_with_the_invited_email(client, group, facilitator):
    invitation = make_invitation(group, facilitator, email="nina@test.codev")

    response = client.get(accept_url(invitation))

    assert response.context["form"]["email"].value() == "nina@test.codev"


def test_signed_in_user_joins_by_accepting_the_charter(login, outsider, group, facilitator):
    invitation = make_invitation(group, facilitator)
    client = login(outsider)

    response = client.post(accept_url(invitation), {"accept_charter": "on"})

    assert response.status_code == 302
    assert response.url == reverse("group_detail", args=[group.code])
    membership = Membership.objects.get(group=group, user=outsider)
    assert membership.charter_accepted_at is not None
    invitation.refresh_from_db()
    assert invitation.accepted_by == outsider


def test_signed_in_user_must_tick_the_charter(login, outsider, group, facilitator):
    invitation = make_invitation(group, facilitator)

    response = login(outsider).post(accept_url(invitation), {"accept_charter": ""})

    assert response.status_code == 200
    assert "Pour rejoindre le groupe, acceptez sa charte." in text(response)
    assert not Membership.objects.filter(group=group, user=outsider).exists()


def test_charter_is_required_and_nothing_typed_is_lost(client, group, facilitator):
    invitation = make_invitation(group, facilitator)
    data = join_data(full_name="Nina O'Neil", email="nina@test.codev")
    del data["accept_charter"]

    response = client.post(accept_url(invitation), data)

    assert response.status_code == 200
    assert "Pour rejoindre le groupe, acceptez sa charte." in text(response)
    assert response.context["form"]["full_name"].value() == "Nina O'Neil"
    assert 'value="Nina O&#x27;Neil"' in response.content.decode()
    assert 'value="nina@test.codev"' in response.content.decode()
    assert not User.objects.filter(email="nina@test.codev").exists()
    invitation.refresh_from_db()
    assert invitation.accepted_at is None


def test_charter_left_unchecked_keeps_the_passwords(client, group, facilitator):
    invitation = make_invitation(group, facilitator)
    data = join_data()
    del data["accept_charter"]

    page = client.post(accept_url(invitation), data).content.decode()

    # Both password fields come back filled: only the box is left to tick.
    assert page.count(f'value="{PASSWORD}"') == 2


def test_a_refused_password_comes_back_empty(client, group, facilitator):
    invitation = make_invitation(group, facilitator)
    data = join_data(password2="un autre mot de passe")
    del data["accept_charter"]

    page = client.post(accept_url(invitation), data).content.decode()

    assert "Les deux mots de passe ne correspondent pas." in html.unescape(page)
    assert PASSWORD not in page


def test_email_that_already_has_an_account_gets_a_french_error(
    client, group, facilitator, outsider
):
    invitation = make_invitation(group, facilitator)

    response = client.post(accept_url(invitation), join_data(email=outsider.email.upper()))

    assert response.status_code == 200
    assert "Un compte existe déjà avec cette adresse" in text(response)
    assert not Membership.objects.filter(group=group, user=outsider).exists()
    assert User.objects.filter(email__iexact=outsider.email).count() == 1


def test_existing_member_accepting_again_gets_a_french_error(login, member, group, facilitator):
    invitation = make_invitation(group, facilitator)

    response = login(member).post(accept_url(invitation), {"accept_charter": "on"})

    assert response.status_code == 200
    assert "Vous faites déjà partie de ce groupe." in text(response)
    invitation.refresh_from_db()
    assert invitation.accepted_at is None


# The cap of 8 members


def test_a_group_of_eight_members_refuses_the_next_invitation(login, member, group):
    fill_group(group, 8)

    response = invite(login(member), group, "nina@test.codev")

    assert response.status_code == 400
    assert FULL in text(response)
    assert not Invitation.objects.exists()


def test_the_facilitator_does_not_count_toward_the_eight(login, member, group):
    fill_group(group, 7)
    assert group.memberships.count() == 8  # 7 members and the facilitator

    response = invite(login(member), group)

    assert response.status_code == 302
    assert Invitation.objects.filter(group=group).count() == 1


def test_pending_invitations_count_toward_the_cap(login, member, group, facilitator):
    # Five members and three links out: the eighth seat is promised already.
    for _ in range(3):
        make_invitation(group, facilitator)

    response = invite(login(member), group)

    assert response.status_code == 400
    assert FULL in text(response)
    assert Invitation.objects.filter(group=group).count() == 3


def test_expired_invitations_free_their_seat(login, member, group, facilitator):
    fill_group(group, 7)
    make_invitation(group, facilitator, expires_at=timezone.now() - dt.timedelta(days=1))

    response = invite(login(member), group)

    assert response.status_code == 302


def test_joining_a_group_that_filled_up_meanwhile_is_refused(client, group, facilitator):
    fill_group(group, 7)
    invitation = make_invitation(group, facilitator)
    # Someone else got in through another way in the meantime.
    add_member(group, make_user("Dernier Arrivé"))

    response = client.post(accept_url(invitation), join_data())

    assert response.status_code == 200
    assert FULL in text(response)
    # The account and the membership go together: neither was created.
    assert not User.objects.filter(email="nina@test.codev").exists()
    assert group.memberships.members().count() == 8
    invitation.refresh_from_db()
    assert invitation.accepted_at is None
    assert "_auth_user_id" not in client.session


def test_signed_in_user_cannot_join_a_group_that_filled_up(login, outsider, group, facilitator):
    fill_group(group, 7)
    invitation = make_invitation(group, facilitator)
    add_member(group, make_user("Dernier Arrivé"))

    response = login(outsider).post(accept_url(invitation), {"accept_charter": "on"})

    assert response.status_code == 200
    assert FULL in text(response)
    assert not Membership.objects.filter(group=group, user=outsider).exists()


# Revoking


def test_member_revokes_a_pending_invitation(login, member, group, facilitator):
    invitation = make_invitation(group, facilitator)

    response = login(member).post(reverse("invitation_revoke", args=[group.code, invitation.token]))

    assert response.status_code == 302
    assert response.url == reverse("group_detail", args=[group.code])
    assert not Invitation.objects.filter(pk=invitation.pk).exists()


def test_revoked_invitation_link_no_longer_works(login, member, group, facilitator):
    invitation = make_invitation(group, facilitator)
    client = login(member)
    client.post(reverse("invitation_revoke", args=[group.code, invitation.token]))
    client.logout()

    assert client.get(accept_url(invitation)).status_code == 404


def test_revoking_frees_a_seat(login, member, group, facilitator):
    fill_group(group, 7)
    invitation = make_invitation(group, facilitator)
    client = login(member)
    assert invite(client, group).status_code == 400

    client.post(reverse("invitation_revoke", args=[group.code, invitation.token]))

    assert invite(client, group).status_code == 302


def test_an_accepted_invitation_cannot_be_revoked(login, member, outsider, group, facilitator):
    invitation = make_invitation(
        group, facilitator, accepted_at=timezone.now(), accepted_by=outsider
    )

    response = login(member).post(reverse("invitation_revoke", args=[group.code, invitation.token]))

    assert response.status_code == 404
    assert Invitation.objects.filter(pk=invitation.pk).exists()


def test_stranger_cannot_revoke_an_invitation(login, outsider, group, facilitator):
    invitation = make_invitation(group, facilitator)

    response = login(outsider).post(
        reverse("invitation_revoke", args=[group.code, invitation.token])
    )

    assert response.status_code == 404
    assert Invitation.objects.filter(pk=invitation.pk).exists()


def test_anonymous_revoke_redirects_to_sign_in(client, group, facilitator):
    invitation = make_invitation(group, facilitator)

    response = client.post(reverse("invitation_revoke", args=[group.code, invitation.token]))

    assert response.status_code == 302
    assert response.url.startswith(reverse("login") + "?next=")
    assert Invitation.objects.filter(pk=invitation.pk).exists()


def test_revoking_needs_a_post(login, member, group, facilitator):
    invitation = make_invitation(group, facilitator)

    response = login(member).get(reverse("invitation_revoke", args=[group.code, invitation.token]))

    assert response.status_code == 405
    assert Invitation.objects.filter(pk=invitation.pk).exists()
