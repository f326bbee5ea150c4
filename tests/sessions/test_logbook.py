"""The carnet de bord: my sessions, notes and actions, and nobody else's secrets."""

import datetime as dt
import html

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from sessions.models import (
    ActionItem,
    ActionUpdate,
    Contribution,
    Feedback,
    Learning,
    Participation,
    PrivateNote,
    Question,
    Session,
)
from sessions.steps import Step
from tests.conftest import go_live, tag_card

LOGBOOK_QUERIES = 14


def text(response):
    return html.unescape(response.content.decode())


def closed_session(group, facilitator, client_user, consultants, *, days_ago=30):
    session = Session.objects.create(
        group=group,
        scheduled_at=timezone.now() - dt.timedelta(days=days_ago),
        status=Session.Status.CLOSED,
        demand_text="garder mon calme en réunion",
        demand_validated_at=timezone.now(),
        expose_title="Un conflit d'équipe",
    )
    Participation.objects.create(session=session, user=facilitator, role="facilitator")
    Participation.objects.create(session=session, user=client_user, role="client")
    for user in consultants:
        Participation.objects.create(session=session, user=user, role="consultant")
    return session


@pytest.fixture
def past(group, facilitator, client_user, consultants):
    session = closed_session(group, facilitator, client_user, consultants)
    Question.objects.create(session=session, author=consultants[0], text="Depuis quand ?")
    bruno = Contribution.objects.create(
        session=session, author=consultants[0], text="Carte de Bruno"
    )
    tag_card(bruno, client_user, "keep")
    chloe = Contribution.objects.create(
        session=session, author=consultants[1], text="Carte de Chloé"
    )
    tag_card(chloe, client_user, "not_now")
    Learning.objects.create(session=session, author=consultants[0], text="Écouter d'abord")
    Learning.objects.create(session=session, author=client_user, text="Appris par Camille")
    PrivateNote.objects.create(session=session, author=consultants[0], text="Note de Bruno")
    PrivateNote.objects.create(session=session, author=client_user, text="Note de Camille")
    Feedback.objects.create(session=session, author=consultants[0], rating=4)
    ActionItem.objects.create(session=session, author=client_user, text="Poser un cadre")
    return session


def logbook(client):
    return client.get(reverse("logbook"))


def test_anonymous_is_sent_to_sign_in(client):
    response = logbook(client)
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_a_consultant_sees_what_they_wrote_and_the_validated_demand(login, member, past):
    content = text(logbook(login(member)))

    for expected in ["Depuis quand ?", "Carte de Bruno", "Écouter d'abord", "Note de Bruno"]:
        assert expected in content
    assert "Aidez-moi à garder mon calme en réunion" in content
    assert "Mon avis sur la séance : 4 / 5" in content


def test_a_consultant_sees_neither_others_cards_nor_the_clients_tags_nor_notes(login, member, past):
    content = text(logbook(login(member)))

    assert "Carte de Chloé" not in content
    assert "je retiens" not in content
    assert "Note de Camille" not in content
    assert "Appris par Camille" not in content


def test_the_client_sees_every_card_with_their_tags_and_their_action_plan(login, client_user, past):
    content = text(logbook(login(client_user)))

    assert "Carte de Bruno" in content and "Carte de Chloé" in content
    assert "je retiens" in content and "pas maintenant" in content
    assert "Un conflit d'équipe" in content
    assert "Poser un cadre" in content
    assert "Note de Bruno" not in content


def test_an_outsider_has_an_empty_carnet(login, outsider, past):
    content = text(logbook(login(outsider)))
    assert "Votre carnet se remplira au fil des séances." in content
    assert "Carte de Bruno" not in content


# Notes between sessions


def test_a_member_adds_a_note_between_sessions_and_ties_another_to_a_session(login, member, past):
    signed_in = login(member)
    signed_in.post(reverse("note_create"), {"text": "Entre deux séances"})
    signed_in.post(reverse("note_create"), {"text": "Sur la séance", "session": past.pk})

    loose = PrivateNote.objects.get(text="Entre deux séances")
    tied = PrivateNote.objects.get(text="Sur la séance")
    assert (loose.author, loose.session) == (member, None)
    assert tied.session == past
    assert "Entre deux séances" in text(logbook(signed_in))


def test_a_note_cannot_be_tied_to_a_session_of_another_group(login, outsider, past):
    response = login(outsider).post(
        reverse("note_create"), {"text": "Intrusion", "session": past.pk}
    )

    assert response.status_code == 400
    assert "Sélectionnez un choix valide" in text(response)
    assert "Intrusion" in text(response)
    assert not PrivateNote.objects.filter(text="Intrusion").exists()


def test_an_empty_note_gets_a_french_error(login, member):
    response = login(member).post(reverse("note_create"), {"text": ""})
    assert response.status_code == 400
    assert "Ce champ est obligatoire." in text(response)


def test_a_member_edits_and_deletes_their_note(login, member, past):
    note = PrivateNote.objects.get(text="Note de Bruno")
    signed_in = login(member)

    signed_in.post(reverse("note_edit", args=[note.code]), {"text": "Note revue"})
    note.refresh_from_db()
    assert note.text == "Note revue"

    signed_in.post(reverse("note_delete", args=[note.code]))
    assert not PrivateNote.objects.filter(pk=note.pk).exists()


