"""« Télécharger mes données »: everything the signed-in person wrote, as JSON
or Markdown; from others only what places it (group name, session date)."""

import datetime as dt
import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from groups.models import Cycle, Group, Topic
from sessions.models import (
    ActionItem,
    ActionUpdate,
    Contribution,
    CycleReview,
    DemandCheck,
    Feedback,
    Learning,
    Participation,
    PrivateNote,
    Question,
    Session,
)
from tests.conftest import tag_card

JSON_URL = reverse("account_data_json")
MARKDOWN_URL = reverse("account_data_markdown")


@pytest.fixture
def past_session(group, facilitator, client_user, consultants):
    """A closed session: client_user was client, the consultants consulted."""
    session = Session.objects.create(
        group=group,
        scheduled_at=timezone.now() - dt.timedelta(days=20),
        status=Session.Status.CLOSED,
        created_by=facilitator,
        expose_title="Mon équipe décroche",
        expose_summary="Depuis la réorganisation, l'équipe ne vient plus aux points.",
        demand_text="retrouver l'envie de l'équipe",
    )
    Participation.objects.create(
        session=session, user=facilitator, role=Participation.Role.FACILITATOR
    )
    Participation.objects.create(session=session, user=client_user, role=Participation.Role.CLIENT)
    for user in consultants:
        Participation.objects.create(session=session, user=user, role=Participation.Role.CONSULTANT)
    return session


@pytest.fixture
def written(past_session, client_user, member, consultants):
    """What each person wrote in the past session and in their carnet."""
    other = consultants[1]
    Question.objects.create(session=past_session, author=member, text="Depuis quand ?")
    card = Contribution.objects.create(
        session=past_session, author=member, text="Un café d'équipe le lundi"
    )
    tag_card(card, client_user, "keep")
    chloe = Contribution.objects.create(session=past_session, author=other, text="Texte de Chloé")
    tag_card(chloe, client_user, "not_now")
    DemandCheck.objects.create(session=past_session, author=member, verdict="understood")
    action = ActionItem.objects.create(
        session=past_session,
        author=client_user,
        text="Proposer un café d'équipe",
        due_date=dt.date(2026, 12, 1),
        status=ActionItem.Status.DOING,
        contribution=card,
        progress_note="Premier café fait",
        progress_at=timezone.now(),
    )
    ActionUpdate.objects.create(action=action, status="doing", note="Premier café fait")
    Learning.objects.create(session=past_session, author=member, text="Écouter avant d'agir")
    Learning.objects.create(session=past_session, author=client_user, text="Appris par Camille")
    Feedback.objects.create(session=past_session, author=member, rating=4, comment="Bon rythme")
    PrivateNote.objects.create(session=past_session, author=member, text="Note de séance à moi")
    PrivateNote.objects.create(author=member, text="Note libre du carnet")
    PrivateNote.objects.create(session=past_session, author=client_user, text="Secret de Camille")
    Topic.objects.create(group=past_session.group, proposed_by=member, title="Déléguer enfin")
    return past_session


def ended_cycle(group, number):
    """A cycle of `group` whose review the group has decided: any number of them
    may stand side by side (only one may be open)."""
    when = timezone.now() - dt.timedelta(days=60 * number)
    return Cycle.objects.create(
        group=group,
        number=number,
        planned_sessions=2,
        launch_at=when,
        ended_at=when + dt.timedelta(days=50),
        decision=Cycle.Decision.SAME,
    )


@pytest.fixture
def reviewed(group, facilitator, member, consultants):
    """Bruno's reviews of two cycles of the test group and one of another
    group; Chloé's review of the first cycle, with a part shared with the group."""
    first, second = ended_cycle(group, 1), ended_cycle(group, 2)
    other_group = Group.objects.create(name="Autre groupe", created_by=facilitator)
    # Written last, so that the export's order is not the order of writing.
    CycleReview.objects.create(
        cycle=second, author=member, learnt="Appris au cycle 2", shared="Partagé au cycle 2"
    )
    CycleReview.objects.create(
        cycle=first,
        author=member,
        learnt="Écouter avant de conseiller",
        practice="Moins de réunions",
        shared="Merci à tous",
    )
    CycleReview.objects.create(
        cycle=ended_cycle(other_group, 1), author=member, practice="Ailleurs aussi"
    )
    CycleReview.objects.create(
        cycle=first,
        author=consultants[1],
        learnt="Appris par Chloé",
        practice="Pratique de Chloé",
        shared="Partagé par Chloé",
    )
    return first


