"""The compte rendu of a closed session: the page, its Markdown, and the
client's choice to show the cards they did not keep.
"""

import datetime as dt
import html
import re

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from groups.models import User
from sessions import services
from sessions.models import (
    ActionItem,
    Contribution,
    ContributionTag,
    Feedback,
    Learning,
    PrivateNote,
    Session,
)
from tests.conftest import tag_card

SCRIPT = "<script>alert(1)</script>"
ESCAPED_SCRIPT = "&lt;script&gt;alert(1)&lt;/script&gt;"
# Every way a tag could show: its value and its label.
TAG_WORDS = ["explore", "not_now", "à explorer", "pas maintenant", "je retiens"]
PRIVATE = "Note privée que personne d'autre ne lit"
# Measured (SQLite): access (4), the state (11, themes and reformulations
# included), the participations (1), the demand's validated wordings (1),
# session and user of the signed-in request (2). The same for 3 and 30 cards.
REPORT_QUERIES = 19


def text(response):
    return html.unescape(response.content.decode())


def words(response):
    """The page's text without its tags, whitespace collapsed."""
    return " ".join(re.sub(r"<[^>]+>", " ", text(response)).split())


def report_url(session):
    return reverse("session_report", args=[session.code])


def markdown_url(session):
    return reverse("session_report_markdown", args=[session.code])


def toggle_url(session):
    return reverse("report_cards_toggle", args=[session.code])


def assert_redirects_to_sign_in(response):
    assert response.status_code == 302
    assert response.url.startswith(reverse("login") + "?next=")


def close(session):
    Session.objects.filter(pk=session.pk).update(
        status=Session.Status.CLOSED,
        step="learnings",
        scheduled_at=timezone.make_aware(dt.datetime(2026, 12, 8, 18, 0)),
        started_at=timezone.now(),
        closed_at=timezone.now(),
    )
    session.refresh_from_db()
    return session


@pytest.fixture
def other_member(consultants):
    return consultants[1]


@pytest.fixture
def closed_session(planned_session, facilitator, client_user, consultants):
    """A closed session with one card of each tag, a plan, learnings, feedback, notes."""
    session = planned_session
    Session.objects.filter(pk=session.pk).update(
        expose_title="Dire non à ma direction",
        demand_text="refuser un troisième projet sans me griller",
        demand_validated_at=timezone.now(),
    )
    close(session)
    cards = [
        ("Carte gardée", ContributionTag.Tag.KEEP, consultants[0]),
        ("Carte à creuser", ContributionTag.Tag.EXPLORE, consultants[1]),
        ("Carte écartée", ContributionTag.Tag.NOT_NOW, consultants[2]),
        ("Carte sans tri", "", consultants[3]),
    ]
    for card_text, tag, author in cards:
        card = Contribution.objects.create(session=session, author=author, text=card_text)
        if tag:
            tag_card(card, client_user, tag)
    ActionItem.objects.create(
        session=session,
        author=client_user,
        text="Préparer un tableau de charge",
        due_date=dt.date(2027, 1, 12),
        status=ActionItem.Status.DOING,
    )
    ActionItem.objects.create(session=session, author=client_user, text="Parler à Léa")
    Learning.objects.create(session=session, author=consultants[0], text="Dire non, c'est choisir")
    Learning.objects.create(session=session, author=None, text="Appris par un ancien")
    for author, rating in [(facilitator, 5), (client_user, 4), (consultants[0], 4)]:
        Feedback.objects.create(session=session, author=author, rating=rating)
    PrivateNote.objects.create(session=session, author=client_user, text=PRIVATE)
    PrivateNote.objects.create(session=session, author=consultants[0], text=PRIVATE + " bis")
    return session


# Who may read the report


