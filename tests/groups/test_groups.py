"""Groups: create, see, edit, remove a member, leave; French errors, escaping, query counts."""

import datetime as dt
import html

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from groups.models import Group, Invitation, Membership, Topic
from sessions.models import Participation, Session
from tests.conftest import add_member, make_user

SCRIPT = "<script>alert(1)</script>"
ESCAPED_SCRIPT = "&lt;script&gt;alert(1)&lt;/script&gt;"

# Measured on SQLite and PostgreSQL: the group page makes 11 queries and the
# home page 5, whatever the number of sessions (see the *_does_not_grow tests).
GROUP_PAGE_MAX_QUERIES = 13
HOME_PAGE_MAX_QUERIES = 7


def text(response):
    return html.unescape(response.content.decode())


def group_data(**overrides):
    data = {
        "name": "Managers du Nord",
        "description": "Des managers de proximité, un soir par mois.",
        "cadence_week": 3,
        "cadence_weekday": 3,
        "cadence_time": "19:30",
        "default_format": 90,
        "default_place": "Maison des associations, salle 4",
        "charter": "Confidentialité avant tout.",
        "creator_role": Membership.Role.FACILITATOR,
    }
    data.update(overrides)
    return data


def assert_redirects_to_sign_in(response):
    assert response.status_code == 302
    assert response.url.startswith(reverse("login") + "?next=")