def download_json(client):
    response = client.get(JSON_URL)
    assert response.status_code == 200
    return json.loads(response.content)


@pytest.mark.parametrize("url", [JSON_URL, MARKDOWN_URL])
def test_anonymous_is_sent_to_sign_in(client, db, url):
    response = client.get(url)

    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


@pytest.mark.parametrize("url", [JSON_URL, MARKDOWN_URL])
def test_download_refuses_post(login, member, url):
    assert login(member).post(url).status_code == 405


def test_json_is_an_attachment_with_accents_kept(login, member, written):
    response = login(member).get(JSON_URL)

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response["Content-Disposition"] == 'attachment; filename="codev-mes-donnees.json"'
    # ensure_ascii=False: readable French, not \u00e9 escapes.
    assert "Écouter avant d'agir" in response.content.decode()


def test_markdown_is_a_utf8_attachment(login, member, written):
    response = login(member).get(MARKDOWN_URL)

    assert response.status_code == 200
    assert response["Content-Type"] == "text/markdown; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="codev-mes-donnees.md"'
    assert response.content.decode().startswith("# Mes données Codev")


def test_consultant_json_holds_everything_they_wrote(login, member, written, group):
    data = download_json(login(member))

    assert data["account"]["email"] == member.email
    assert [m["group"] for m in data["memberships"]] == ["Groupe test"]
    assert data["memberships"][0]["role"] == "member"
    assert data["memberships"][0]["charter_accepted_at"]
    assert [(s["group"], s["role"]) for s in data["sessions"]] == [("Groupe test", "consultant")]
    assert [q["text"] for q in data["questions"]] == ["Depuis quand ?"]
    assert [c["text"] for c in data["contributions"]] == ["Un café d'équipe le lundi"]
    assert [c["verdict"] for c in data["demand_checks"]] == ["understood"]
    assert [x["text"] for x in data["learnings"]] == ["Écouter avant d'agir"]
    assert [(f["rating"], f["comment"]) for f in data["feedbacks"]] == [(4, "Bon rythme")]
    assert [t["title"] for t in data["topics"]] == ["Déléguer enfin"]
    notes = {n["text"]: n for n in data["private_notes"]}
    assert set(notes) == {"Note de séance à moi", "Note libre du carnet"}
    assert notes["Note de séance à moi"]["session_date"].startswith(
        timezone.localtime(written.scheduled_at).date().isoformat()
    )
    assert notes["Note libre du carnet"]["session_date"] is None


def test_consultant_never_learns_the_client_tag_on_their_card(login, member, written):
    response = login(member).get(JSON_URL)
    data = json.loads(response.content)

    assert "tag" not in data["contributions"][0]
    assert '"keep"' not in response.content.decode()
    markdown = login(member).get(MARKDOWN_URL).content.decode()
    assert "je retiens" not in markdown


def test_consultant_export_holds_nothing_written_by_others(login, member, written):
    for url in [JSON_URL, MARKDOWN_URL]:
        content = login(member).get(url).content.decode()

        for foreign in [
            "Texte de Chloé",
            "Secret de Camille",
            "Appris par Camille",
            "Proposer un café d'équipe",
            "Mon équipe décroche",
            "retrouver l'envie de l'équipe",
        ]:
            assert foreign not in content, (url, foreign)
        # The session is placed by its group, not by who else was there.
        assert "Camille Cliente" not in content
        assert "Groupe test" in content


