"""A session « sans trace » in Chromium (issue 13, part 3): the facilitator
marks it during the session and every phone says so at once; at the last step
the client chooses on their phone what the group keeps, the facilitator's
laptop reads that choice in the closing's question, and after the closing the
report holds only what was kept.
"""

import pytest
from playwright.sync_api import expect

from sessions.models import Contribution, ContributionTag, Question, Session
from sessions.steps import Step
from tests.conftest import go_live, tag_card
from tests.e2e.test_live_session import LAPTOP, LIVE_DELAY, PHONE

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

QUESTION = "Depuis quand cela dure-t-il ?"
KEPT = "Demande un entretien en tête-à-tête."
DROPPED = "Change de service."


def test_the_client_chooses_what_the_group_keeps_and_the_rest_is_gone(
    open_as, planned_session, facilitator, client_user, consultants, screenshot
):
    consultant = consultants[0]
    session = go_live(planned_session, Step.LEARNINGS)
    Question.objects.create(session=session, author=consultant, text=QUESTION)
    kept = Contribution.objects.create(session=session, author=consultant, text=KEPT)
    Contribution.objects.create(session=session, author=consultant, text=DROPPED)
    tag_card(kept, client_user, ContributionTag.Tag.KEEP)
    path = f"/s/{session.code}/"
    pages = [
        open_as(user, device, path)
        for user, device in ((facilitator, LAPTOP), (client_user, PHONE), (consultant, PHONE))
    ]
    laptop, client, phone = pages
    online = laptop.locator("#live-presence li").filter(has_text="connecté")
    expect(online).to_have_count(3, timeout=10_000)
    live_ms = int(LIVE_DELAY * 1000)

    laptop.get_by_role("button", name="En faire une séance sans trace").click()
    for page in pages:
        expect(page.locator("#live-header .badge.no-trace")).to_be_visible(timeout=live_ms)
    # The client's phone now asks what the group keeps.
    choice = client.get_by_label("la demande, le plan d'action et les contributions retenues")
    expect(choice).to_be_visible(timeout=live_ms)
    screenshot(client, "no-trace-choice-phone")
    choice.check()
    client.get_by_role("button", name="Enregistrer mon choix").click()
    expect(phone.locator("#live-header")).to_contain_text(
        "pour l'instant : la demande, le plan d'action et les contributions retenues",
        timeout=live_ms,
    )

    laptop.locator("#close-session summary").click()
    expect(laptop.locator("#close-session")).to_contain_text(
        "le groupe gardera la demande, le plan d'action et les contributions retenues"
    )
    screenshot(laptop, "no-trace-close-laptop")
    laptop.get_by_role("button", name="Oui, clore la séance").click()
    for page in pages:
        expect(page.locator("#live-header h1")).to_have_text("Séance terminée", timeout=live_ms)

    assert Session.objects.get(pk=session.pk).kept == Session.Kept.CARDS
    assert list(Contribution.objects.values_list("text", flat=True)) == [KEPT]
    assert not Question.objects.exists()
    phone.goto(f"{path}report/")
    expect(phone.locator("#report-no-trace")).to_contain_text("Séance sans trace")
    expect(phone.locator("article.report")).to_contain_text(KEPT)
    expect(phone.locator("article.report")).not_to_contain_text(DROPPED)
    expect(phone.locator("article.report")).not_to_contain_text(QUESTION)
    screenshot(phone, "no-trace-report-phone")