def add_sessions(group, clients, count, *, created_by):
    """`count` sessions, half ahead and half behind, each with its client."""
    now = timezone.now()
    for n in range(count):
        offset = dt.timedelta(days=7 * (n // 2 + 1))
        session = Session.objects.create(
            group=group,
            scheduled_at=now + offset if n % 2 == 0 else now - offset,
            place=f"Salle {n}",
            created_by=created_by,
        )
        Participation.objects.create(
            session=session, user=clients[n % len(clients)], role=Participation.Role.CLIENT
        )


# Creating a group


def test_group_form_prefills_the_charter_with_the_four_rules(login, outsider):
    response = login(outsider).get(reverse("group_create"))

    assert response.status_code == 200
    charter = str(response.context["form"]["charter"].value())
    for rule in ["Confidentialité", "Bienveillance", "Parler vrai", "Engagement"]:
        assert rule in charter
        assert rule in text(response)


def test_member_creates_a_group_and_becomes_its_facilitator(login, outsider):
    response = login(outsider).post(reverse("group_create"), group_data())

    group = Group.objects.get(name="Managers du Nord")
    assert response.status_code == 302
    assert response.url == reverse("group_detail", args=[group.code])
    assert group.description == "Des managers de proximité, un soir par mois."
    assert (group.cadence_week, group.cadence_weekday) == (3, 3)
    assert group.cadence_time == dt.time(19, 30)
    assert group.default_format == 90
    assert group.default_place == "Maison des associations, salle 4"
    assert group.charter == "Confidentialité avant tout."
    assert group.created_by == outsider
    membership = Membership.objects.get(group=group)
    assert membership.user == outsider
    assert membership.role == Membership.Role.FACILITATOR
    assert membership.charter_accepted_at is not None


def test_creator_may_join_as_a_plain_member(login, outsider):
    login(outsider).post(reverse("group_create"), group_data(creator_role=Membership.Role.MEMBER))

    membership = Membership.objects.get(group__name="Managers du Nord", user=outsider)
    assert membership.role == Membership.Role.MEMBER


def test_empty_group_name_gives_a_french_error(login, outsider):
    response = login(outsider).post(reverse("group_create"), group_data(name=""))

    assert response.status_code == 200
    assert "Ce champ est obligatoire." in text(response)
    # What was typed elsewhere stays in the form.
    assert "Maison des associations, salle 4" in text(response)
    assert not Group.objects.exists()


def test_over_long_group_name_gives_a_french_error(login, outsider):
    response = login(outsider).post(reverse("group_create"), group_data(name="x" * 121))

    assert "au plus 120 caractères" in text(response)
    assert not Group.objects.exists()


def test_anonymous_create_group_redirects_to_sign_in(client, db):
    assert_redirects_to_sign_in(client.get(reverse("group_create")))
    assert_redirects_to_sign_in(client.post(reverse("group_create"), group_data()))
    assert not Group.objects.exists()


# The group page


def test_member_sees_the_group_page(login, member, group, planned_session):
    response = login(member).get(reverse("group_detail", args=[group.code]))

    assert response.status_code == 200
    content = text(response)
    assert "Groupe test" in content
    assert "Eva Quatre" in content
    # The next session with its place and its client.
    assert "Salle 2" in content
    assert "client : Camille Cliente" in content


def test_facilitator_sees_the_group_page(login, facilitator, group):
    response = login(facilitator).get(reverse("group_detail", args=[group.code]))

    assert response.status_code == 200


def test_stranger_gets_404_on_the_group_page(login, outsider, group):
    response = login(outsider).get(reverse("group_detail", args=[group.code]))

    assert response.status_code == 404
    assert "Groupe test" not in text(response)


def test_anonymous_group_page_redirects_to_sign_in(client, group):
    assert_redirects_to_sign_in(client.get(reverse("group_detail", args=[group.code])))


def test_group_page_under_five_members_asks_for_five_to_eight(login, member, client_user, group):
    group.memberships.get(user=client_user).delete()

    response = login(member).get(reverse("group_detail", args=[group.code]))

    assert group.memberships.members().count() == 4
    assert "5 à 8" in text(response)


def test_group_page_with_five_members_does_not_nag(login, member, group):
    response = login(member).get(reverse("group_detail", args=[group.code]))

    assert group.memberships.members().count() == 5
    assert "5 à 8" not in text(response)


# Editing


def test_any_member_edits_the_group(login, member, group):
    client = login(member)
    assert client.get(reverse("group_edit", args=[group.code])).status_code == 200

    response = client.post(
        reverse("group_edit", args=[group.code]), group_data(name="Groupe renommé")
    )

    assert response.status_code == 302
    assert response.url == reverse("group_detail", args=[group.code])
    group.refresh_from_db()
    assert group.name == "Groupe renommé"
    assert group.default_place == "Maison des associations, salle 4"


def test_edit_with_empty_name_gives_a_french_error(login, member, group):
    response = login(member).post(reverse("group_edit", args=[group.code]), group_data(name=""))

    assert response.status_code == 200
    assert "Ce champ est obligatoire." in text(response)
    group.refresh_from_db()
    assert group.name == "Groupe test"


def test_stranger_cannot_edit_the_group(login, outsider, group):
    client = login(outsider)

    assert client.get(reverse("group_edit", args=[group.code])).status_code == 404
    response = client.post(reverse("group_edit", args=[group.code]), group_data(name="Pris"))
    assert response.status_code == 404
    group.refresh_from_db()
    assert group.name == "Groupe test"


def test_anonymous_edit_redirects_to_sign_in(client, group):
    response = client.post(reverse("group_edit", args=[group.code]), group_data(name="Pris"))

    assert_redirects_to_sign_in(response)
    group.refresh_from_db()
    assert group.name == "Groupe test"


# Removing a member, leaving


def remove_url(group, user):
    return reverse("membership_remove", args=[group.code, group.memberships.get(user=user).code])


def test_facilitator_removes_a_member_after_confirming(login, facilitator, member, group):
    client = login(facilitator)
    url = remove_url(group, member)

    confirm = client.get(url)
    assert confirm.status_code == 200
    assert "Retirer Bruno Un du groupe ?" in text(confirm)
    assert Membership.objects.filter(group=group, user=member).exists()

    response = client.post(url)

    assert response.status_code == 302
    assert response.url == reverse("group_detail", args=[group.code])
    assert not Membership.objects.filter(group=group, user=member).exists()


def test_removed_member_no_longer_sees_the_group(login, facilitator, member, group):
    url = remove_url(group, member)
    login(facilitator).post(url)

    response = login(member).get(reverse("group_detail", args=[group.code]))

    assert response.status_code == 404


def test_plain_member_cannot_remove_another(login, member, client_user, group):
    url = remove_url(group, client_user)
    client = login(member)

    assert client.get(url).status_code == 403
    assert client.post(url).status_code == 403
    assert Membership.objects.filter(group=group, user=client_user).exists()


def test_stranger_cannot_remove_a_member(login, outsider, member, group):
    response = login(outsider).post(remove_url(group, member))

    assert response.status_code == 404
    assert Membership.objects.filter(group=group, user=member).exists()


def test_anonymous_remove_redirects_to_sign_in(client, member, group):
    response = client.post(remove_url(group, member))

    assert_redirects_to_sign_in(response)
    assert Membership.objects.filter(group=group, user=member).exists()


def test_only_the_facilitator_sees_the_remove_links(login, facilitator, member, group):
    link = remove_url(group, member)
    page = reverse("group_detail", args=[group.code])

    assert link in login(facilitator).get(page).content.decode()
    assert link not in login(member).get(page).content.decode()


def test_member_leaves_the_group(login, member, group):
    client = login(member)
    url = reverse("group_leave", args=[group.code])
    assert client.get(url).status_code == 200
    assert Membership.objects.filter(group=group, user=member).exists()

    response = client.post(url)

    assert response.status_code == 302
    assert response.url == reverse("home")
    assert not Membership.objects.filter(group=group, user=member).exists()
    assert client.get(reverse("group_detail", args=[group.code])).status_code == 404


def test_stranger_cannot_leave_a_group_they_are_not_in(login, outsider, group):
    assert login(outsider).post(reverse("group_leave", args=[group.code])).status_code == 404


def test_anonymous_leave_redirects_to_sign_in(client, group):
    assert_redirects_to_sign_in(client.post(reverse("group_leave", args=[group.code])))


# Escaping


def test_typed_text_is_escaped_on_group_pages(login, outsider):
    client = login(outsider)
    client.post(
        reverse("group_create"),
        group_data(name=SCRIPT, description=SCRIPT, charter=SCRIPT, default_place=SCRIPT),
    )
    group = Group.objects.get()
    Topic.objects.create(group=group, proposed_by=outsider, title=SCRIPT)
    Invitation.objects.create(group=group, invited_by=outsider, email="a@test.codev")

    for url in [
        reverse("group_detail", args=[group.code]),
        reverse("group_edit", args=[group.code]),
        reverse("group_leave", args=[group.code]),
        reverse("home"),
    ]:
        content = client.get(url).content.decode()
        assert SCRIPT not in content, url
        assert ESCAPED_SCRIPT in content, url


def test_member_name_is_escaped_on_the_group_page(login, facilitator, group):
    add_member(group, make_user(SCRIPT))

    content = login(facilitator).get(reverse("group_detail", args=[group.code])).content.decode()

    assert SCRIPT not in content
    assert ESCAPED_SCRIPT in content


# Query counts: the pages must not make one query per session or per member


def count_queries(client, url):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


@pytest.fixture
def full_group(group, consultants):
    """The group at its cap of 8 members, with topics and a pending invitation."""
    for name in ["Farid Cinq", "Gaëlle Six", "Hugo Sept"]:
        add_member(group, make_user(name))
    for user in consultants:
        Topic.objects.create(group=group, proposed_by=user, title=f"Sujet de {user.full_name}")
    Invitation.objects.create(group=group, invited_by=consultants[0], email="x@test.codev")
    return group


def test_group_page_with_eight_members_and_twenty_sessions_stays_within_bound(
    login, member, facilitator, full_group, django_assert_max_num_queries
):
    members = [m.user for m in full_group.memberships.members()]
    assert len(members) == 8
    add_sessions(full_group, members, 20, created_by=facilitator)
    client = login(member)

    with django_assert_max_num_queries(GROUP_PAGE_MAX_QUERIES):
        response = client.get(reverse("group_detail", args=[full_group.code]))

    assert response.status_code == 200
    assert len(response.context["upcoming_sessions"]) == 10
    assert len(response.context["past_sessions"]) == 10
    # Each session names its client: the count holds with the names shown.
    assert text(response).count("client : ") == 20


def test_group_page_query_count_does_not_grow_with_sessions(login, member, facilitator, full_group):
    members = [m.user for m in full_group.memberships.members()]
    client = login(member)
    url = reverse("group_detail", args=[full_group.code])
    add_sessions(full_group, members, 2, created_by=facilitator)
    with_two = count_queries(client, url)

    Session.objects.filter(group=full_group).delete()
    add_sessions(full_group, members, 20, created_by=facilitator)
    with_twenty = count_queries(client, url)

    assert with_two == with_twenty


@pytest.fixture
def three_groups(member, facilitator, group, consultants):
    """`member` belongs to three groups."""
    groups = [group]
    for name in ["Deuxième groupe", "Troisième groupe"]:
        other = Group.objects.create(name=name, created_by=facilitator)
        add_member(other, facilitator, Membership.Role.FACILITATOR)
        for user in consultants:
            add_member(other, user)
        groups.append(other)
    return groups


def test_home_page_for_three_groups_of_twenty_sessions_stays_within_bound(
    login, member, facilitator, consultants, three_groups, django_assert_max_num_queries
):
    for group in three_groups:
        add_sessions(group, consultants, 20, created_by=facilitator)
    client = login(member)

    with django_assert_max_num_queries(HOME_PAGE_MAX_QUERIES):
        response = client.get(reverse("home"))

    assert response.status_code == 200
    assert len(response.context["memberships"]) == 3


def test_home_page_query_count_does_not_grow_with_sessions(
    login, member, facilitator, consultants, three_groups
):
    client = login(member)
    for group in three_groups:
        add_sessions(group, consultants, 2, created_by=facilitator)
    with_two = count_queries(client, reverse("home"))

    Session.objects.all().delete()
    for group in three_groups:
        add_sessions(group, consultants, 20, created_by=facilitator)
    with_twenty = count_queries(client, reverse("home"))

    assert with_two == with_twenty