def test_client_export_holds_expose_demand_and_action_history(login, client_user, written):
    data = download_json(login(client_user))

    [session] = data["sessions"]
    assert session["role"] == "client"
    assert session["expose_title"] == "Mon équipe décroche"
    assert session["expose_summary"].startswith("Depuis la réorganisation")
    assert session["demand"] == "retrouver l'envie de l'équipe"
    [action] = data["actions"]
    assert action["text"] == "Proposer un café d'équipe"
    assert action["status"] == "doing"
    assert action["due_date"] == "2026-12-01"
    assert action["progress_note"] == "Premier café fait"
    assert [(u["status"], u["note"]) for u in action["updates"]] == [("doing", "Premier café fait")]
    assert [n["text"] for n in data["private_notes"]] == ["Secret de Camille"]
    # The consultants' cards are theirs, not the client's data.
    assert data["contributions"] == []


def test_client_markdown_holds_expose_demand_and_dated_updates(login, client_user, written):
    markdown = login(client_user).get(MARKDOWN_URL).content.decode()

    assert "Mon équipe décroche" in markdown
    assert "Aidez-moi à retrouver l'envie de l'équipe" in markdown
    assert "### Proposer un café d'équipe" in markdown
    assert "en cours" in markdown
    assert "pour le 1 décembre 2026" in markdown
    assert "Premier café fait" in markdown
    assert "Secret de Camille" in markdown
    assert "Texte de Chloé" not in markdown


def test_a_card_carries_the_persons_own_tag_never_anothers(
    login, client_user, member, written, planned_session
):
    # Camille tagged her own card while client of the past session; in the
    # planned one Bruno is the client and tagged hers.
    mine = Contribution.objects.create(session=written, author=client_user, text="Ma propre piste")
    tag_card(mine, client_user, "explore")
    hers = Contribution.objects.create(
        session=planned_session, author=client_user, text="Piste chez Bruno"
    )
    tag_card(hers, member, "keep")

    data = download_json(login(client_user))

    cards = {c["text"]: c for c in data["contributions"]}
    assert cards["Ma propre piste"]["tag"] == "explore"
    assert "tag" not in cards["Piste chez Bruno"]


def test_each_member_downloads_only_their_own_data(login, consultants, written):
    other = consultants[1]

    data = download_json(login(other))

    assert [c["text"] for c in data["contributions"]] == ["Texte de Chloé"]
    assert data["questions"] == [] and data["private_notes"] == [] and data["learnings"] == []


def test_stranger_downloads_an_export_with_nothing_in_it(login, outsider, written):
    data = download_json(login(outsider))

    assert data["account"]["email"] == outsider.email
    for key in ["memberships", "sessions", "questions", "contributions", "actions"]:
        assert data[key] == [], key
    markdown = login(outsider).get(MARKDOWN_URL).content.decode()
    assert "Aucun groupe." in markdown
    assert "Groupe test" not in markdown


def test_markdown_keeps_what_was_typed_unescaped(login, member, past_session):
    PrivateNote.objects.create(author=member, text="a < b & **gras**")

    markdown = login(member).get(MARKDOWN_URL).content.decode()

    assert "a < b & **gras**" in markdown
    assert "&lt;" not in markdown


def test_json_holds_my_cycle_reviews_whole_by_group_then_cycle(login, member, reviewed):
    data = download_json(login(member))

    assert [(r["group"], r["cycle"]) for r in data["cycle_reviews"]] == [
        ("Autre groupe", 1),
        ("Groupe test", 1),
        ("Groupe test", 2),
    ]
    review = data["cycle_reviews"][1]
    # The parts kept from the group are the author's own too.
    assert review["learnt"] == "Écouter avant de conseiller"
    assert review["practice"] == "Moins de réunions"
    assert review["shared"] == "Merci à tous"
    assert review["updated_at"].startswith(timezone.localdate().isoformat())


def test_export_never_holds_another_members_cycle_review(login, member, consultants, reviewed):
    for url in [JSON_URL, MARKDOWN_URL]:
        content = login(member).get(url).content.decode()

        # Not even what Chloé shared with the group: it is hers.
        for foreign in ["Appris par Chloé", "Pratique de Chloé", "Partagé par Chloé"]:
            assert foreign not in content, (url, foreign)
    assert download_json(login(consultants[2]))["cycle_reviews"] == []


