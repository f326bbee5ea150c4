"""The private iCalendar feed: my groups' sessions, names only, revocable."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar

from groups.models import CalendarFeed, Group, Membership, Topic
from sessions.models import Participation, Session
from tests.conftest import add_member


def feed_url(user):
    feed, _created = CalendarFeed.objects.get_or_create(user=user)
    return reverse("calendar_feed", args=[feed.token])


def events(response):
    return Calendar.from_ical(response.content).walk("VEVENT")


@pytest.fixture
def other_group(outsider):
    """A group `member` is not in, with a session of its own."""
    other = Group.objects.create(name="Groupe voisin", created_by=outsider)
    add_member(other, outsider, Membership.Role.FACILITATOR)
    Session.objects.create(
        group=other, scheduled_at=timezone.now() + dt.timedelta(days=3), place="Salle voisine"
    )
    return other


def test_feed_lists_the_sessions_of_my_groups_only(client, member, planned_session, other_group):
    response = client.get(feed_url(member))

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    [event] = events(response)
    assert event.decoded("dtstart") == planned_session.scheduled_at.replace(microsecond=0)
    assert event.decoded("dtend") == planned_session.ends_at.replace(microsecond=0)
    assert "Groupe test" in str(event["summary"])
    assert "Groupe voisin" not in response.content.decode()


def test_feed_lists_sessions_from_every_group_i_belong_to(
    client, outsider, planned_session, other_group
):
    add_member(planned_session.group, outsider)

    summaries = sorted(str(event["summary"]) for event in events(client.get(feed_url(outsider))))

    assert len(summaries) == 2
    assert any("Groupe test" in summary for summary in summaries)
    assert any("Groupe voisin" in summary for summary in summaries)


def test_feed_never_names_the_client_or_the_topic(client, member, client_user, planned_session):
    planned_session.topic = Topic.objects.create(
        group=planned_session.group, proposed_by=client_user, title="Conflit avec mon directeur"
    )
    planned_session.save()

    response = client.get(feed_url(member))

    [event] = events(response)
    summary = str(event["summary"])
    assert "Groupe test" in summary
    # Unfold the iCalendar lines before searching the whole feed.
    body = response.content.decode().replace("\r\n ", "")
    for secret in ["Conflit avec mon directeur", "Camille", "Cliente"]:
        assert secret not in summary
        assert secret not in body


def test_feed_of_a_user_without_groups_is_empty(client, outsider, planned_session):
    response = client.get(feed_url(outsider))

    assert response.status_code == 200
    assert events(response) == []


def test_unknown_feed_token_is_404(client, db):
    assert client.get(reverse("calendar_feed", args=["pas-un-jeton"])).status_code == 404


def test_account_page_shows_the_feed_url(login, member):
    response = login(member).get(reverse("account"))

    assert response.status_code == 200
    token = CalendarFeed.objects.get(user=member).token
    assert f"http://testserver/calendar/{token}.ics" in response.content.decode()


def test_account_page_keeps_the_same_feed_url(login, member):
    client = login(member)
    client.get(reverse("account"))
    client.get(reverse("account"))

    assert CalendarFeed.objects.filter(user=member).count() == 1


def test_revoking_changes_the_token_and_the_old_url_stops(login, member, planned_session):
    client = login(member)
    client.get(reverse("account"))
    old_url = feed_url(member)

    response = client.post(reverse("calendar_feed_revoke"))

    assert response.status_code == 302
    assert response.url == reverse("account")
    new_url = feed_url(member)
    assert new_url != old_url
    assert client.get(old_url).status_code == 404
    assert client.get(new_url).status_code == 200
    assert new_url in client.get(reverse("account")).content.decode()


def test_revoking_needs_a_post(login, member):
    client = login(member)
    old_url = feed_url(member)

    assert client.get(reverse("calendar_feed_revoke")).status_code == 405
    assert feed_url(member) == old_url


def test_anonymous_account_and_revoke_redirect_to_sign_in(client, member):
    old_url = feed_url(member)

    for response in [client.get(reverse("account")), client.post(reverse("calendar_feed_revoke"))]:
        assert response.status_code == 302
        assert response.url.startswith(reverse("login") + "?next=")
    assert feed_url(member) == old_url


def test_feed_stops_listing_a_group_i_left(client, member, planned_session):
    Membership.objects.get(group=planned_session.group, user=member).delete()

    assert events(client.get(feed_url(member))) == []


def test_feed_lists_a_session_even_when_i_have_no_role_in_it(client, member, group, facilitator):
    session = Session.objects.create(
        group=group, scheduled_at=timezone.now() + dt.timedelta(days=40), created_by=facilitator
    )
    assert not Participation.objects.filter(session=session).exists()

    assert len(events(client.get(feed_url(member)))) == 1
