"""Leaving for good: the current password confirms; private notes and learnings
go; what was said in the groups stays, signed « ancien membre »."""

import html

import pytest
from axes.models import AccessAttempt
from django.contrib.auth import SESSION_KEY
from django.urls import reverse
from django.utils import timezone

from groups import services
from groups.models import Cycle, Group, Invitation, Membership, Topic, User
from sessions.models import (
    ActionItem,
    Contribution,
    CycleReview,
    Feedback,
    Learning,
    PrivateNote,
    Question,
    Session,
)
from sessions.roles import CLIENT
from sessions.state import load_state, render_regions
from sessions.steps import Step
from tests.conftest import PASSWORD, go_live

URL = reverse("account_delete")


@pytest.fixture
def live_session(planned_session, member, client_user):
    """A session in its contributions step, where `member` wrote a bit of everything."""
    session = go_live(planned_session, Step.CONTRIBUTIONS)
    Question.objects.create(session=session, author=member, text="Qui décide du budget ?")
    Contribution.objects.create(session=session, author=member, text="Essayez un tour de table")
    Feedback.objects.create(session=session, author=member, rating=5)
    Learning.objects.create(session=session, author=member, text="Laisser du silence")
    PrivateNote.objects.create(session=session, author=member, text="Ma note à moi")
    PrivateNote.objects.create(author=member, text="Carnet entre deux séances")
    Topic.objects.create(group=session.group, proposed_by=member, title="Mon sujet")
    # The client's own writing, which must survive Bruno's departure.
    ActionItem.objects.create(session=session, author=client_user, text="Action de Camille")
    PrivateNote.objects.create(session=session, author=client_user, text="Note de Camille")
    return session


def test_anonymous_is_sent_to_sign_in(client, db):
    for response in [client.get(URL), client.post(URL, {"password": PASSWORD})]:
        assert response.status_code == 302
        assert response.url.startswith(reverse("login"))


def test_confirmation_page_explains_what_goes_and_what_stays(login, member, live_session):
    response = login(member).get(URL)

    assert response.status_code == 200
    content = html.unescape(response.content.decode())
    assert "vos 2 notes privées sont effacées" in content
    assert "votre apprentissage est effacé" in content
    assert "« ancien membre »" in content
    assert "sans votre nom" in content
    assert 'type="password"' in content
    assert reverse("account_data_json") in content


def test_confirmation_page_counts_the_cycle_reviews_that_go(login, member, consultants, group):
    for number in (1, 2):
        cycle = Cycle.objects.create(
            group=group,
            number=number,
            planned_sessions=2,
            launch_at=timezone.now(),
            ended_at=timezone.now() if number == 1 else None,
        )
        CycleReview.objects.create(cycle=cycle, author=member, shared="Merci")
    CycleReview.objects.create(cycle=cycle, author=consultants[1], shared="Merci aussi")

    content = html.unescape(login(member).get(URL).content.decode())

    # What they shared goes too: the group no longer reads it.
    assert "vos 2 bilans de cycle sont effacés, avec ce que vous y partagiez" in content
    login(member).post(URL, {"password": PASSWORD})
    assert list(CycleReview.objects.values_list("shared", flat=True)) == ["Merci aussi"]


def test_confirmation_page_warns_an_animateur_their_group_loses_them(login, facilitator, group):
    content = html.unescape(login(facilitator).get(URL).content.decode())

    assert "ils resteront sans animateur" in content
    assert "« Groupe test »" in content


def test_wrong_password_shows_a_french_error_and_deletes_nothing(login, member, live_session):
    browser = login(member)

    response = browser.post(URL, {"password": "pas le bon"})

    assert response.status_code == 400
    assert "Mot de passe incorrect : votre compte n&#x27;a pas été supprimé." in (
        response.content.decode()
    )
    assert User.objects.filter(pk=member.pk).exists()
    assert PrivateNote.objects.filter(author=member).count() == 2
    assert browser.session[SESSION_KEY] == str(member.pk)


def test_missing_password_deletes_nothing(login, member, live_session):
    response = login(member).post(URL, {})

    assert response.status_code == 400
    assert User.objects.filter(pk=member.pk).exists()


def test_right_password_deletes_the_account_and_signs_out(login, member, live_session):
    browser = login(member)

    response = browser.post(URL, {"password": PASSWORD}, follow=True)

    assert response.redirect_chain == [(reverse("login"), 302)]
    assert "Votre compte a été supprimé." in response.content.decode()
    assert not User.objects.filter(pk=member.pk).exists()
    assert SESSION_KEY not in browser.session


def test_deletion_removes_private_notes_learnings_and_topics(login, member, live_session):
    login(member).post(URL, {"password": PASSWORD})

    assert list(PrivateNote.objects.values_list("text", flat=True)) == ["Note de Camille"]
    assert not Learning.objects.filter(text="Laisser du silence").exists()
    assert not Topic.objects.filter(title="Mon sujet").exists()
    assert not Membership.objects.filter(user_id=member.pk).exists()


