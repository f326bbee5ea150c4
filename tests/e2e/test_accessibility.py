"""Everyone can follow (issue 12, part 6): axe-core finds no violation of WCAG
2.1 A and AA on the live page, at every step, for every role, at 360 px and
1280 px, nor on the room screen.
"""

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import expect

from sessions.models import Contribution, Question
from sessions.steps import ORDER
from tests.conftest import go_live
from tests.e2e.conftest import PROJECTOR
from tests.e2e.test_live_session import LAPTOP, PHONE

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

WCAG = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}
AXE = Axe()


def violations(page) -> list[str]:
    """Each violation as « rule (impact): the first offending nodes »."""
    results = AXE.run(page, options=WCAG)
    # axe ran, and looked at the page's controls (a check that cannot fail
    # silently: no result at all would read as no violation).
    assert results.response["testEngine"]["name"] == "axe-core"
    assert results.response["incomplete"] is not None
    return [
        f"{v['id']} ({v['impact']}): " + " | ".join(node["html"][:120] for node in v["nodes"][:3])
        for v in results.response["violations"]
    ]


@pytest.fixture
def pages(open_as, facilitator, client_user, consultants):
    """`pages(role, device, path)`: a page of that person's."""
    people = {"facilitator": facilitator, "client": client_user, "consultant": consultants[0]}
    return lambda role, device, path: open_as(people[role], device, path)


@pytest.mark.parametrize("step", ORDER)
def test_no_violation_on_the_live_page_at_any_step_for_any_role(
    pages, planned_session, consultants, step
):
    session = go_live(planned_session, step, include_retour=True)
    Question.objects.create(session=session, author=consultants[0], text="Depuis quand ?")
    Contribution.objects.create(session=session, author=consultants[1], text="Une carte")
    path = f"/s/{session.code}/"
    found = {}
    for role in ("facilitator", "client", "consultant"):
        for name, device in (("360", PHONE), ("1280", LAPTOP)):
            page = pages(role, device, path)
            expect(page.locator("#live-header")).to_be_visible()
            found[f"{role} {name}"] = violations(page)
            page.context.close()
    room = pages("facilitator", PROJECTOR, f"{path}salle/")
    found["room 1920"] = violations(room)
    assert not any(found.values()), {k: v for k, v in found.items() if v}


def test_no_violation_before_the_start_and_the_check_finds_one_planted(pages, planned_session):
    path = f"/s/{planned_session.code}/"
    for role, device in (("facilitator", LAPTOP), ("consultant", PHONE)):
        page = pages(role, device, path)
        expect(page.locator("#live-header")).to_be_visible()
        assert violations(page) == [], role
    # The check itself: an image with no text and a field with no label are found.
    page.evaluate(
        """() => document.getElementById("live-header").insertAdjacentHTML(
            "beforeend", '<img src="/static/none.png"><input type="text" name="x">')"""
    )
    found = " ".join(violations(page))
    assert "image-alt" in found and "label" in found
