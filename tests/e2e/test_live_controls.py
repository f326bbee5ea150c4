"""The live page's controls follow the session as it changes, in chromium
(issue 10, part 6): the roles form and the QR code, closing, the action
cards, the hand button and the phone's bar, presence when a phone is offline,
step 0's own update, step 4's order, and the invitation page.

Each test puts the session where it needs it (`go_live`) and opens only the
screens it watches, signed in by cookie.
"""

import datetime as dt
import re

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone
from playwright.sync_api import BrowserContext, Page, WebSocketRoute, expect

from groups.models import Invitation
from sessions.models import ActionItem, Contribution, HandRaise, Participation, Session
from sessions.steps import Step
from tests.conftest import PASSWORD, go_live, tag_card
from tests.e2e.conftest import SCREENSHOTS
from tests.e2e.test_live_session import LAPTOP, PHONE
from tests.test_docker_compose import production_ping

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

LIVE_MS = 2_000


class Line:
    """A phone's websocket through Playwright: `hold()` cuts it and refuses
    new ones, as a phone whose network is gone; `release()` lets them pass."""

    def __init__(self, context: BrowserContext):
        self.held = False
        self.sockets: list[tuple[WebSocketRoute, WebSocketRoute]] = []
        context.route_web_socket(re.compile(r"/ws/sessions/"), self._route)

    def _route(self, socket: WebSocketRoute) -> None:
        if self.held:
            socket.close(code=1006, reason="network lost")
            return
        self.sockets.append((socket, socket.connect_to_server()))

    def hold(self) -> None:
        self.held = True
        page_side, server_side = self.sockets[-1]
        page_side.close(code=1006, reason="network lost")
        server_side.close()

    def release(self) -> None:
        self.held = False


def open_page(browser, base_url, user, session, device=PHONE, *, line=False):
    """`user`'s live page, signed in by cookie, once its socket is open."""
    client = Client()
    client.force_login(user)
    context = browser.new_context(base_url=base_url, locale="fr-FR", **device)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": cookie, "url": base_url}])
    routed = Line(context) if line else None
    page = context.new_page()
    page.goto(f"/s/{session.code}/")
    me = page.locator("#live-presence li").filter(has_text=user.full_name)
    expect(me).to_contain_text("connecté", timeout=10_000)
    # Set once: a reload or a navigation would drop it.
    page.evaluate("window.loadedOnce = true")
    return (page, routed) if line else page


def never_left(page: Page) -> None:
    assert page.evaluate("window.loadedOnce === true"), page.url


@pytest.fixture
def pages(browser):
    opened = []

    def _open(*args, **kwargs):
        result = open_page(browser, *args, **kwargs)
        opened.append((result[0] if isinstance(result, tuple) else result).context)
        return result

    yield _open
    for context in opened:
        context.close()


# The roles form and the QR code


def test_the_start_takes_the_roles_form_off_the_phones_and_a_stale_one_answers_in_place(
    live_server_url, pages, planned_session, facilitator, client_user, member, screenshot
):
    laptop = pages(live_server_url, facilitator, planned_session, LAPTOP)
    phone = pages(live_server_url, member, planned_session)
    stale, line = pages(live_server_url, client_user, planned_session, line=True)
    for screen in (phone, stale):
        expect(screen.get_by_text("Rôles de la séance")).to_be_visible()
    # The client's phone loses its network just before the start.
    line.hold()
    expect(stale.locator("#live-offline")).to_be_visible()

    laptop.get_by_label("Commencer par le retour du client précédent").uncheck()
    laptop.get_by_role("button", name="Démarrer la séance").click()

    expect(phone.locator("#live-header h1")).to_contain_text("Exposé", timeout=LIVE_MS)
    expect(phone.get_by_text("Rôles de la séance")).to_have_count(0)
    # Laptop: still the facilitator's, QR code and roles form included.
    expect(laptop.locator("#live-setup .join img")).to_be_visible()
    expect(laptop.get_by_text("Rôles de la séance")).to_be_visible()

    # The phone that missed the start still shows the form, and sends it.
    expect(stale.locator("#live-header h1")).to_contain_text("La séance va commencer")
    stale.get_by_text("Rôles de la séance").click()
    stale.get_by_role("button", name="Enregistrer les rôles").click()

    expect(stale.locator("#live-flash")).to_contain_text(
        "La séance a commencé : seul l'animateur peut maintenant changer les rôles."
    )
    # Answered in place with the page as it is now, never a 403 page.
    expect(stale.locator("#live-header h1")).to_contain_text("Exposé")
    expect(stale.get_by_text("Rôles de la séance")).to_have_count(0)
    never_left(stale)
    screenshot(stale, "controls-stale-roles-form-phone")


