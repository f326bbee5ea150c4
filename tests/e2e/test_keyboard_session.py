"""A whole session with the keyboard alone (issue 12, part 6): the facilitator
on the laptop and a consultant and the client on their phones reach every
control with Tab and use it with Enter or by typing; a screen reader hears each
step change (a polite announcement of the step and of what to do now), and a
card arriving takes nobody's focus.
"""

import pytest
from playwright.sync_api import Locator, Page, expect

from sessions.models import ActionItem, Contribution, Learning, Question, Session
from tests.e2e.test_live_session import LAPTOP, LIVE_DELAY, PHONE

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

LIVE_MS = int(LIVE_DELAY * 1000)


def tab_to(page: Page, target: Locator, limit: int = 80) -> None:
    """Tab (from where the focus is) until `target` has the focus."""
    target.wait_for()
    for _ in range(limit):
        if target.evaluate("element => element === document.activeElement"):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"Tab never reached {target}")


def press(page: Page, target: Locator, key: str = "Enter") -> None:
    tab_to(page, target)
    page.keyboard.press(key)


def write(page: Page, field: Locator, text: str, button: Locator) -> None:
    tab_to(page, field)
    page.keyboard.type(text)
    press(page, button)


def test_a_whole_session_run_with_the_keyboard_alone(
    open_as, planned_session, facilitator, client_user, consultants
):
    consultant = consultants[0]
    path = f"/s/{planned_session.code}/"
    pages = [
        open_as(user, device, path)
        for user, device in ((facilitator, LAPTOP), (client_user, PHONE), (consultant, PHONE))
    ]
    laptop, client, phone = pages
    expect(laptop.locator("#live-presence li").filter(has_text="connecté")).to_have_count(
        3, timeout=10_000
    )

    def next_step(label):
        press(laptop, laptop.get_by_test_id("next-step"))
        for page in pages:
            expect(page.locator("#live-header h1")).to_contain_text(label, timeout=LIVE_MS)

    # Without the retour: the checkbox with Space, then « Démarrer ».
    tab_to(laptop, laptop.locator("#include_retour"))
    laptop.keyboard.press("Space")
    press(laptop, laptop.get_by_role("button", name="Démarrer la séance"))
    for page in pages:
        expect(page.locator("#live-header h1")).to_contain_text("Exposé", timeout=LIVE_MS)
    write(
        client,
        client.locator("#id_expose_title"),
        "Mes délais",
        client.get_by_role("button", name="Enregistrer l'exposé"),
    )
    expect(laptop.locator("#live-board")).to_contain_text("Mes délais", timeout=LIVE_MS)

    next_step("Clarification")
    announce = phone.locator("#live-announce")
    expect(announce).to_contain_text("Étape 2 : Clarification")
    expect(announce).to_contain_text("À vous : Posez des questions factuelles")
    write(
        phone,
        phone.locator("#id_question_text"),
        "Depuis quand ?",
        phone.get_by_role("button", name="Poser la question"),
    )
    expect(client.locator("#questions")).to_contain_text("Depuis quand ?", timeout=LIVE_MS)

    next_step("Demande")
    write(
        client,
        client.locator("#id_demand_text"),
        "tenir mes délais",
        client.get_by_role("button", name="Proposer ma demande"),
    )
    press(phone, phone.get_by_role("button", name="Demande comprise"))
    expect(laptop.locator("#live-board")).to_contain_text("1 sur 1", timeout=LIVE_MS)
    press(laptop, laptop.get_by_role("button", name="Valider le contrat"))
    expect(client.locator("#live-board")).to_contain_text("Contrat validé", timeout=LIVE_MS)

    next_step("Contributions")
    # The client is typing a note when the card arrives: the focus stays there.
    tab_to(client, client.locator("#id_note_text"))
    client.keyboard.type("À creuser")
    write(
        phone,
        phone.locator("#id_contribution_text"),
        "Bloquer deux matinées.",
        phone.get_by_role("button", name="Partager"),
    )
    expect(client.locator("#cards")).to_contain_text("Bloquer deux matinées.", timeout=LIVE_MS)
    assert client.evaluate("document.activeElement.id") == "id_note_text"
    card = client.locator("#cards li").first
    press(client, card.get_by_role("button", name="je retiens"))
    expect(card).to_have_class("card-item kind-suggestion tag-keep", timeout=LIVE_MS)

    next_step("Plan d'action")
    write(
        client,
        client.locator("#id_action_text"),
        "Bloquer mes lundis",
        client.get_by_role("button", name="Ajouter l'action"),
    )
    expect(laptop.locator("#actions")).to_contain_text("Bloquer mes lundis", timeout=LIVE_MS)

    next_step("Apprentissages")
    for page in pages:
        write(
            page,
            page.locator("#id_learning_text"),
            "Écouter d'abord",
            page.get_by_role("button", name="Noter"),
        )
    expect(laptop.locator("#learnings li")).to_have_count(3, timeout=LIVE_MS)
    # Closing, with the keyboard: the panel opens with Enter, then « Oui ».
    press(laptop, laptop.locator("#close-session summary"))
    press(laptop, laptop.get_by_role("button", name="Oui, clore la séance"))
    for page in pages:
        expect(page.locator("#live-header h1")).to_contain_text("Séance terminée", timeout=LIVE_MS)
        assert page.evaluate("window.loadedOnce === true")

    assert Session.objects.get(pk=planned_session.pk).status == Session.Status.CLOSED
    assert Question.objects.count() == 1 and Contribution.objects.count() == 1
    assert ActionItem.objects.count() == 1 and Learning.objects.count() == 3
