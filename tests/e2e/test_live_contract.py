"""The living contract in Chromium (issue 12, part 3): at the demand step a
consultant posts what they understood, and it appears on the client's phone,
beside the draft, without a reload; at step 4 the facilitator reopens the
demand, the client rewords it, a consultant answers, and it is validated again.
"""

import pytest
from playwright.sync_api import expect

from sessions import services
from sessions.models import DemandVersion
from sessions.steps import Step
from tests.conftest import go_live
from tests.e2e.test_live_session import LAPTOP, LIVE_DELAY, PHONE

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

UNDERSTOOD = "Tu veux tenir tes délais sans t'épuiser."


def test_a_consultants_reformulation_reaches_the_clients_phone(
    open_as, planned_session, client_user, consultants, screenshot
):
    consultant = consultants[0]
    session = go_live(planned_session, Step.DEMAND)
    path = f"/s/{session.code}/"
    client, phone = (open_as(user, PHONE, path) for user in (client_user, consultant))
    online = client.locator("#live-presence li").filter(has_text="connecté")
    expect(online).to_have_count(2, timeout=10_000)
    client.locator("#id_demand_text").fill("tenir mes délais")

    phone.get_by_label("Ce que j'ai compris :").fill(UNDERSTOOD)
    phone.get_by_role("button", name="Partager ma reformulation").click()

    expect(client.locator("#reformulations")).to_contain_text(
        UNDERSTOOD, timeout=int(LIVE_DELAY * 1000)
    )
    expect(client.locator("#reformulations")).to_contain_text(consultant.full_name)
    # The client's draft is untouched, the consultant's field emptied.
    expect(client.locator("#id_demand_text")).to_have_value("tenir mes délais")
    expect(phone.get_by_label("Ce que j'ai compris :")).to_have_value("")
    assert client.evaluate("window.loadedOnce === true")
    screenshot(client, "reformulation-client-phone")


def test_the_facilitator_reopens_the_demand_and_it_is_validated_again(
    open_as, planned_session, facilitator, client_user, consultants, screenshot
):
    consultant = consultants[0]
    session = go_live(planned_session, Step.DEMAND)
    services.demand_save(session=session, by=client_user, text="tenir mes délais")
    services.demand_validate(session=session, by=facilitator)
    services.session_move(session=session, by=facilitator, from_step=Step.DEMAND, forward=True)
    path = f"/s/{session.code}/"
    pages = [
        open_as(user, device, path)
        for user, device in ((facilitator, LAPTOP), (client_user, PHONE), (consultant, PHONE))
    ]
    laptop, client, phone = pages
    online = laptop.locator("#live-presence li").filter(has_text="connecté")
    expect(online).to_have_count(3, timeout=10_000)
    live_ms = int(LIVE_DELAY * 1000)

    laptop.get_by_role("button", name="Rouvrir la demande").click()
    for page in pages:
        expect(page.locator("#live-header .pinned")).to_contain_text("rouverte", timeout=live_ms)
    client.locator("#id_demand_text").fill("dire non sans culpabiliser")
    client.get_by_role("button", name="Proposer ma demande").click()
    expect(phone.locator("#live-header .pinned")).to_contain_text(
        "dire non sans culpabiliser", timeout=live_ms
    )
    phone.get_by_role("button", name="Demande comprise").click()
    expect(laptop.locator("#live-board")).to_contain_text(
        "1 sur 1 : demande comprise", timeout=live_ms
    )
    laptop.get_by_role("button", name="Valider le contrat").click()

    for page in pages:
        pinned = page.locator("#live-header .pinned")
        expect(pinned).to_contain_text("Aidez-moi à dire non sans culpabiliser", timeout=live_ms)
        expect(pinned).not_to_contain_text("rouverte")
        assert page.evaluate("window.loadedOnce === true")
    expect(client.locator("#id_demand_text")).to_have_count(0)
    expect(phone.get_by_role("button", name="Demande comprise")).to_have_count(0)
    assert list(DemandVersion.objects.values_list("text", flat=True)) == [
        "tenir mes délais",
        "dire non sans culpabiliser",
    ]
    screenshot(phone, "demand-validated-again-phone")