def test_member_reads_the_report_of_a_closed_session(login, member, closed_session):
    response = login(member).get(report_url(closed_session))

    assert response.status_code == 200
    page = text(response)
    assert "Groupe test" in page
    assert "Séance du mardi 8 décembre 2026" in page
    assert "Fanny Animatrice" in page
    assert "Camille Cliente" in page
    assert "Bruno Un, Chloé Deux, David Trois, Eva Quatre" in page
    assert "Dire non à ma direction" in page
    assert "Aidez-moi à refuser un troisième projet sans me griller" in page
    assert "Carte gardée" in page
    assert "Préparer un tableau de charge" in page
    assert "pour le 12 janvier 2027" in page
    assert "en cours" in page
    assert "Parler à Léa" in page
    assert "à faire" in page
    assert "Dire non, c'est choisir" in page
    assert "— Bruno Un" in page
    assert "Appris par un ancien — ancien membre" in words(response)
    assert "4,3 / 5, 3 avis" in page
    assert "Imprimer / enregistrer en PDF" in page
    assert markdown_url(closed_session) in page


def test_client_and_facilitator_read_the_report(login, client_user, facilitator, closed_session):
    for user in (client_user, facilitator):
        assert login(user).get(report_url(closed_session)).status_code == 200


def test_stranger_gets_404_for_the_report(login, outsider, closed_session):
    assert login(outsider).get(report_url(closed_session)).status_code == 404


def test_unknown_code_gets_404(login, member, closed_session):
    assert login(member).get(reverse("session_report", args=["nope"])).status_code == 404


def test_anonymous_is_sent_to_sign_in_for_the_report(client, closed_session):
    assert_redirects_to_sign_in(client.get(report_url(closed_session)))


def test_report_of_a_session_not_closed_redirects_to_the_live_page(login, member, planned_session):
    response = login(member).get(report_url(planned_session))

    assert response.status_code == 302
    assert response.url == reverse("session_detail", args=[planned_session.code])


def test_report_page_only_answers_get(login, member, closed_session):
    assert login(member).post(report_url(closed_session)).status_code == 405


def test_closed_session_summary_links_to_the_report(login, member, closed_session):
    response = login(member).get(reverse("session_detail", args=[closed_session.code]))

    assert f'href="{report_url(closed_session)}"' in response.content.decode()


def test_report_queries_do_not_grow_with_the_cards(
    login, member, closed_session, consultants, django_assert_max_num_queries
):
    client = login(member)
    client.get(reverse("home"))  # warms caches (content types…)

    def count():
        with CaptureQueriesContext(connection) as queries:
            assert client.get(report_url(closed_session)).status_code == 200
        return len(queries)

    few = count()
    cards = Contribution.objects.bulk_create(
        Contribution(session=closed_session, author=consultants[0], text=f"Carte {i}")
        for i in range(30)
    )
    client_user = closed_session.participations.get(role="client").user
    ContributionTag.objects.bulk_create(
        ContributionTag(contribution=card, user=client_user, tag="keep") for card in cards
    )
    assert count() == few
    with django_assert_max_num_queries(REPORT_QUERIES):
        client.get(report_url(closed_session))


# Which cards, and never the tags


def test_report_shows_only_the_kept_cards_by_default(login, member, closed_session):
    page = text(login(member).get(report_url(closed_session)))

    assert "Carte gardée" in page
    for hidden in ["Carte à creuser", "Carte écartée", "Carte sans tri", "Autres contributions"]:
        assert hidden not in page


def test_report_shows_every_card_when_the_client_chose_so(login, member, closed_session):
    Session.objects.filter(pk=closed_session.pk).update(report_all_cards=True)

    page = text(login(member).get(report_url(closed_session)))

    assert "Autres contributions" in page
    for card in ["Carte gardée", "Carte à creuser", "Carte écartée", "Carte sans tri"]:
        assert card in page
    # The kept card is said once, in its own section, before the others.
    assert page.count("Carte gardée") == 1
    assert page.index("Carte gardée") < page.index("Autres contributions")


@pytest.mark.parametrize("who", ["member", "other_member", "facilitator"])
def test_report_never_shows_how_the_client_tagged_the_cards(request, login, closed_session, who):
    Session.objects.filter(pk=closed_session.pk).update(report_all_cards=True)

    page = text(login(request.getfixturevalue(who)).get(report_url(closed_session)))

    for word in TAG_WORDS:
        assert word not in page


