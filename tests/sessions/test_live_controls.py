"""The live page's controls follow the session: what a card, a role, a step
change offers, and the refusals a stale control gets (issue 10, part 6)."""

import html
import re

import pytest
from django.db import IntegrityError
from django.urls import reverse
from django.utils import timezone

from sessions.models import ActionItem, Contribution, Session
from sessions.roles import AUDIENCES, role_of
from sessions.state import load_state, render_regions
from sessions.steps import Step
from tests.conftest import go_live, tag_card
from tests.shown import shown

HTMX = {"HX-Request": "true"}


def text(response):
    return html.unescape(response.content.decode())


def seen(response):
    """What the page shows at its step (tests.shown)."""
    return html.unescape(shown(response.content.decode()))


def url(name, session):
    return reverse(name, args=[session.code])


# « En faire une action »


@pytest.fixture
def cards(planned_session, consultants, client_user):
    go_live(planned_session, Step.ACTION_PLAN)
    cards = {
        tag: Contribution.objects.create(
            session=planned_session,
            author=consultants[0],
            kind="suggestion",
            text=f"Carte {tag}",
        )
        for tag in ("keep", "explore", "not_now")
    }
    for tag, card in cards.items():
        tag_card(card, client_user, tag)
    return cards


def turn_into_action(client, session, card, **headers):
    data = {"contribution": card.code, "text": card.text}
    return client.post(url("action_add", session), data, headers=headers)


def test_explore_cards_can_be_turned_into_actions_too(login, client_user, planned_session, cards):
    page = seen(login(client_user).get(url("session_detail", planned_session)))

    assert "Carte keep" in page and "Carte explore" in page
    assert "Carte not_now" not in page
    assert page.count("En faire une action") == 2


def test_a_card_already_an_action_no_longer_offers_it(login, client_user, planned_session, cards):
    client = login(client_user)
    assert turn_into_action(client, planned_session, cards["keep"], **HTMX).status_code == 204

    page = seen(client.get(url("session_detail", planned_session)))

    assert page.count("En faire une action") == 1
    assert "déjà une action" in page


@pytest.mark.parametrize("headers", [HTMX, {}], ids=["htmx", "no-js"])
def test_a_second_tap_on_the_same_card_is_refused_in_french(
    login, client_user, planned_session, cards, headers
):
    client = login(client_user)
    turn_into_action(client, planned_session, cards["keep"], **headers)

    response = turn_into_action(client, planned_session, cards["keep"], **headers)

    assert response.status_code == 400
    assert "Cette contribution est déjà une action du plan." in text(response)
    assert ActionItem.objects.filter(contribution=cards["keep"]).count() == 1


def test_the_database_keeps_one_action_per_card(planned_session, client_user, cards):
    ActionItem.objects.create(
        session=planned_session, author=client_user, text="Une", contribution=cards["keep"]
    )
    with pytest.raises(IntegrityError):
        ActionItem.objects.create(
            session=planned_session, author=client_user, text="Deux", contribution=cards["keep"]
        )


# « Clore la séance »


def test_closing_asks_first_on_a_line_of_its_own(login, facilitator, planned_session):
    go_live(planned_session, Step.LEARNINGS)

    page = text(login(facilitator).get(url("session_detail", planned_session)))

    # The button that closes sits in a closed panel that asks the question,
    # not in the row where « Étape suivante » was.
    row, _sep, after = page.partition('<details class="close-session" id="close-session">')
    assert after, "no confirmation panel"
    assert "Clore la séance ? Plus rien ne pourra y être ajouté" in after
    assert url("session_close", planned_session) not in row
    assert url("session_close", planned_session) in after


# Step 0 « retour »: the previous client's own panel


@pytest.fixture
def previous_action(group, facilitator, client_user, planned_session):
    from tests.sessions.test_logbook import closed_session

    previous = closed_session(group, facilitator, client_user, [])
    go_live(planned_session, Step.RETOUR, include_retour=True)
    return ActionItem.objects.create(session=previous, author=client_user, text="Poser un cadre")


def test_the_previous_clients_update_confirms_in_their_own_panel(
    login, client_user, previous_action
):
    client = login(client_user)

    response = client.post(
        reverse("action_progress", args=[previous_action.code]),
        {"status": "done", "note": "Fait lundi"},
        headers=HTMX,
    )

    answer = text(response)
    assert response.status_code == 200
    assert f'id="action-{previous_action.code}"' in answer
    assert "Enregistré" in answer
    assert '<span class="badge status-done">fait</span>' in answer
    # Said once, here: not again as a message on the next page.
    assert "Avancement enregistré." not in text(client.get(reverse("home")))


def test_a_refused_update_says_why_in_the_panel(login, client_user, previous_action):
    response = login(client_user).post(
        reverse("action_progress", args=[previous_action.code]), {"status": "bof"}, headers=HTMX
    )

    assert response.status_code == 400
    assert 'role="alert"' in text(response)
    assert "Enregistré" not in text(response)


# Step 4: the demand before the form


def test_the_pinned_demand_comes_before_the_contribution_form(login, member, planned_session):
    go_live(planned_session, Step.CONTRIBUTIONS)
    Session.objects.filter(pk=planned_session.pk).update(
        demand_text="dire non sans culpabiliser", demand_validated_at=timezone.now()
    )

    page = text(login(member).get(url("session_detail", planned_session)))

    assert 0 < page.index("Aidez-moi à dire non") < page.index('id="live-composer"')


