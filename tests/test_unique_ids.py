"""Every id on a page is unique, and every <label for> names one of them.

Two fields with the same id make a label focus the wrong one: tapping « Note
privée » on the live page once focused the public question field. So every page
is parsed for every role, the live page at every step, and the regions a
broadcast swaps into it must not bring an id the rest of the page holds.
"""

from collections import Counter
from html.parser import HTMLParser

import pytest
from django.urls import reverse

from sessions.models import Contribution, HandRaise, PrivateNote, Question, Session
from sessions.state import load_state, render_regions
from sessions.steps import Step
from tests.conftest import go_live
from tests.test_security_headers import member_pages, world  # noqa: F401 (the fixture, shared)

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source"}
VOID |= {"track", "wbr"}


class Ids(HTMLParser):
    """The ids of a page, each with the live region (swapped by id) it sits in."""

    def __init__(self, content: str):
        super().__init__(convert_charrefs=True)
        self.ids: list[tuple[str, str | None]] = []
        self.label_targets: list[str] = []
        self._depth = 0
        self._region: tuple[str, int] | None = None
        self.feed(content)
        self.close()

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "label" and attrs.get("for"):
            self.label_targets.append(attrs["for"])
        element_id = attrs.get("id")
        if element_id is not None:
            if self._region is None and "hx-swap-oob" in attrs:
                self._region = (element_id, self._depth)
            self.ids.append((element_id, self._region and self._region[0]))
        if tag not in VOID:
            self._depth += 1

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag not in VOID:
            self._depth -= 1

    def handle_endtag(self, tag):
        if tag in VOID:
            return
        self._depth -= 1
        if self._region is not None and self._depth == self._region[1]:
            self._region = None

    @property
    def duplicates(self) -> list[str]:
        counts = Counter(element_id for element_id, _region in self.ids)
        return sorted(element_id for element_id, count in counts.items() if count > 1)


def assert_unique_ids(content: str, where: str) -> Ids:
    page = Ids(content)
    assert page.duplicates == [], where
    known = {element_id for element_id, _region in page.ids}
    assert [target for target in page.label_targets if target not in known] == [], where
    return page


def assert_fragments_fit(page: Ids, fragments: str, where: str) -> None:
    """The ids of a broadcast's regions, once swapped in, stay unique."""
    swapped = Ids(fragments)
    regions = {element_id for element_id, region in swapped.ids if region == element_id}
    kept = [element_id for element_id, region in page.ids if region not in regions]
    after = Counter(kept + [element_id for element_id, _region in swapped.ids])
    assert sorted(i for i, count in after.items() if count > 1) == [], where


def test_the_checker_finds_a_shared_id_and_a_label_for_nothing():
    page = Ids('<label for="a">A</label><input id="b"><p id="b"></p>')
    assert page.duplicates == ["b"]
    assert page.label_targets == ["a"]
    region = Ids(
        '<section id="r" hx-swap-oob="true"><input id="x"><p id="y"></p></section><i id="z">'
    )
    assert region.ids == [("r", "r"), ("x", "r"), ("y", "r"), ("z", None)]


def test_every_page_of_a_member_has_unique_ids(world, login, client_user, group):  # noqa: F811
    client = login(client_user)
    for path in member_pages(world, client_user, group):
        response = client.get(path)
        assert response.status_code == 200, path
        assert_unique_ids(response.content.decode(), path)


def test_the_facilitators_pages_have_unique_ids(world, login, facilitator, group):  # noqa: F811
    client = login(facilitator)
    for path in [
        reverse("group_detail", args=[group.code]),
        reverse("group_edit", args=[group.code]),
        reverse("session_plan", args=[group.code]),
        reverse("session_detail", args=[world["planned"].code]),
    ]:
        response = client.get(path)
        assert response.status_code == 200, path
        assert_unique_ids(response.content.decode(), path)


def test_pages_of_someone_signed_out_have_unique_ids(client, world):  # noqa: F811
    for path in [reverse("login"), reverse("password_reset")]:
        assert_unique_ids(client.get(path).content.decode(), path)


@pytest.mark.parametrize("step", list(Step))
def test_the_live_page_and_its_broadcasts_have_unique_ids(
    world,  # noqa: F811
    login,
    facilitator,
    client_user,
    consultants,
    step,
):
    session = world["planned"]
    Question.objects.create(session=session, author=consultants[0], text="Depuis quand ?")
    Contribution.objects.create(session=session, author=consultants[1], text="Un point lundi")
    HandRaise.objects.create(session=session, author=consultants[2])
    PrivateNote.objects.create(session=session, author=consultants[0], text="À creuser")
    path = reverse("session_detail", args=[session.code])
    go_live(session, step, include_retour=True)
    audiences = {"facilitator": facilitator, "client": client_user, "consultant": consultants[0]}
    for audience, user in audiences.items():
        where = f"{step} as {audience}"
        page = assert_unique_ids(login(user).get(path).content.decode(), where)
        broadcast = render_regions(load_state(session.pk, live=True), audience)
        assert_fragments_fit(page, broadcast, where)


def test_the_waiting_and_closed_live_page_have_unique_ids(
    world,  # noqa: F811
    login,
    facilitator,
    consultants,
):
    session = world["planned"]
    path = reverse("session_detail", args=[session.code])
    for user in (facilitator, consultants[0]):
        assert_unique_ids(login(user).get(path).content.decode(), f"waiting as {user}")
    Session.objects.filter(pk=session.pk).update(status=Session.Status.CLOSED)
    assert_unique_ids(login(facilitator).get(path).content.decode(), "closed")
