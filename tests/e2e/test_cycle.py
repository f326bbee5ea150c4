"""A codev cycle in Chromium (issue 13): the animateur starts a cycle on the
laptop, rewords the charter at the launch session, two members adopt it on
their phones, the group adopts it, and a member's phone shows who is next.
"""

import re

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from groups import cycles
from groups.models import Topic
from tests.e2e.conftest import SCREENSHOTS
from tests.e2e.test_live_session import LAPTOP, PHONE

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

EXTRA_LINE = "Nous coupons nos téléphones pendant la séance."
URGENT_TOPIC = "Annoncer une réorganisation à mon équipe"


def cadence_values(group, count: int) -> list[str]:
    """What the start form's date fields hold: `count` meetings on the
    cadence after the next one (the launch), as datetime-local values."""
    launch = group.next_meeting_start()
    starts = cycles.cadence_dates(group, count, launch)
    return [timezone.localtime(start).strftime("%Y-%m-%dT%H:%M") for start in starts]


def assert_fits(page: Page) -> None:
    """Nothing wider than the phone: no sideways scrolling."""
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"], f"{page.url} is {width}px wide"


def test_the_animateur_launches_a_cycle_members_adopt_the_charter_and_see_who_is_next(
    open_as, group, facilitator, client_user, consultants, screenshot
):
    # Eva's urgent topic outranks Bruno's older, less urgent one, and Bruno
    # would come first by name: Eva, with her topic, is the one proposed.
    bruno, eva = consultants[0], consultants[3]
    Topic.objects.create(group=group, proposed_by=bruno, title="Ranger mes priorités")
    Topic.objects.create(
        group=group, proposed_by=eva, title=URGENT_TOPIC, urgency=Topic.Urgency.HIGH
    )
    group_path = f"/groups/{group.code}/"

    # 1. On the laptop, the animateur starts a cycle: one date per member.
    laptop = open_as(facilitator, LAPTOP, group_path)
    laptop.locator("section.cycle").get_by_role("link", name="Lancer un cycle").click()
    laptop.wait_for_url(f"**/groups/{group.code}/cycles/new/")
    dates = laptop.locator(".cycle-dates input[type=datetime-local]")
    expect(dates).to_have_count(5)  # five members, the animateur not counted
    for field, value in zip(dates.all(), cadence_values(group, 5), strict=True):
        expect(field).to_have_value(value)
    laptop.get_by_label("Lieu ou lien de visio du lancement").fill("Salle des Tilleuls")
    laptop.get_by_label("Nombre de séances").fill("6")
    laptop.get_by_role("button", name="Recalculer les dates").click()
    expect(dates).to_have_count(6)
    for field, value in zip(dates.all(), cadence_values(group, 6), strict=True):
        expect(field).to_have_value(value)
    # Recomputing keeps what was typed.
    expect(laptop.get_by_label("Lieu ou lien de visio du lancement")).to_have_value(
        "Salle des Tilleuls"
    )
    screenshot(laptop, "cycle-start-laptop")
    laptop.get_by_role("button", name="Lancer le cycle").click()
    launch_path = f"/groups/{group.code}/cycles/1/lancement/"
    laptop.wait_for_url(f"**{launch_path}")
    expect(laptop.locator(".messages")).to_contain_text(
        "Cycle 1 lancé : ses 6 séances sont planifiées."
    )
    expect(laptop.get_by_role("heading", level=1)).to_have_text("Séance de lancement du cycle 1")

    # 2. The animateur adds a line to the charter.
    laptop.get_by_text("Modifier la charte").click()
    charter = laptop.get_by_role("textbox", name="Charte du groupe")
    charter.press("Control+End")
    charter.press("Enter")
    charter.press_sequentially(EXTRA_LINE)
    laptop.get_by_role("button", name="Enregistrer la charte").click()
    expect(laptop.locator(".messages")).to_contain_text(
        "Charte modifiée : chaque membre l'adopte à nouveau."
    )
    expect(laptop.locator(".charter")).to_contain_text(EXTRA_LINE)

    # 3. Two members, on their phones, read the amended charter and adopt it.
    phones = {}
    for member in (client_user, bruno):
        phone = open_as(member, PHONE, launch_path)
        expect(phone.locator(".charter")).to_contain_text(EXTRA_LINE)
        phone.get_by_role("button", name="J'adopte la charte").tap()
        charter = phone.get_by_role("region", name="La charte du groupe")
        expect(charter.get_by_role("status")).to_have_text("Vous avez adopté cette charte.")
        expect(phone.get_by_role("button", name="J'adopte la charte")).to_have_count(0)
        phones[member] = phone
    # The last to adopt sees both adoptions.
    phone = phones[bruno]
    expect(phone.get_by_role("heading", name="2 adoptions")).to_be_visible()
    assert_fits(phone)
    screenshot(phone, "cycle-launch-phone")

    # 4. The animateur sees both adoptions and records the group's.
    laptop.reload()
    expect(laptop.get_by_role("heading", name="2 adoptions")).to_be_visible()
    people = laptop.get_by_role("region", name="La charte du groupe").locator("li")
    for member in (client_user, bruno):
        expect(people.filter(has_text=member.full_name)).to_contain_text("a adopté la charte")
    expect(people.filter(has_text=eva.full_name)).to_contain_text("pas encore")
    laptop.get_by_role("button", name="Le groupe adopte la charte").click()
    expect(laptop.locator(".messages")).to_contain_text("La charte est adoptée pour ce cycle.")
    expect(laptop.locator(".badge.status-done")).to_have_text(
        re.compile(r"^Adoptée le \d{1,2} \S+ \d{4}$")
    )
    expect(laptop.get_by_role("button", name="Le groupe adopte la charte")).to_have_count(0)

    # 5. A member's phone shows the cycle and who is proposed as next client.
    phone = phones[client_user]
    phone.goto(group_path)
    card = phone.locator("section.cycle")
    expect(card.locator("#cycle")).to_have_text("Cycle 1 · 0 séances tenues sur 6")
    next_client = phone.locator("#next-client")
    expect(next_client).to_contain_text(f"Prochain client proposé : {eva.full_name}")
    expect(next_client).to_contain_text(f"sujet : {URGENT_TOPIC}")
    expect(card).to_contain_text("charte adoptée")
    expect(card.locator(".cycle-sessions li")).to_have_count(6)
    assert_fits(phone)
    card.screenshot(path=SCREENSHOTS / "cycle-card-phone.png")
    screenshot(phone, "cycle-group-phone")
