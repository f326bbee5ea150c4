"""Metaplan themes in real browsers (issue 12, part 1): the facilitator, on the
laptop, clusters six cards into two themes, three by dragging them with the
mouse and three with the keyboard alone (the theme chooser of each card);
the client's and a consultant's phones show the grouping live, without a
reload, and so does the room screen. The client keeps a whole theme from the
phone.
"""

import pytest
from playwright.sync_api import Page, expect

from sessions.models import ActionItem, Contribution, ContributionTag, Theme
from sessions.steps import Step
from tests.conftest import go_live
from tests.e2e.conftest import PROJECTOR
from tests.e2e.test_live_session import LAPTOP, LIVE_DELAY, PHONE

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

CARDS = [
    "Bloquer deux matinées sans réunion.",
    "Dire non par écrit, avec une date.",
    "Tenir un tableau des demandes.",
    "Demander à ton chef ce qui peut attendre.",
    "Parler à ton équipe de ta charge.",
    "Trouver un allié dans l'autre service.",
]
LIVE_MS = int(LIVE_DELAY * 1000)


@pytest.fixture
def room(open_as, planned_session, people):
    session = go_live(planned_session, Step.CONTRIBUTIONS)
    facilitator, client, consultant = people
    cards = [
        Contribution.objects.create(session=session, author=consultant, text=text) for text in CARDS
    ]
    path = f"/s/{session.code}/"
    laptop, phone_of_client, phone = (
        open_as(user, device, path)
        for user, device in ((facilitator, LAPTOP), (client, PHONE), (consultant, PHONE))
    )
    # The room screen, on the projector.
    projector = open_as(facilitator, PROJECTOR, f"{path}salle/")
    # Every socket is open once the facilitator sees the three people online.
    online = laptop.locator("#live-presence li").filter(has_text="connecté")
    expect(online).to_have_count(3, timeout=10_000)
    return session, cards, (laptop, phone_of_client, phone), projector


@pytest.fixture
def people(facilitator, client_user, consultants):
    return facilitator, client_user, consultants[0]


def theme_box(page: Page, name: str):
    return page.locator("#live-board section.theme").filter(
        has=page.locator(".theme-name", has_text=name)
    )


def drag(laptop: Page, card, name: str) -> None:
    """The card, held by its text (not its chooser), dropped on the theme."""
    laptop.locator(f"#card-{card.code} > div").drag_to(
        theme_box(laptop, name), source_position={"x": 8, "y": 8}
    )


def create_theme_with_keys(laptop: Page, name: str) -> None:
    laptop.locator("#theme-new-name").focus()
    laptop.keyboard.type(name)
    laptop.keyboard.press("Enter")
    expect(theme_box(laptop, name)).to_have_count(1, timeout=LIVE_MS)


def test_the_facilitator_clusters_six_cards_and_every_phone_follows(room, screenshot):
    session, cards, (laptop, client, consultant), projector = room
    create_theme_with_keys(laptop, "Organisation")
    create_theme_with_keys(laptop, "Relations")

    # With the mouse: three cards dragged onto « Organisation ».
    for card in cards[:3]:
        drag(laptop, card, "Organisation")
        expect(theme_box(laptop, "Organisation").locator(f"#card-{card.code}")).to_have_count(
            1, timeout=LIVE_MS
        )

    # With the keyboard alone: each card's chooser, a letter to pick the
    # theme, Tab to « Classer », Enter.
    for card in cards[3:]:
        laptop.locator(f"#place-{card.code}").focus()
        laptop.keyboard.press("r")
        laptop.keyboard.press("Tab")
        expect(laptop.locator(f"#place-{card.code}-go")).to_be_focused()
        laptop.keyboard.press("Enter")
        box = theme_box(laptop, "Relations")
        expect(box.locator(f"#card-{card.code}")).to_have_count(1, timeout=LIVE_MS)
        # The keyboard goes on from the card it moved.
        expect(laptop.locator(f"#place-{card.code}-go")).to_be_focused()

    for page in (laptop, client, consultant, projector):
        for name, moved in (("Organisation", cards[:3]), ("Relations", cards[3:])):
            box = theme_box(page, name)
            for card in moved:
                expect(box).to_contain_text(card.text, timeout=LIVE_MS)
        expect(page.locator("#cards > li:not([hidden])")).to_have_count(0)
        assert page.evaluate("window.loadedOnce === true")
    screenshot(laptop, "themes-laptop")
    screenshot(projector, "themes-room-1920")
    screenshot(consultant, "themes-phone")

    # The client keeps the whole « Relations » theme, from the phone.
    whole = theme_box(client, "Relations").get_by_role("group", name="Tout le thème")
    whole.get_by_role("button", name="je retiens").click()
    for card in cards[3:]:
        expect(client.locator(f"#card-{card.code}")).to_have_class(
            "card-item kind-suggestion tag-keep", timeout=LIVE_MS
        )
    assert ContributionTag.objects.filter(tag="keep").count() == 3
    expect(consultant.locator(".tag-keep")).to_have_count(0)
    screenshot(client, "themes-client-phone")


def test_a_theme_removed_sends_its_cards_back_to_be_sorted(room):
    session, cards, (laptop, client, consultant), _projector = room
    create_theme_with_keys(laptop, "Organisation")
    drag(laptop, cards[0], "Organisation")
    expect(theme_box(consultant, "Organisation")).to_contain_text(CARDS[0], timeout=LIVE_MS)

    box = theme_box(laptop, "Organisation")
    box.locator("summary").click()
    box.get_by_role("button", name="Retirer le thème").click()

    for page in (laptop, client, consultant):
        expect(page.locator("#live-board section.theme:not(.unsorted)")).to_have_count(
            0, timeout=LIVE_MS
        )
        expect(page.locator("#cards")).to_contain_text(CARDS[0])


def test_at_the_action_plan_the_client_makes_a_theme_an_action(
    open_as, planned_session, people, screenshot
):
    facilitator, client, consultant = people
    session = go_live(planned_session, Step.ACTION_PLAN)
    theme = Theme.objects.create(session=session, author=facilitator, name="Organisation")
    Contribution.objects.create(session=session, author=consultant, text=CARDS[0], theme=theme)
    phone = open_as(client, PHONE, f"/s/{session.code}/")

    box = phone.locator("#theme-actions li").filter(has_text="Organisation")
    box.get_by_role("button", name="En faire une action").click()

    expect(phone.locator("#actions")).to_contain_text("Organisation", timeout=LIVE_MS)
    expect(box).to_contain_text("déjà une action")
    assert ActionItem.objects.get().theme == theme
    screenshot(phone, "theme-action-client-phone")
