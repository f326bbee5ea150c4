"""The living contract in Chromium (issue 12, part 3): at the demand step a
consultant posts what they understood, and it appears on the client's phone,
beside the draft, without a reload.
"""

import pytest
from playwright.sync_api import expect

from groups.models import User
from sessions.steps import Step
from tests.conftest import go_live
from tests.e2e.test_live_session import LIVE_DELAY, PHONE, sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

UNDERSTOOD = "Tu veux tenir tes délais sans t'épuiser."


def test_a_consultants_reformulation_reaches_the_clients_phone(
    browser,
    live_server_url,
    server_password_hash,
    planned_session,
    client_user,
    consultants,
    screenshot,
):
    consultant = consultants[0]
    User.objects.filter(pk__in=[client_user.pk, consultant.pk]).update(
        password=server_password_hash
    )
    session = go_live(planned_session, Step.DEMAND)
    path = f"/s/{session.code}/"
    contexts, pages = [], []
    for user in (client_user, consultant):
        context = browser.new_context(base_url=live_server_url, locale="fr-FR", **PHONE)
        contexts.append(context)
        page = context.new_page()
        sign_in(page, user, path)
        pages.append(page)
    client, phone = pages
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
    for context in contexts:
        context.close()