def test_deletion_keeps_what_was_said_in_the_session_without_author(login, member, live_session):
    login(member).post(URL, {"password": PASSWORD})

    contribution = Contribution.objects.get(text="Essayez un tour de table")
    assert contribution.author is None
    assert Question.objects.get(text="Qui décide du budget ?").author is None
    assert Feedback.objects.get(session=live_session).author is None
    assert ActionItem.objects.get(text="Action de Camille").author is not None


def test_live_board_shows_ancien_membre_after_deletion(login, member, live_session):
    login(member).post(URL, {"password": PASSWORD})

    board = html.unescape(render_regions(load_state(live_session.pk), CLIENT))

    assert "Essayez un tour de table" in board
    assert "— ancien membre" in board
    assert "Bruno Un" not in board


def test_summary_of_a_closed_session_still_renders_after_deletion(
    login, member, client_user, live_session
):
    Session.objects.filter(pk=live_session.pk).update(
        status=Session.Status.CLOSED, closed_at=timezone.now()
    )
    login(member).post(URL, {"password": PASSWORD})

    response = login(client_user).get(reverse("session_detail", args=[live_session.code]))

    assert response.status_code == 200
    assert "Bruno Un" not in response.content.decode()


def test_client_deleting_keeps_the_action_plan_without_their_name(login, client_user, live_session):
    login(client_user).post(URL, {"password": PASSWORD})

    action = ActionItem.objects.get(text="Action de Camille")
    assert action.author is None
    assert action.session_id == live_session.pk


def test_another_member_deletes_only_their_own_account(login, member, consultants, live_session):
    other = consultants[1]

    login(other).post(URL, {"password": PASSWORD})

    assert not User.objects.filter(pk=other.pk).exists()
    assert User.objects.filter(pk=member.pk).exists()
    assert PrivateNote.objects.filter(author=member).count() == 2


def test_stranger_can_delete_their_own_account(login, outsider, live_session):
    assert login(outsider).get(URL).status_code == 200

    response = login(outsider).post(URL, {"password": PASSWORD})

    assert response.status_code == 302
    assert not User.objects.filter(pk=outsider.pk).exists()
    assert PrivateNote.objects.count() == 3


def test_account_delete_service_applies_the_models_rules(member, live_session):
    services.account_delete(user=member)

    assert not User.objects.filter(pk=member.pk).exists()
    assert not PrivateNote.objects.filter(author_id=member.pk).exists()
    assert not Learning.objects.filter(text="Laisser du silence").exists()
    assert Contribution.objects.get(text="Essayez un tour de table").author_id is None


def test_deletion_removes_the_email_from_the_invitations(login, member, group, facilitator):
    brought = Invitation.objects.create(
        group=group,
        invited_by=facilitator,
        email=member.email,
        accepted_at=timezone.now(),
        accepted_by=member,
    )
    other_group = Group.objects.create(name="Autre groupe", created_by=facilitator)
    pending = Invitation.objects.create(
        group=other_group, invited_by=facilitator, email=member.email.upper()
    )
    someone_else = Invitation.objects.create(group=group, email="quelqu.un@example.org")

    login(member).post(URL, {"password": PASSWORD})

    brought.refresh_from_db()
    pending.refresh_from_db()
    assert brought.email == "" and pending.email == ""
    assert not pending.is_used  # a pending invitation still opens, as a plain link
    someone_else.refresh_from_db()
    assert someone_else.email == "quelqu.un@example.org"
    assert not Invitation.objects.filter(email__iexact=member.email).exists()


def test_deletion_removes_the_sign_in_attempts_counted_under_the_email(login, member):
    AccessAttempt.objects.create(
        username=member.email, ip_address="203.0.113.9", user_agent="x", failures_since_start=2
    )
    AccessAttempt.objects.create(
        username="autre@example.org",
        ip_address="203.0.113.9",
        user_agent="x",
        failures_since_start=1,
    )

    login(member).post(URL, {"password": PASSWORD})

    assert list(AccessAttempt.objects.values_list("username", flat=True)) == ["autre@example.org"]


def test_account_page_links_to_downloads_and_deletion(login, member):
    content = login(member).get(reverse("account")).content.decode()

    assert "Mes données" in content
    assert reverse("account_data_json") in content
    assert reverse("account_data_markdown") in content
    assert reverse("account_delete") in content


def test_deleted_person_can_no_longer_sign_in(client, member, live_session):
    client.force_login(member)
    client.post(URL, {"password": PASSWORD})

    response = client.post(reverse("login"), {"username": member.email, "password": PASSWORD})

    assert response.status_code == 200
    assert SESSION_KEY not in client.session
