"""The Django admin shows that a private note exists, never what it says."""

import pytest
from django.urls import reverse

from groups.models import User
from sessions.models import (
    ActionItem,
    ActionUpdate,
    Contribution,
    Feedback,
    Learning,
    PrivateNote,
    Question,
)

SECRET = "Je crois que je vais quitter mon poste"


@pytest.fixture
def superuser(db):
    return User.objects.create_superuser(
        email="admin@test.codev", password="x", full_name="Ada Admin"
    )


@pytest.fixture
def note(planned_session, member):
    return PrivateNote.objects.create(session=planned_session, author=member, text=SECRET)


@pytest.fixture
def admin_client(client, superuser):
    client.force_login(superuser)
    return client


def test_changelist_shows_the_note_exists_but_not_its_text(admin_client, note, member):
    response = admin_client.get(reverse("admin:codev_sessions_privatenote_changelist"))

    assert response.status_code == 200
    content = response.content.decode()
    assert member.full_name in content
    assert f"note privée #{note.pk}" in content
    assert SECRET not in content


def test_change_page_shows_author_and_session_but_not_the_text(admin_client, note, member):
    url = reverse("admin:codev_sessions_privatenote_change", args=[note.pk])

    response = admin_client.get(url)

    assert response.status_code == 200
    content = response.content.decode()
    assert member.full_name in content
    assert "Groupe test" in content
    assert SECRET not in content
    assert 'name="text"' not in content


def test_searching_the_text_finds_no_note(admin_client, note):
    url = reverse("admin:codev_sessions_privatenote_changelist")

    response = admin_client.get(url, {"q": "quitter mon poste"})

    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == []


def test_admin_cannot_add_or_change_a_note(admin_client, note):
    add = admin_client.get(reverse("admin:codev_sessions_privatenote_add"))
    change = admin_client.post(
        reverse("admin:codev_sessions_privatenote_change", args=[note.pk]),
        {"text": "réécrit par l'admin"},
    )

    assert add.status_code == 403
    assert change.status_code == 403
    note.refresh_from_db()
    assert note.text == SECRET


def test_note_delete_confirmation_does_not_show_the_text(admin_client, note):
    url = reverse("admin:codev_sessions_privatenote_delete", args=[note.pk])

    response = admin_client.get(url)

    assert response.status_code == 200
    assert SECRET not in response.content.decode()


def test_deleting_a_person_lists_their_notes_without_the_text(admin_client, note, member):
    # The cascade summary prints each related object's str().
    url = reverse("admin:groups_user_delete", args=[member.pk])

    response = admin_client.get(url)

    assert response.status_code == 200
    content = response.content.decode()
    assert f"note privée #{note.pk}" in content
    assert SECRET not in content


def test_members_and_strangers_get_no_admin(client, note, member, outsider):
    url = reverse("admin:codev_sessions_privatenote_changelist")
    for person in [member, outsider]:
        client.force_login(person)
        response = client.get(url)
        assert response.status_code == 302
        assert response.url.startswith(reverse("admin:login"))


def test_note_str_never_holds_its_text(note):
    assert SECRET not in str(note)


@pytest.fixture
def writings(planned_session, member, client_user):
    session = planned_session
    action = ActionItem.objects.create(session=session, author=client_user, text="Appeler Paul")
    ActionUpdate.objects.create(action=action, status="doing", note="Message laissé")
    return {
        "question": Question.objects.create(session=session, author=member, text="Depuis quand ?"),
        "contribution": Contribution.objects.create(
            session=session, author=member, text="Un café d'équipe"
        ),
        "actionitem": action,
        "learning": Learning.objects.create(session=session, author=member, text="Écouter"),
        "feedback": Feedback.objects.create(session=session, author=member, rating=4),
    }


@pytest.mark.parametrize(
    "model, shown",
    [
        ("question", "Depuis quand ?"),
        ("contribution", "Un café"),
        ("actionitem", "Appeler Paul"),
        ("learning", "Écouter"),
        ("feedback", "Bruno Un"),
    ],
)
def test_session_writings_have_a_changelist_and_change_page(admin_client, writings, model, shown):
    changelist = admin_client.get(reverse(f"admin:codev_sessions_{model}_changelist"))
    change = admin_client.get(
        reverse(f"admin:codev_sessions_{model}_change", args=[writings[model].pk])
    )

    assert changelist.status_code == 200
    assert shown in changelist.content.decode()
    assert change.status_code == 200


def test_action_change_page_shows_its_dated_updates(admin_client, writings):
    url = reverse("admin:codev_sessions_actionitem_change", args=[writings["actionitem"].pk])

    assert "Message laissé" in admin_client.get(url).content.decode()
