"""What is said in a session stays with those who were there.

A member who joined the group after a session was held learns that it took
place (its date, its client, its rating, in the group's history) but not
what was said: no report, no Markdown, no summary with its demand and plan.
The « retour » at step 0 is the exception the method makes: the previous
client tells the group as it is now how their plan went.
"""

import datetime as dt
import html

import pytest
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import date_format

from groups.models import Membership
from sessions.models import ActionItem, Contribution, Feedback, Learning, Session
from sessions.steps import Step
from tests.conftest import add_member, go_live, make_user, tag_card

TITLE = "Dire non à ma direction"
DEMAND = "refuser un troisième projet sans me griller"
CARD = "Carte gardée par la cliente"
ACTION = "Préparer un tableau de charge"
LEARNING = "Dire non, c'est choisir"
CONTENT = [TITLE, DEMAND, CARD, ACTION, LEARNING]


def text(response):
    return html.unescape(response.content.decode())


def held_on(session):
    """The session's date as the pages write it: « 13 octobre 2026 »."""
    with translation.override("fr"):
        return date_format(timezone.localtime(session.scheduled_at), "j F Y")


@pytest.fixture
def held():
    # Relative to now, whatever day the tests run: about two months ago, 18:00.
    day = timezone.localdate() - dt.timedelta(days=60)
    return timezone.make_aware(dt.datetime.combine(day, dt.time(18, 0)))


@pytest.fixture
def past(planned_session, client_user, consultants, facilitator, held):
    """A session held two months ago, closed after two hours, with something of everything."""
    session = planned_session
    Session.objects.filter(pk=session.pk).update(
        status=Session.Status.CLOSED,
        step=Step.LEARNINGS,
        scheduled_at=held,
        started_at=held,
        closed_at=held + dt.timedelta(hours=2),
        expose_title=TITLE,
        demand_text=DEMAND,
        demand_validated_at=held + dt.timedelta(minutes=40),
        report_all_cards=True,
    )
    session.refresh_from_db()
    card = Contribution.objects.create(session=session, author=consultants[0], text=CARD)
    tag_card(card, client_user, "keep")
    ActionItem.objects.create(session=session, author=client_user, text=ACTION)
    Learning.objects.create(session=session, author=consultants[0], text=LEARNING)
    Feedback.objects.create(session=session, author=facilitator, rating=4)
    # Everyone of the fixtures had joined by then.
    Membership.objects.filter(group=session.group).update(joined_at=held - dt.timedelta(days=90))
    return session


@pytest.fixture
def newcomer(group):
    person = make_user("Nina Nouvelle")
    add_member(group, person)  # joins today, weeks after the session
    return person


@pytest.fixture
def there_without_a_role(group, held):
    """A member of the day whom nobody named: the app counted her a consultant."""
    person = make_user("Olga Ancienne")
    membership = add_member(group, person)
    Membership.objects.filter(pk=membership.pk).update(joined_at=held - dt.timedelta(days=1))
    return person


def report(client, session):
    return client.get(reverse("session_report", args=[session.code]))


def report_markdown(client, session):
    return client.get(reverse("session_report_markdown", args=[session.code]))


def summary(client, session):
    return client.get(reverse("session_detail", args=[session.code]))


@pytest.mark.parametrize("page", [report, report_markdown, summary])
def test_a_member_who_joined_after_the_session_reads_none_of_its_content(
    login, past, newcomer, page
):
    response = page(login(newcomer), past)

    assert response.status_code == 403
    content = text(response)
    for said in [*CONTENT, "je retiens"]:
        assert said not in content
    assert "Vous avez rejoint le groupe après cette séance" in content
    assert held_on(past) in content


@pytest.mark.parametrize("page", [report, report_markdown, summary])
def test_a_member_of_the_day_without_a_role_reads_the_session(
    login, past, there_without_a_role, page
):
    response = page(login(there_without_a_role), past)

    assert response.status_code == 200
    assert ACTION in text(response)


@pytest.mark.parametrize("page", [report, report_markdown, summary])
def test_a_participant_who_left_and_joined_again_still_reads_the_session(
    login, past, group, member, page
):
    Membership.objects.filter(group=group, user=member).delete()
    add_member(group, member)  # back today: a new membership, the old participation

    response = page(login(member), past)

    assert response.status_code == 200
    assert ACTION in text(response)


def test_the_summary_does_not_list_a_newcomer_among_those_who_were_there(
    login, past, newcomer, there_without_a_role, member
):
    content = text(summary(login(member), past))

    assert there_without_a_role.full_name in content
    assert newcomer.full_name not in content


def test_someone_who_joined_during_the_session_was_there(login, past, newcomer, held):
    Membership.objects.filter(user=newcomer).update(joined_at=held + dt.timedelta(minutes=30))

    assert report(login(newcomer), past).status_code == 200


def test_the_history_shows_a_newcomer_that_the_session_happened_without_its_report(
    login, past, newcomer, client_user
):
    content = text(login(newcomer).get(reverse("group_history", args=[past.group.code])))

    assert held_on(past) in content
    assert f"client : {client_user.full_name}" in content
    assert "4,0 / 5" in content
    assert reverse("session_report", args=[past.code]) not in content
    for said in CONTENT:
        assert said not in content


def test_the_group_page_lists_a_session_before_the_newcomer_without_a_link(
    login, past, newcomer, there_without_a_role
):
    url = reverse("group_detail", args=[past.group.code])
    session_page = reverse("session_detail", args=[past.code])

    content = text(login(newcomer).get(url))
    assert held_on(past) in content and "avant votre arrivée" in content
    assert session_page not in content

    assert session_page in text(login(there_without_a_role).get(url))


def test_the_history_links_the_report_for_those_who_were_there(login, past, there_without_a_role):
    content = text(
        login(there_without_a_role).get(reverse("group_history", args=[past.group.code]))
    )

    assert reverse("session_report", args=[past.code]) in content


def test_a_newcomers_carnet_and_data_hold_nothing_of_the_session(login, past, newcomer):
    client = login(newcomer)

    pages = [
        text(client.get(reverse("logbook"))),
        client.get(reverse("logbook_markdown")).content.decode(),
        client.get(reverse("account_data_json")).content.decode(),
        client.get(reverse("account_data_markdown")).content.decode(),
    ]

    for content in pages:
        for said in CONTENT:
            assert said not in content


def test_the_retour_shows_a_newcomer_the_previous_plan_as_the_client_tells_it(
    login, past, newcomer, group, facilitator, held
):
    # The method: at the next session the previous client tells the group, as
    # it is now, how their plan went; the newcomer is in the room.
    following = Session.objects.create(
        group=group, scheduled_at=held + dt.timedelta(days=28), created_by=facilitator
    )
    go_live(following, Step.RETOUR, include_retour=True)

    content = text(summary(login(newcomer), following))

    assert ACTION in content
    for said in [TITLE, DEMAND, CARD, LEARNING]:
        assert said not in content