def test_a_handover_gives_the_new_facilitator_the_qr_code_and_the_roles_form(
    live_server_url, pages, planned_session, facilitator, member, screenshot
):
    go_live(planned_session, Step.CLARIFICATION)
    laptop = pages(live_server_url, facilitator, planned_session, LAPTOP)
    phone = pages(live_server_url, member, planned_session)
    expect(phone.locator("#live-setup .join")).to_have_count(0)

    laptop.get_by_text("Rôles de la séance").click()
    laptop.locator("#live-setup").get_by_label("Animateur").select_option(label=member.full_name)
    laptop.get_by_role("button", name="Enregistrer les rôles").click()

    expect(phone.locator("#live-setup .join img")).to_be_visible(timeout=LIVE_MS)
    expect(phone.get_by_text("Rôles de la séance")).to_be_visible()
    expect(phone.get_by_test_id("next-step")).to_be_visible()
    expect(phone.locator("#live-setup .join-url")).to_have_text(
        f"{live_server_url}/s/{planned_session.code}/"
    )
    expect(laptop.locator("#live-setup .join")).to_have_count(0)
    expect(laptop.get_by_test_id("next-step")).to_have_count(0)
    never_left(phone)
    screenshot(phone, "controls-handover-new-facilitator-phone")


# « Clore la séance »


def test_closing_asks_first(live_server_url, pages, planned_session, facilitator, screenshot):
    go_live(planned_session, Step.LEARNINGS)
    laptop = pages(live_server_url, facilitator, planned_session, LAPTOP)

    laptop.get_by_text("Clore la séance…").click()

    confirm = laptop.get_by_role("button", name="Oui, clore la séance")
    expect(confirm).to_be_visible()
    screenshot(laptop, "controls-close-confirmation-laptop")
    expect(laptop.locator("#live-header h1")).to_contain_text("Apprentissages")
    assert Session.objects.get(pk=planned_session.pk).status == Session.Status.LIVE

    confirm.click()
    expect(laptop.locator("#live-header h1")).to_contain_text("Séance terminée")


# « En faire une action »


def test_a_card_turned_into_an_action_no_longer_offers_it(
    live_server_url, pages, planned_session, client_user, consultants, screenshot
):
    go_live(planned_session, Step.ACTION_PLAN)
    for tag, words in [("keep", "Un point chaque lundi"), ("explore", "Demander de l'aide")]:
        card = Contribution.objects.create(
            session=planned_session, author=consultants[0], kind="suggestion", text=words
        )
        tag_card(card, client_user, tag)
    phone = pages(live_server_url, client_user, planned_session)
    kept = phone.locator("#live-board li.card-item").filter(has_text="Un point chaque lundi")
    explored = phone.locator("#live-board li.card-item").filter(has_text="Demander de l'aide")
    expect(explored.get_by_role("button", name="En faire une action")).to_be_visible()

    kept.get_by_role("button", name="En faire une action").click()

    expect(kept).to_contain_text("déjà une action", timeout=LIVE_MS)
    expect(kept.get_by_role("button", name="En faire une action")).to_have_count(0)
    expect(explored.get_by_role("button", name="En faire une action")).to_be_visible()
    assert ActionItem.objects.filter(session=planned_session).count() == 1
    screenshot(phone, "controls-action-cards-phone")


# The hand button and the phone's bar; step 4's order


def test_on_a_phone_the_demand_then_my_main_actions_are_at_hand(
    live_server_url, pages, planned_session, member, consultants
):
    go_live(planned_session, Step.CONTRIBUTIONS)
    Session.objects.filter(pk=planned_session.pk).update(
        demand_text="dire non sans culpabiliser", demand_validated_at=timezone.now()
    )
    # A long round: the board runs far below the first screen.
    Contribution.objects.bulk_create(
        Contribution(
            session=planned_session,
            author=consultants[1 + index % 3],
            kind="experience",
            text=f"Carte {index} : " + "ce qui m'a aidé dans un cas semblable. " * 4,
        )
        for index in range(25)
    )
    HandRaise.objects.create(session=planned_session, author=consultants[1])
    phone = pages(live_server_url, member, planned_session)
    demand = phone.locator(".pinned").filter(has_text="Aidez-moi à dire non sans culpabiliser")
    form_field = phone.locator("#live-composer textarea[name=text]")
    hand = phone.locator("[data-hand]")

    # The demand is read before the form; posting and the hand are on the
    # first screen, in the bar at the bottom.
    assert demand.bounding_box()["y"] < form_field.bounding_box()["y"]
    write = phone.get_by_role("link", name="Écrire")
    expect(write).to_be_in_viewport()
    expect(hand).to_be_in_viewport()
    expect(hand).to_have_accessible_name("Lever la main")
    # What the phone's screen shows (not the whole page): the bar is fixed.
    phone.screenshot(path=SCREENSHOTS / "controls-phone-bar-top.png")

    phone.evaluate("window.scrollTo(0, document.body.scrollHeight)")
    expect(write).to_be_in_viewport()
    expect(hand).to_be_in_viewport()
    hand.click()
    expect(hand).to_have_accessible_name("Baisser la main", timeout=LIVE_MS)
    expect(hand).to_have_attribute("aria-pressed", "true")
    # The bar covers nothing: the page's end shows above it.
    expect(phone.locator("#live-presence")).to_be_in_viewport()
    phone.screenshot(path=SCREENSHOTS / "controls-phone-bar-bottom.png")

    write.click()
    expect(form_field).to_be_focused()
    expect(form_field).to_be_in_viewport()
    expect(phone.get_by_role("button", name="Partager")).to_be_in_viewport()

    hand.click()
    expect(hand).to_have_accessible_name("Lever la main", timeout=LIVE_MS)
    # Another consultant's hand stays in the queue: it is not mine.
    expect(phone.locator("#live-queue li")).to_have_count(1)