def test_report_never_shows_private_notes_even_to_their_author(
    login, client_user, member, closed_session
):
    Session.objects.filter(pk=closed_session.pk).update(report_all_cards=True)

    for user in (client_user, member):
        assert PRIVATE not in text(login(user).get(report_url(closed_session)))
        assert PRIVATE not in login(user).get(markdown_url(closed_session)).content.decode()


def test_user_text_is_escaped_in_the_report(login, member, closed_session, consultants):
    Session.objects.filter(pk=closed_session.pk).update(
        expose_title=SCRIPT, demand_text=SCRIPT, report_all_cards=True
    )
    Contribution.objects.create(session=closed_session, author=consultants[0], text=SCRIPT)
    ActionItem.objects.create(session=closed_session, author=consultants[0], text=SCRIPT)
    Learning.objects.create(session=closed_session, author=consultants[0], text=SCRIPT)
    User.objects.filter(pk=consultants[1].pk).update(full_name=SCRIPT)

    content = login(member).get(report_url(closed_session)).content.decode()

    assert SCRIPT not in content
    assert content.count(ESCAPED_SCRIPT) >= 5


# The client's choice


def test_client_sees_the_switch_to_show_every_card(login, client_user, closed_session):
    page = text(login(client_user).get(report_url(closed_session)))

    assert "Montrer aussi les cartes non retenues dans le compte rendu" in page
    assert toggle_url(closed_session) in page


def test_other_members_do_not_see_the_switch(login, member, facilitator, closed_session):
    for user in (member, facilitator):
        page = text(login(user).get(report_url(closed_session)))
        assert toggle_url(closed_session) not in page
        assert "Montrer aussi les cartes non retenues" not in page


def test_client_shows_every_card_then_only_the_kept_ones(login, client_user, closed_session):
    client = login(client_user)

    response = client.post(toggle_url(closed_session), {"show_all": "1"})

    assert response.status_code == 302
    assert response.url == report_url(closed_session)
    closed_session.refresh_from_db()
    assert closed_session.report_all_cards is True
    page = text(client.get(report_url(closed_session)))
    assert "Ne montrer que les cartes retenues" in page
    assert "Carte écartée" in page

    client.post(toggle_url(closed_session), {"show_all": "0"})

    closed_session.refresh_from_db()
    assert closed_session.report_all_cards is False


def test_sending_the_same_choice_twice_keeps_it(login, client_user, closed_session):
    client = login(client_user)
    client.post(toggle_url(closed_session), {"show_all": "1"})
    client.post(toggle_url(closed_session), {"show_all": "1"})

    closed_session.refresh_from_db()
    assert closed_session.report_all_cards is True


@pytest.mark.parametrize("who", ["member", "facilitator"])
def test_member_who_is_not_the_client_cannot_change_the_cards_shown(
    request, login, closed_session, who
):
    response = login(request.getfixturevalue(who)).post(
        toggle_url(closed_session), {"show_all": "1"}
    )

    assert response.status_code == 403
    closed_session.refresh_from_db()
    assert closed_session.report_all_cards is False


def test_stranger_gets_404_for_the_cards_switch(login, outsider, closed_session):
    response = login(outsider).post(toggle_url(closed_session), {"show_all": "1"})

    assert response.status_code == 404
    closed_session.refresh_from_db()
    assert closed_session.report_all_cards is False


def test_anonymous_is_sent_to_sign_in_for_the_cards_switch(client, closed_session):
    assert_redirects_to_sign_in(client.post(toggle_url(closed_session), {"show_all": "1"}))
    closed_session.refresh_from_db()
    assert closed_session.report_all_cards is False


def test_cards_switch_only_answers_post(login, client_user, closed_session):
    assert login(client_user).get(toggle_url(closed_session)).status_code == 405


def test_client_cannot_change_the_cards_shown_before_the_session_is_closed(
    login, client_user, planned_session
):
    client = login(client_user)
    response = client.post(toggle_url(planned_session), {"show_all": "1"}, follow=True)

    assert response.redirect_chain[0] == (
        reverse("session_detail", args=[planned_session.code]),
        302,
    )
    assert "Le compte rendu n'existe qu'une fois la séance terminée." in text(response)
    planned_session.refresh_from_db()
    assert planned_session.report_all_cards is False


