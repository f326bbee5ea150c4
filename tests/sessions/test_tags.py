"""A client's tags belong to the person who made them, not to the client's role.

The facilitator may name another client during a session: the new client
starts untagged, and the one who tagged keeps their tags, in their carnet,
for them alone.
"""

import html

import pytest
from django.urls import reverse
from django.utils import timezone

from sessions import services
from sessions.models import Contribution, Session
from sessions.steps import Step
from tests.conftest import go_live


def text(response):
    return html.unescape(response.content.decode())


def tag(client, session, card, value):
    url = reverse("contribution_tag", args=[session.code, card.code])
    response = client.post(url, {"tag": value})
    assert response.status_code == 302
    return response


def rename_client(session, facilitator, new_client, everyone, *, new_facilitator=None):
    new_facilitator = new_facilitator or facilitator
    services.session_set_roles(
        session=session,
        by=facilitator,
        facilitator=new_facilitator,
        client=new_client,
        consultants=[user for user in everyone if user not in (new_facilitator, new_client)],
    )


def close(session):
    Session.objects.filter(pk=session.pk).update(
        status=Session.Status.CLOSED, step=Step.LEARNINGS, closed_at=timezone.now()
    )
    session.refresh_from_db()


@pytest.fixture
def everyone(facilitator, client_user, consultants):
    return [facilitator, client_user, *consultants]


@pytest.fixture
def session(planned_session):
    return go_live(planned_session, Step.CONTRIBUTIONS)


@pytest.fixture
def cards(session, consultants):
    return [
        Contribution.objects.create(session=session, author=consultants[2], text=f"Carte {i}")
        for i in range(2)
    ]


@pytest.fixture
def new_client(consultants):
    return consultants[1]


def test_a_new_client_sees_none_of_the_previous_clients_tags_on_the_live_page(
    login, session, cards, facilitator, client_user, new_client, everyone
):
    tag(login(client_user), session, cards[0], "keep")
    tag(login(client_user), session, cards[1], "not_now")

    rename_client(session, facilitator, new_client, everyone)
    content = text(login(new_client).get(reverse("session_detail", args=[session.code])))

    assert "Carte 0" in content
    assert "tag-keep" not in content
    assert "tag-not_now" not in content


def test_the_facilitator_cannot_read_tags_by_naming_themselves_client(
    login, session, cards, facilitator, client_user, consultants, everyone
):
    tag(login(client_user), session, cards[0], "keep")

    rename_client(session, facilitator, facilitator, everyone, new_facilitator=consultants[3])
    content = text(login(facilitator).get(reverse("session_detail", args=[session.code])))

    assert "Carte 0" in content
    assert "tag-keep" not in content


def test_a_new_clients_tag_does_not_overwrite_the_previous_clients(
    login, session, cards, facilitator, client_user, new_client, everyone
):
    tag(login(client_user), session, cards[0], "keep")
    rename_client(session, facilitator, new_client, everyone)

    tag(login(new_client), session, cards[0], "not_now")

    close(session)
    before = text(login(client_user).get(reverse("logbook")))
    after = text(login(new_client).get(reverse("logbook")))
    assert "je retiens" in before and "pas maintenant" not in before
    assert "pas maintenant" in after and "je retiens" not in after


def test_the_previous_client_keeps_their_tags_in_their_carnet_and_its_markdown(
    login, session, cards, facilitator, client_user, new_client, everyone
):
    tag(login(client_user), session, cards[0], "keep")
    rename_client(session, facilitator, new_client, everyone)
    close(session)

    page = text(login(client_user).get(reverse("logbook")))
    markdown = login(client_user).get(reverse("logbook_markdown")).content.decode()

    assert "Carte 0" in page and "je retiens" in page
    assert "[je retiens]" in markdown


def test_a_new_client_starts_untagged_in_their_carnet_and_its_markdown(
    login, session, cards, facilitator, client_user, new_client, everyone
):
    tag(login(client_user), session, cards[0], "keep")
    tag(login(client_user), session, cards[1], "explore")
    rename_client(session, facilitator, new_client, everyone)
    close(session)

    page = text(login(new_client).get(reverse("logbook")))
    markdown = login(new_client).get(reverse("logbook_markdown")).content.decode()

    assert "Carte 0" in page
    for word in ["je retiens", "à explorer", "tag-keep", "tag-explore"]:
        assert word not in page
        assert word not in markdown


def test_the_report_lists_as_kept_what_the_client_of_the_session_kept(
    login, session, cards, facilitator, client_user, new_client, everyone
):
    tag(login(client_user), session, cards[0], "keep")
    rename_client(session, facilitator, new_client, everyone)
    tag(login(new_client), session, cards[1], "keep")
    close(session)

    report = login(new_client).get(reverse("session_report", args=[session.code]))

    kept = [card.text for card in report.context["report"].kept]
    assert kept == ["Carte 1"]


def test_the_clients_own_data_export_holds_only_their_own_tags(
    login, session, facilitator, client_user, new_client, everyone
):
    # A card the future client wrote as a consultant, tagged by the first client.
    card = Contribution.objects.create(session=session, author=new_client, text="Ma carte")
    tag(login(client_user), session, card, "keep")
    rename_client(session, facilitator, new_client, everyone)

    data = login(new_client).get(reverse("account_data_json")).json()

    assert [c.get("tag") for c in data["contributions"]] == [None]
