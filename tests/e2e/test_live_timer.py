"""The gentle timer in Chromium (issue 12, part 4): planned with the countdown
on the facilitator's screen only, a phone shows the step's budget in words and
no countdown; the facilitator puts it on every screen live, with the keyboard,
and the phone counts down without a reload.
"""

import pytest
from playwright.sync_api import expect

from sessions.models import Session
from sessions.steps import Step
from tests.conftest import go_live
from tests.e2e.test_live_session import LAPTOP, LIVE_DELAY, PHONE

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

LIVE_MS = int(LIVE_DELAY * 1000)


def test_a_gentle_timer_shows_no_countdown_on_the_phones(
    open_as, planned_session, facilitator, consultants, screenshot
):
    consultant = consultants[0]
    Session.objects.filter(pk=planned_session.pk).update(timer=Session.Timer.FACILITATOR)
    session = go_live(planned_session, Step.CLARIFICATION)
    path = f"/s/{session.code}/"
    laptop, phone = open_as(facilitator, LAPTOP, path), open_as(consultant, PHONE, path)
    online = laptop.locator("#live-presence li").filter(has_text="connecté")
    expect(online).to_have_count(2, timeout=10_000)

    expect(laptop.locator("#live-header [data-countdown]")).to_have_count(1)
    expect(phone.locator("#live-header [data-countdown]")).to_have_count(0)
    expect(phone.locator("#live-header .timer.gentle")).to_have_text("environ 20 min")
    screenshot(phone, "gentle-timer-phone")
    screenshot(laptop, "gentle-timer-laptop")

    # Live, with the keyboard: the chooser, the option above (« sur tous les
    # écrans »), Tab to « Appliquer », Enter.
    laptop.locator("#timer-choice").focus()
    laptop.keyboard.press("ArrowUp")
    laptop.keyboard.press("Tab")
    laptop.keyboard.press("Enter")

    expect(phone.locator("#live-header [data-countdown]")).to_have_count(1, timeout=LIVE_MS)
    expect(phone.locator("#live-header .timer.gentle")).to_have_count(0)
    assert phone.evaluate("window.loadedOnce === true")
    assert Session.objects.get(pk=session.pk).timer == Session.Timer.EVERYONE
