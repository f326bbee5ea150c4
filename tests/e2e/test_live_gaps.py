"""Gaps are healed, never guessed: a phone that misses one delta on an open
socket (the socket stays up, the message is simply lost) notices it at the
next message, whose version does not follow on from its own, and asks for
the full state. It ends where the session is, without a reload.
"""

import re
from dataclasses import dataclass, field

import pytest
from playwright.sync_api import BrowserContext, WebSocketRoute, expect

from groups.models import User
from sessions.steps import Step
from tests.conftest import go_live
from tests.e2e.test_live_session import LAPTOP, LIVE_DELAY, PHONE, assert_never_reloaded, sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

FIRST = "Une première carte, perdue en route."
SECOND = "Une deuxième carte, qui révèle le trou."


@dataclass
class Dropper:
    """A phone's socket, routed through Playwright: `drop_next` loses the next
    delta from the server (a message with a version `data-from`) on its way."""

    armed: bool = False
    dropped: list[str] = field(default_factory=list)

    def attach(self, context: BrowserContext) -> None:
        def forward(page_side: WebSocketRoute) -> None:
            server_side = page_side.connect_to_server()

            def from_server(message):
                if self.armed and isinstance(message, str) and "data-from=" in message[:80]:
                    self.armed = False
                    self.dropped.append(message)
                    return
                page_side.send(message)

            server_side.on_message(from_server)

        context.route_web_socket(re.compile(r"/ws/sessions/"), forward)


def test_a_phone_that_missed_a_delta_asks_for_the_full_state(
    browser, live_server_url, server_password_hash, planned_session, consultants, facilitator
):
    go_live(planned_session, Step.CONTRIBUTIONS)
    writer, reader = consultants[0], consultants[1]
    User.objects.filter(pk__in=[writer.pk, reader.pk, facilitator.pk]).update(
        password=server_password_hash
    )
    path = f"/s/{planned_session.code}/"
    dropper = Dropper()
    contexts = []

    def open_page(user, device, *, routed=False):
        context = browser.new_context(base_url=live_server_url, locale="fr-FR", **device)
        contexts.append(context)
        if routed:
            dropper.attach(context)
        page = context.new_page()
        sign_in(page, user, path)
        return page

    laptop = open_page(facilitator, LAPTOP)
    phone = open_page(writer, PHONE)
    lossy = open_page(reader, PHONE, routed=True)
    online = laptop.locator("#live-presence li").filter(has_text="connecté")
    expect(online).to_have_count(3, timeout=10_000)
    states = []
    lossy.on(
        "request", lambda request: states.append(request.url) if "/state/" in request.url else None
    )
    version = int(lossy.locator("#live").get_attribute("data-version"))

    def post(text):
        composer = phone.locator("#live-composer")
        composer.locator("textarea[name=text]").fill(text)
        composer.get_by_role("button", name="Partager").click()
        expect(laptop.locator("#live-board")).to_contain_text(text, timeout=LIVE_DELAY * 1000)

    dropper.armed = True
    post(FIRST)
    # The lossy phone never heard of the first card: no guess, nothing shown.
    assert len(dropper.dropped) == 1 and FIRST in dropper.dropped[0]
    expect(lossy.locator("#live-board")).not_to_contain_text(FIRST)
    assert lossy.locator("#live").get_attribute("data-version") == str(version)

    post(SECOND)
    # The second card's delta applies to version + 1, the phone shows version:
    # it fetches the full state, which holds both cards, in order.
    board = lossy.locator("#live-board")
    expect(board).to_contain_text(SECOND, timeout=LIVE_DELAY * 1000)
    expect(board).to_contain_text(FIRST)
    expect(lossy.locator("#live")).to_have_attribute("data-version", str(version + 2))
    cards = board.locator("li.card-item")
    expect(cards).to_have_count(2)
    expect(cards.first).to_contain_text(FIRST)
    assert states, "the phone asked for the full state"
    # One card each, not twice: the late delta was not applied over the full state.
    expect(laptop.locator("#live-board li.card-item")).to_have_count(2)
    assert_never_reloaded([laptop, phone, lossy])
    for context in contexts:
        context.close()