def test_someone_elses_note_is_a_404_to_read_edit_or_delete(login, member, past):
    note = PrivateNote.objects.get(text="Note de Camille")
    signed_in = login(member)

    assert signed_in.get(reverse("note_edit", args=[note.code])).status_code == 404
    assert signed_in.post(reverse("note_edit", args=[note.code]), {"text": "x"}).status_code == 404
    assert signed_in.post(reverse("note_delete", args=[note.code])).status_code == 404
    note.refresh_from_db()
    assert note.text == "Note de Camille"


# Actions between sessions


def test_the_client_updates_an_action_with_a_dated_progress_note(login, client_user, past):
    action = ActionItem.objects.get(text="Poser un cadre")

    response = login(client_user).post(
        reverse("action_progress", args=[action.code]),
        {"status": "doing", "note": "Premier essai lundi"},
    )

    assert response.status_code == 302
    action.refresh_from_db()
    assert (action.status, action.progress_note) == ("doing", "Premier essai lundi")
    assert action.progress_at is not None
    update = ActionUpdate.objects.get(action=action)
    assert (update.status, update.note) == ("doing", "Premier essai lundi")


def test_another_member_cannot_update_the_clients_action(login, member, past):
    action = ActionItem.objects.get(text="Poser un cadre")
    response = login(member).post(
        reverse("action_progress", args=[action.code]), {"status": "done"}
    )
    assert response.status_code == 403
    action.refresh_from_db()
    assert action.status == "todo"


def test_a_stranger_gets_404_on_an_action(login, outsider, past):
    action = ActionItem.objects.get(text="Poser un cadre")
    response = login(outsider).post(
        reverse("action_progress", args=[action.code]), {"status": "done"}
    )
    assert response.status_code == 404


def test_an_invalid_status_changes_nothing(login, client_user, past):
    action = ActionItem.objects.get(text="Poser un cadre")
    login(client_user).post(reverse("action_progress", args=[action.code]), {"status": "bof"})
    action.refresh_from_db()
    assert action.status == "todo"
    assert not ActionUpdate.objects.exists()


def test_an_update_reaches_the_groups_live_session(login, client_user, past, planned_session):
    # The retour step only exists when the session includes it.
    go_live(planned_session, Step.RETOUR, include_retour=True)
    action = ActionItem.objects.get(text="Poser un cadre")

    login(client_user).post(
        reverse("action_progress", args=[action.code]), {"status": "done", "note": "Fait !"}
    )

    planned_session.refresh_from_db()
    assert planned_session.version == 1
    page = text(login(client_user).get(reverse("session_detail", args=[planned_session.code])))
    assert "Fait !" in page


def test_home_lists_my_open_actions_only(login, client_user, member, past):
    ActionItem.objects.create(session=past, author=client_user, text="Déjà fait", status="done")
    content = text(login(client_user).get(reverse("home")))
    assert "Poser un cadre" in content
    assert "Déjà fait" not in content
    assert "Poser un cadre" not in text(login(member).get(reverse("home")))


# Search


def test_search_finds_my_notes_and_learnings_and_links_to_the_session(login, member, past):
    content = text(login(member).get(reverse("logbook"), {"q": "Bruno"}))
    assert "2 résultats pour « Bruno »" in content  # the note and the card
    assert f"#session-{past.code}" in content


def test_search_never_finds_someone_elses_private_note(login, member, past):
    content = text(login(member).get(reverse("logbook"), {"q": "Camille"}))
    assert "0 résultats pour « Camille »" in content


def test_search_uses_words_on_postgresql_and_substrings_elsewhere(login, member, past):
    found = text(login(member).get(reverse("logbook"), {"q": "écouter"}))
    assert "Écouter d'abord" in found.split("résultat")[1]
    if connection.vendor == "postgresql":
        # French stemming: « écoutant » finds « Écouter ».
        stemmed = text(login(member).get(reverse("logbook"), {"q": "écoutant"}))
        assert "1 résultat" in stemmed


# Exports and size


def test_markdown_export_holds_my_carnet(login, client_user, past):
    response = login(client_user).get(reverse("logbook_markdown"))
    content = response.content.decode()
    assert response["Content-Type"] == "text/markdown; charset=utf-8"
    assert "attachment" in response["Content-Disposition"]
    assert "# Carnet de bord — Camille Cliente" in content
    assert "Note de Camille" in content and "Poser un cadre" in content
    assert "Note de Bruno" not in content


def test_the_carnet_of_twelve_sessions_stays_within_a_fixed_number_of_queries(
    login, group, facilitator, client_user, consultants, django_assert_max_num_queries
):
    signed_in = login(consultants[0])

    def make(count, start):
        for index in range(count):
            session = closed_session(
                group, facilitator, client_user, consultants, days_ago=start + index
            )
            Contribution.objects.create(session=session, author=consultants[0], text=f"c{index}")
            Learning.objects.create(session=session, author=consultants[0], text=f"l{index}")
            PrivateNote.objects.create(session=session, author=consultants[0], text=f"n{index}")
            ActionItem.objects.create(session=session, author=client_user, text=f"a{index}")

    def count():
        with CaptureQueriesContext(connection) as queries:
            assert logbook(signed_in).status_code == 200
        return len(queries)

    make(2, 10)
    small = count()
    make(10, 100)
    with django_assert_max_num_queries(LOGBOOK_QUERIES):
        assert logbook(signed_in).status_code == 200
    assert count() == small