# Presence when a phone is offline


def test_an_offline_phone_no_longer_says_who_is_connected(
    live_server_url, pages, planned_session, member, facilitator
):
    go_live(planned_session, Step.EXPOSE)
    pages(live_server_url, facilitator, planned_session, LAPTOP)
    phone, line = pages(live_server_url, member, planned_session, line=True)
    presence = phone.locator("#live-presence")
    expect(presence).to_contain_text("connecté", use_inner_text=True)

    phone.context.set_offline(True)
    line.hold()

    # The list that says « connecté » gives way to a note.
    expect(presence.locator(".list")).to_be_hidden()
    expect(presence.get_by_text("Hors ligne")).to_be_visible()

    line.release()
    phone.context.set_offline(False)
    expect(presence.get_by_text("Hors ligne")).to_be_hidden(timeout=12_000)
    expect(presence.locator(".list")).to_contain_text("connecté", use_inner_text=True)


def test_a_phone_that_stops_answering_stops_showing_connected_within_seconds(
    servers, browser, planned_session, facilitator, consultants
):
    from tests.e2e.test_operations import Person, stuck_socket

    interval, timeout = production_ping()
    server = servers.daphne("ping", ping=(interval, timeout))
    go_live(planned_session, Step.EXPOSE)
    laptop = open_page(browser, server.url, facilitator, planned_session, LAPTOP)
    silent_user = consultants[0]
    row = laptop.locator("#live-presence li").filter(has_text=silent_user.full_name)

    # A phone whose network is gone: the socket stays open, nothing answers
    # daphne's pings (the client never reads, so it never pongs).
    silent = stuck_socket(Person(silent_user), server, planned_session)
    expect(row).to_contain_text("connecté", timeout=5_000)

    # daphne pings after `interval` s (checked every 2 s) and drops the socket
    # `timeout` s after an unanswered ping; then presence is announced.
    seconds = interval + 2 + timeout + 3
    expect(row).not_to_contain_text("connecté", timeout=seconds * 1000)
    silent.close()
    laptop.context.close()


# Step 0 « retour »


def test_the_previous_clients_update_confirms_on_their_phone(
    live_server_url, pages, planned_session, group, facilitator, client_user
):
    previous = Session.objects.create(
        group=group,
        scheduled_at=planned_session.scheduled_at - dt.timedelta(days=28),
        status=Session.Status.CLOSED,
    )
    Participation.objects.create(session=previous, user=client_user, role="client")
    action = ActionItem.objects.create(session=previous, author=client_user, text="Poser un cadre")
    go_live(planned_session, Step.RETOUR, include_retour=True)
    phone = pages(live_server_url, client_user, planned_session)
    panel = phone.locator(f"#action-{action.code}")

    panel.get_by_label("Statut").select_option(label="fait")
    panel.get_by_role("button", name="Mettre à jour").click()

    expect(panel.get_by_role("status")).to_have_text("Enregistré", timeout=LIVE_MS)
    expect(panel.locator(".badge")).to_have_text("fait")
    expect(phone.locator("#live-board")).to_contain_text("fait")
    never_left(phone)


# The invitation page


def test_an_unchecked_charter_keeps_the_passwords(browser, live_server_url, group, facilitator):
    invitation = Invitation.objects.create(group=group, invited_by=facilitator)
    context = browser.new_context(base_url=live_server_url, locale="fr-FR", **PHONE)
    page = context.new_page()
    page.goto(f"/invitations/{invitation.token}/")
    page.get_by_label("Prénom et nom").fill("Nina Nouvelle")
    page.get_by_label("Adresse e-mail").fill("nina@test.codev")
    page.get_by_label("Mot de passe", exact=True).fill(PASSWORD)
    page.get_by_label("Mot de passe (confirmation)").fill(PASSWORD)

    page.get_by_role("button", name="Rejoindre le groupe").click()

    expect(page.get_by_text("Pour rejoindre le groupe, acceptez sa charte.")).to_be_visible()
    expect(page.get_by_label("Mot de passe", exact=True)).to_have_value(PASSWORD)
    expect(page.get_by_label("Mot de passe (confirmation)")).to_have_value(PASSWORD)
    context.close()


def test_a_step_where_my_role_writes_nothing_shows_no_empty_composer(
    live_server_url, pages, planned_session, client_user
):
    # The client listens at step 4: their composer holds only the hidden
    # offline message, and must take no room (seen as an empty box).
    go_live(planned_session, Step.CONTRIBUTIONS)
    phone = pages(live_server_url, client_user, planned_session)
    expect(phone.locator("#live-board")).to_be_visible()
    expect(phone.locator("#live-composer")).to_be_hidden()