# The roles form and the QR code follow the session


def roles_data(session, **overrides):
    data = {
        "facilitator": session.participations.get(role="facilitator").user_id,
        "client": session.participations.get(role="client").user_id,
        "consultants": list(
            session.participations.filter(role="consultant").values_list("user_id", flat=True)
        ),
    }
    data.update(overrides)
    return data


def setup_region(session, audience):
    html_text = render_regions(load_state(session.pk, live=True), audience, regions=("setup",))
    assert 'id="live-setup"' in html_text
    return html.unescape(html_text)


def test_before_the_start_every_phone_gets_the_roles_form(planned_session):
    for audience in AUDIENCES:
        assert "Enregistrer les rôles" in setup_region(planned_session, audience), audience
    assert "Rejoindre la séance" in setup_region(planned_session, "facilitator")
    assert "Rejoindre la séance" not in setup_region(planned_session, "consultant")


def test_the_start_takes_the_roles_form_off_the_phones(login, facilitator, planned_session):
    login(facilitator).post(url("session_start", planned_session), headers=HTMX)
    planned_session.refresh_from_db()

    assert "Enregistrer les rôles" not in setup_region(planned_session, "client")
    assert "Enregistrer les rôles" not in setup_region(planned_session, "consultant")
    assert "Enregistrer les rôles" in setup_region(planned_session, "facilitator")


@pytest.mark.parametrize("headers", [HTMX, {}], ids=["htmx", "no-js"])
def test_a_roles_form_sent_after_the_start_answers_in_french_in_place(
    login, member, client_user, planned_session, headers
):
    data = roles_data(planned_session, facilitator=client_user.pk, client=member.pk)
    go_live(planned_session, Step.EXPOSE)

    response = login(member).post(url("session_roles", planned_session), data, headers=headers)

    assert response.status_code == 409
    answer = text(response)
    assert "La séance a commencé : seul l'animateur peut maintenant changer les rôles." in answer
    # The live page as it is now (or, with htmx, its regions): never the 403 page.
    assert 'id="live-header"' in answer and "Action refusée" not in answer
    assert planned_session.participations.get(role="client").user == client_user


def test_a_handover_gives_the_new_facilitator_the_qr_code_and_the_roles_form(
    login, facilitator, member, planned_session
):
    go_live(planned_session, Step.CLARIFICATION)
    data = roles_data(planned_session, facilitator=member.pk)

    response = login(facilitator).post(url("session_roles", planned_session), data, headers=HTMX)

    assert response.status_code == 200
    # The former facilitator's own answer is a consultant's: no controls left.
    answer = text(response)
    assert "Rejoindre la séance" not in answer and "Étape suivante" not in answer
    assert role_of(Session.objects.get(pk=planned_session.pk), member) == "facilitator"
    # What the broadcast sends to the facilitator's audience, which is now member's.
    setup = setup_region(planned_session, "facilitator")
    assert "Rejoindre la séance" in setup and "Enregistrer les rôles" in setup


def test_a_broadcast_that_changes_nothing_in_it_keeps_the_roles_form(
    login, facilitator, planned_session
):
    go_live(planned_session, Step.CLARIFICATION)
    before = setup_region(planned_session, "facilitator")

    login(facilitator).post(url("session_add_time", planned_session), headers=HTMX)

    key = re.compile(r'data-key="([^"]+)"')
    assert key.search(setup_region(planned_session, "facilitator"))[1] == key.search(before)[1]


# The hand button


def test_the_hand_button_says_my_hand_is_up(login, member, consultants, planned_session):
    go_live(planned_session, Step.CONTRIBUTIONS)
    client = login(member)
    client.post(url("hand_toggle", planned_session), headers=HTMX)

    page = text(client.get(url("session_detail", planned_session)))

    # The page knows who it is; the queue (one render per audience) tags each
    # hand with the same token, so live.js can tell mine on every broadcast.
    me = re.search(r'id="live"[^>]* data-me="([0-9a-f]+)"', page)[1]
    assert re.search(rf'<li id="hand-\w+" data-person="{me}"', page)
    assert me != str(member.pk) and len(me) == 16
    assert 'data-hand aria-pressed="true"' in page
    assert "Baisser la main" in page
    assert 'data-hand aria-pressed="false"' in text(
        login(consultants[1]).get(url("session_detail", planned_session))
    )


def test_the_phone_bar_offers_to_write_when_my_role_writes(
    login, member, client_user, planned_session
):
    go_live(planned_session, Step.CONTRIBUTIONS)

    assert "data-to-composer" in seen(login(member).get(url("session_detail", planned_session)))
    # At step 4 the client listens: only the hand.
    assert "data-to-composer" not in seen(
        login(client_user).get(url("session_detail", planned_session))
    )


def test_the_header_carries_whose_screen_it_is_so_a_handover_restyles_it(
    login, facilitator, member, planned_session
):
    # The facilitator's larger timer hangs on the header, which every
    # broadcast redraws per audience, not on <body>, which is drawn once.
    go_live(planned_session, Step.EXPOSE)
    state = load_state(planned_session.pk, live=True)

    for audience in ("facilitator", "client", "consultant"):
        header = render_regions(state, audience, regions={"header"})
        assert f"live-header audience-{audience} " in header
    page = text(login(member).get(url("session_detail", planned_session)))
    assert "audience-consultant" in page and 'class="live"' in page