def test_report_cards_set_service_checks_role_then_status(client_user, member, planned_session):
    with pytest.raises(ValidationError):
        services.report_cards_set(session=planned_session, by=client_user, show_all=True)
    close(planned_session)
    with pytest.raises(PermissionDenied):
        services.report_cards_set(session=planned_session, by=member, show_all=True)

    services.report_cards_set(session=planned_session, by=client_user, show_all=True)

    assert Session.objects.get(pk=planned_session.pk).report_all_cards is True


# Markdown


def test_markdown_is_a_download_named_after_the_date(login, member, closed_session):
    response = login(member).get(markdown_url(closed_session))

    assert response.status_code == 200
    assert response["Content-Type"] == "text/markdown; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="compte-rendu-2026-12-08.md"'


def test_markdown_holds_the_report(login, member, closed_session):
    content = login(member).get(markdown_url(closed_session)).content.decode()

    assert content.startswith("# Compte rendu — Séance du mardi 8 décembre 2026\n")
    assert "- Groupe : Groupe test\n" in content
    assert "- Animateur : Fanny Animatrice\n" in content
    assert "- Client : Camille Cliente\n" in content
    assert "- Consultants : Bruno Un, Chloé Deux, David Trois, Eva Quatre\n" in content
    assert "**Dire non à ma direction**" in content
    assert "> Aidez-moi à refuser un troisième projet sans me griller\n" in content
    assert "## Ce que le client a retenu\n\n- *suggestion* — Carte gardée (Bruno Un)\n" in content
    assert "- [ ] Préparer un tableau de charge — pour le 12 janvier 2027 — en cours\n" in content
    assert "- [ ] Parler à Léa — à faire\n" in content
    assert "- Appris par un ancien (ancien membre)\n" in content
    assert content.endswith("## Avis sur la séance\n\n4,3 / 5, 3 avis\n")
    assert "\n\n\n" not in content
    for hidden in ["Autres contributions", "Carte écartée", "Carte à creuser", "Carte sans tri"]:
        assert hidden not in content


def test_markdown_has_every_card_without_tags_when_the_client_chose_so(
    login, member, closed_session
):
    Session.objects.filter(pk=closed_session.pk).update(report_all_cards=True)

    content = login(member).get(markdown_url(closed_session)).content.decode()

    assert "## Autres contributions\n" in content
    for card in ["Carte à creuser", "Carte écartée", "Carte sans tri"]:
        assert card in content
    for word in TAG_WORDS:
        assert word not in content


def test_markdown_keeps_user_text_literal(login, member, closed_session, consultants):
    card = Contribution.objects.create(
        session=closed_session,
        author=consultants[0],
        text=f"# Pas un titre\n{SCRIPT}\n- pas une liste *ni du gras*",
    )
    tag_card(card, closed_session.participations.get(role="client").user, "keep")

    content = login(member).get(markdown_url(closed_session)).content.decode()

    assert SCRIPT not in content
    assert (
        "- *suggestion* — \\# Pas un titre\n"
        "  \\<script\\>alert(1)\\</script\\>\n"
        "  \\- pas une liste \\*ni du gras\\*" in content
    )


def test_stranger_gets_404_for_the_markdown(login, outsider, closed_session):
    assert login(outsider).get(markdown_url(closed_session)).status_code == 404


def test_anonymous_is_sent_to_sign_in_for_the_markdown(client, closed_session):
    assert_redirects_to_sign_in(client.get(markdown_url(closed_session)))


def test_markdown_of_a_session_not_closed_is_404(login, member, planned_session):
    assert login(member).get(markdown_url(planned_session)).status_code == 404


# Roles in the trace


def test_report_does_not_list_someone_who_joined_after_the_session(
    login, member, group, closed_session
):
    from tests.conftest import add_member, make_user

    newcomer = make_user("Nina Nouvelle")
    add_member(group, newcomer)

    page = text(login(member).get(report_url(closed_session)))

    assert "Nina Nouvelle" not in page


def test_report_keeps_a_participant_who_left_the_group(login, member, group, closed_session):
    group.memberships.filter(user__full_name="Eva Quatre").delete()

    page = text(login(member).get(report_url(closed_session)))

    assert "Eva Quatre" in page