def test_markdown_shows_my_cycle_reviews(login, member, reviewed):
    markdown = login(member).get(MARKDOWN_URL).content.decode()

    section = markdown.split("## Mes bilans de cycle", 1)[1]
    assert (
        section.index("### Autre groupe · Cycle 1")
        < section.index("### Groupe test · Cycle 1")
        < section.index("### Groupe test · Cycle 2")
    )
    assert "**Ce que le cycle m'a appris :** Écouter avant de conseiller" in section
    assert "**Ce qui a changé dans ma pratique :** Moins de réunions" in section
    assert "**Partagé avec le groupe :** Merci à tous" in section


def test_markdown_says_when_there_is_no_cycle_review(login, member, written):
    markdown = login(member).get(MARKDOWN_URL).content.decode()

    assert "## Mes bilans de cycle\n\nAucun bilan de cycle." in markdown


def test_markdown_keeps_my_review_as_typed_and_makes_the_group_name_literal(
    login, member, facilitator
):
    # The review is the person's own, as the other texts of the export are:
    # as typed. The group's name, written by someone else, is made literal.
    other_group = Group.objects.create(name="<b>Groupe</b> **gras**", created_by=facilitator)
    CycleReview.objects.create(
        cycle=ended_cycle(other_group, 1), author=member, learnt="<b>x</b> **y**"
    )

    markdown = login(member).get(MARKDOWN_URL).content.decode()

    assert "**Ce que le cycle m'a appris :** <b>x</b> **y**" in markdown
    assert "&lt;" not in markdown
    assert "### \\<b\\>Groupe\\</b\\> \\*\\*gras\\*\\* · Cycle 1" in markdown
    assert "<b>Groupe</b>" not in markdown


def _fill(group, client_user, member, sessions):
    """`sessions` closed sessions, each with one of everything by each person,
    and as many ended cycles, each reviewed by both."""
    base = timezone.now() - dt.timedelta(days=400)
    numbers = Cycle.objects.filter(group=group).count()
    for index in range(sessions):
        cycle = ended_cycle(group, numbers + index + 1)
        CycleReview.objects.create(cycle=cycle, author=member, learnt=f"cycle {index}")
        CycleReview.objects.create(cycle=cycle, author=client_user, shared=f"cycle {index}")
        session = Session.objects.create(
            group=group,
            scheduled_at=base + dt.timedelta(days=30 * index),
            status=Session.Status.CLOSED,
            demand_text=f"demande {index}",
        )
        Participation.objects.create(session=session, user=client_user, role="client")
        Participation.objects.create(session=session, user=member, role="consultant")
        Question.objects.create(session=session, author=member, text=f"question {index}")
        Contribution.objects.create(session=session, author=member, text=f"piste {index}")
        DemandCheck.objects.create(session=session, author=member, verdict="understood")
        action = ActionItem.objects.create(session=session, author=client_user, text=f"a{index}")
        ActionUpdate.objects.create(action=action, status="doing", note="en route")
        Learning.objects.create(session=session, author=member, text=f"appris {index}")
        Learning.objects.create(session=session, author=client_user, text=f"appris {index}")
        Feedback.objects.create(session=session, author=member, rating=5)
        PrivateNote.objects.create(session=session, author=member, text=f"note {index}")
        PrivateNote.objects.create(session=session, author=client_user, text=f"note {index}")


def _queries(client, url):
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


@pytest.mark.parametrize("url", [JSON_URL, MARKDOWN_URL])
@pytest.mark.parametrize("who", ["client_user", "member"])
def test_query_count_does_not_grow_with_the_number_of_sessions(
    request, login, group, client_user, member, url, who
):
    person = request.getfixturevalue(who)
    browser = login(person)
    _fill(group, client_user, member, 2)
    few = _queries(browser, url)
    _fill(group, client_user, member, 10)
    many = _queries(browser, url)

    assert Session.objects.count() == 12
    assert few == many
    # Session and user, then one query per kind of data (actions: + updates;
    # themes, reformulations and cycle reviews included).
    assert many <= 16
