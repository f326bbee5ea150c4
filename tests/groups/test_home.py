"""The home page: my groups, each with its next session."""

import datetime as dt
import html

from django.template.defaultfilters import date as date_filter
from django.urls import reverse
from django.utils import timezone, translation

from groups.models import Group, Membership
from sessions.models import Participation, Session
from tests.conftest import add_member


def text(response):
    return html.unescape(response.content.decode())


def as_shown(value):
    """A date the way the home page prints it, in French."""
    with translation.override("fr"):
        return date_filter(timezone.localtime(value), "l j F Y, H:i")


def test_home_lists_my_group_with_the_next_session(login, member, planned_session):
    response = login(member).get(reverse("home"))

    assert response.status_code == 200
    content = text(response)
    assert "Groupe test" in content
    assert as_shown(planned_session.scheduled_at) in content
    assert "Salle 2" in content
    assert "Client : Camille Cliente" in content


def test_home_shows_the_nearest_session_not_a_later_or_past_one(
    login, member, group, facilitator, planned_session
):
    later = Session.objects.create(
        group=group,
        scheduled_at=planned_session.scheduled_at + dt.timedelta(days=30),
        place="Salle du mois suivant",
        created_by=facilitator,
    )
    Session.objects.create(
        group=group,
        scheduled_at=timezone.now() - dt.timedelta(days=30),
        place="Salle du mois dernier",
        created_by=facilitator,
    )

    content = text(login(member).get(reverse("home")))

    assert as_shown(planned_session.scheduled_at) in content
    assert as_shown(later.scheduled_at) not in content
    assert "Salle du mois suivant" not in content
    assert "Salle du mois dernier" not in content


def test_home_says_when_the_client_is_not_chosen_yet(login, member, group, facilitator):
    Session.objects.create(
        group=group,
        scheduled_at=timezone.now() + dt.timedelta(days=10),
        place="Salle 5",
        created_by=facilitator,
    )

    content = text(login(member).get(reverse("home")))

    assert "Salle 5" in content
    assert "Client pas encore choisi" in content


def test_home_offers_to_plan_when_no_session_is_planned(login, member, group):
    response = login(member).get(reverse("home"))

    assert "Aucune séance planifiée." in text(response)
    assert reverse("session_plan", args=[group.code]) in response.content.decode()


def test_home_does_not_list_other_groups(login, member, planned_session, outsider, consultants):
    other = Group.objects.create(name="Groupe voisin", created_by=outsider)
    add_member(other, outsider, Membership.Role.FACILITATOR)
    session = Session.objects.create(
        group=other,
        scheduled_at=timezone.now() + dt.timedelta(days=3),
        place="Salle voisine",
        created_by=outsider,
    )
    Participation.objects.create(session=session, user=outsider, role=Participation.Role.CLIENT)

    content = text(login(member).get(reverse("home")))

    assert "Groupe test" in content
    assert "Groupe voisin" not in content
    assert "Salle voisine" not in content
    assert "Oscar Inconnu" not in content


def test_home_lists_every_group_i_belong_to(login, member, group, outsider):
    other = Group.objects.create(name="Groupe voisin", created_by=outsider)
    add_member(other, member)

    response = login(member).get(reverse("home"))

    assert [m.group.name for m in response.context["memberships"]] == [
        "Groupe test",
        "Groupe voisin",
    ]


def test_home_of_someone_without_groups_explains_how_to_join(login, outsider, group):
    content = text(login(outsider).get(reverse("home")))

    assert "Vous ne faites encore partie d'aucun groupe." in content
    assert "Groupe test" not in content


def test_anonymous_home_redirects_to_sign_in(client, db):
    response = client.get(reverse("home"))

    assert response.status_code == 302
    assert response.url.startswith(reverse("login") + "?next=")
