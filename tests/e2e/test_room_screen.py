"""The room screen in Chromium (issue 12, part 2): the facilitator opens it
from the controls in a second window, at 1920×1080 as on a projector; it
shows the way in before the start, then follows the session live: the step,
the cards grouped by theme, the queue; never a control.
"""

import pytest
from django.db.models import F
from playwright.sync_api import expect

from sessions.models import Contribution, Session
from sessions.steps import Step
from tests.conftest import go_live
from tests.e2e.conftest import PROJECTOR
from tests.e2e.test_live_session import LAPTOP, LIVE_DELAY, PHONE
from tests.e2e.test_live_themes import drag, theme_box

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

LIVE_MS = int(LIVE_DELAY * 1000)


@pytest.fixture
def people(facilitator, client_user, consultants):
    return facilitator, client_user, consultants[0]


def test_the_room_screen_follows_the_session_with_no_control(
    planned_session, people, open_as, screenshot
):
    facilitator, client, consultant = people
    path = f"/s/{planned_session.code}/"
    room = open_as(facilitator, PROJECTOR, f"{path}salle/")
    expect(room.locator("#live-join img")).to_be_visible()
    expect(room.locator("#live-header h1")).to_contain_text("La séance va commencer")
    screenshot(room, "room-before-start-1920")

    laptop = open_as(facilitator, LAPTOP, path)
    laptop.get_by_role("button", name="Démarrer la séance").click()
    # The start reaches the room: the way in gives way to the first step.
    expect(room.locator("#live-header h1")).to_contain_text("Retour", timeout=LIVE_MS)
    expect(room.locator("#live-join img")).to_have_count(0)

    # On to the contributions, as if walked there (the version moves with it).
    session = go_live(planned_session, Step.CONTRIBUTIONS)
    Session.objects.filter(pk=session.pk).update(version=F("version") + 1)
    cards = [
        Contribution.objects.create(session=session, author=consultant, text=text)
        for text in ("Bloquer deux matinées.", "Dire non par écrit.", "Parler à ton équipe.")
    ]
    laptop.reload()
    phone = open_as(consultant, PHONE, path)
    # The controls link to it, for a second window.
    link = laptop.get_by_test_id("room-link")
    expect(link).to_have_attribute("target", "_blank")
    room.reload()
    expect(room.locator("#live-header h1")).to_contain_text("Contributions")

    laptop.locator("#theme-new-name").fill("Organisation")
    laptop.get_by_role("button", name="Créer le thème").click()
    expect(theme_box(room, "Organisation")).to_have_count(1, timeout=LIVE_MS)
    drag(laptop, cards[0], "Organisation")
    expect(theme_box(room, "Organisation")).to_contain_text(cards[0].text, timeout=LIVE_MS)

    phone.get_by_role("button", name="Lever la main").click()
    expect(room.locator("#hands")).to_contain_text(consultant.full_name, timeout=LIVE_MS)
    room.evaluate("window.loadedOnce = true")

    laptop.get_by_test_id("next-step").click()
    expect(room.locator("#live-header h1")).to_contain_text("Plan d'action", timeout=LIVE_MS)
    laptop.get_by_role("button", name="← Étape précédente").click()
    expect(room.locator("#live-header h1")).to_contain_text("Contributions", timeout=LIVE_MS)
    expect(theme_box(room, "Organisation")).to_contain_text(cards[0].text)
    assert room.evaluate("window.loadedOnce === true")

    # Nothing to click, nothing to type.
    for control in ("button", "input", "select", "textarea", "form"):
        expect(room.locator(f"#live {control}")).to_have_count(0)
    expect(room.locator(".topbar")).to_have_count(0)
    screenshot(room, "room-contributions-1920")
