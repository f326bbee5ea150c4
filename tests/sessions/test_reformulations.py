"""A living contract, its first half (issue 12, part 3): at step 3, before the
client settles the demand, each consultant can post a reformulation, « Ce que
j'ai compris : … », visible to all; the client reads them beside the draft.
"""

import html

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from sessions import services
from sessions.models import Reformulation, Session
from sessions.roles import CLIENT, CONSULTANT, FACILITATOR, ROOM
from sessions.state import load_state, render_regions
from sessions.steps import Step
from tests.conftest import go_live
from tests.shown import shown

HTMX = {"HX-Request": "true"}
UNDERSTOOD = "Tu veux tenir tes délais <sans> t'épuiser."


@pytest.fixture
def session(planned_session):
    return go_live(planned_session, Step.DEMAND)


def seen(session, audience):
    return html.unescape(shown(render_regions(load_state(session.pk), audience)))


def post(session, by, text=UNDERSTOOD):
    return services.reformulation_post(session=session, by=by, text=text)


def test_a_consultant_posts_what_they_understood_and_everyone_reads_it(session, member):
    post(session, member)

    assert Reformulation.objects.get().author == member
    for audience in (CLIENT, CONSULTANT, FACILITATOR, ROOM):
        content = seen(session, audience)
        assert f"Ce que j'ai compris :</span> {UNDERSTOOD}" in content, audience
        assert member.full_name in content


def test_the_consultants_have_the_form_until_the_contract_is_validated(session, member):
    assert 'id="id_reformulation_text"' in seen(session, CONSULTANT)
    for audience in (CLIENT, FACILITATOR):
        assert 'id="id_reformulation_text"' not in seen(session, audience)

    Session.objects.filter(pk=session.pk).update(
        demand_text="tenir mes délais", demand_validated_at=timezone.now()
    )
    assert 'id="id_reformulation_text"' not in seen(session, CONSULTANT)
    with pytest.raises(ValidationError, match="déjà été validée"):
        post(session, member)


@pytest.mark.parametrize("who", ["client_user", "facilitator"])
def test_only_consultants_reformulate(request, session, who):
    with pytest.raises(PermissionDenied):
        post(session, request.getfixturevalue(who))
    assert not Reformulation.objects.exists()


def test_only_at_the_demand_step(planned_session, member):
    go_live(planned_session, Step.CONTRIBUTIONS)
    with pytest.raises(ValidationError, match="Ce n'est pas le moment"):
        post(planned_session, member)


def test_a_reformulation_is_escaped_and_sent_alone(
    session, member, django_capture_on_commit_callbacks, monkeypatch
):
    published = []
    monkeypatch.setattr(services.broadcast, "publish_delta", published.append)
    with django_capture_on_commit_callbacks(execute=True):
        post(session, member, text="<script>alert(1)</script>")

    sent = published[0].render()["fr"]
    for audience in (CLIENT, CONSULTANT, FACILITATOR):
        assert '<div hx-swap-oob="beforeend:#reformulations">' in sent[audience]
        assert "<script>alert(1)</script>" not in sent[audience]
        assert "&lt;script&gt;" in sent[audience]
        assert 'id="live-board"' not in sent[audience]


def test_a_too_long_reformulation_says_why_and_keeps_the_text(login, session, member):
    response = login(member).post(
        reverse("reformulation_post", args=[session.code]), {"text": "x" * 501}, headers=HTMX
    )
    assert response.status_code == 400
    content = html.unescape(response.content.decode())
    assert "au plus 500 caractères" in content
    assert "x" * 501 in content
    assert not Reformulation.objects.exists()


def test_the_data_export_holds_my_reformulations(login, session, member):
    post(session, member)
    data = login(member).get(reverse("account_data_json")).json()
    assert [r["text"] for r in data["reformulations"]] == [UNDERSTOOD]
    markdown = login(member).get(reverse("account_data_markdown")).content.decode()
    assert UNDERSTOOD in markdown
