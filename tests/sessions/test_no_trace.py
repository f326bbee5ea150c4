"""Sessions « sans trace » (issue 13, part 3).

When planning, and until the closing, a session can be marked « sans trace ».
At its last step the client chooses what the group keeps: nothing but the
date and the roles, or also the demand and the action plan, or also the cards
they retained. At the closing everything else written in it is deleted for
good, in the database, the exports and the admin; each person keeps their own
learnings and private notes in their carnet.
"""

import datetime as dt
import html
import json

import pytest
from django.contrib.admin.models import ADDITION, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from groups.models import User
from sessions import services
from sessions.models import (
    ActionItem,
    Contribution,
    ContributionTag,
    DemandCheck,
    DemandVersion,
    Feedback,
    HandRaise,
    Learning,
    PrivateNote,
    Question,
    Reformulation,
    Session,
    Theme,
)
from sessions.roles import CLIENT, CONSULTANT, FACILITATOR, ROOM
from sessions.state import load_state, previous_actions, render_regions
from sessions.steps import Step
from tests.conftest import go_live, tag_card
from tests.shown import shown

HTMX = {"HX-Request": "true"}
QUESTION = "Depuis quand ton chef te parle-t-il ainsi ?"
REFORMULATION = "Tu veux tenir sans t'épuiser."
KEPT_CARD = "J'ai vécu la même chose : j'ai demandé un entretien."
OTHER_CARD = "Et si tu changeais d'équipe ?"
THEME_KEPT = "Parler franchement"
THEME_GONE = "Partir"
EXPOSE = "Mon chef me crie dessus en réunion"
DEMAND = "garder mon calme face à mon chef"
ACTION = "Demander un entretien à mon chef"
LEARNING = "Écouter avant de conseiller."
NOTE = "Penser à appeler Camille."
TEXTS_OF_OTHERS = (QUESTION, REFORMULATION, OTHER_CARD, THEME_GONE, EXPOSE)


def seen(session, audience):
    return html.unescape(shown(render_regions(load_state(session.pk, live=True), audience)))


@pytest.fixture
def written(planned_session, facilitator, client_user, consultants):
    """A session at its last step, with something of every kind in it."""
    session = go_live(planned_session, Step.LEARNINGS)
    Session.objects.filter(pk=session.pk).update(
        no_trace=True,
        expose_title=EXPOSE,
        expose_summary="Depuis trois mois.",
        demand_text=DEMAND,
        demand_validated_at=timezone.now(),
    )
    DemandVersion.objects.create(session=session, text=DEMAND, validated_at=timezone.now())
    member, other = consultants[0], consultants[1]
    Question.objects.create(session=session, author=member, text=QUESTION)
    Reformulation.objects.create(session=session, author=member, text=REFORMULATION)
    DemandCheck.objects.create(session=session, author=member, verdict="understood")
    kept_theme = Theme.objects.create(session=session, author=facilitator, name=THEME_KEPT)
    gone_theme = Theme.objects.create(session=session, author=facilitator, name=THEME_GONE)
    kept = Contribution.objects.create(
        session=session, author=member, text=KEPT_CARD, theme=kept_theme
    )
    other_card = Contribution.objects.create(
        session=session, author=other, text=OTHER_CARD, theme=gone_theme
    )
    tag_card(kept, client_user, ContributionTag.Tag.KEEP)
    tag_card(other_card, client_user, ContributionTag.Tag.EXPLORE)
    # A previous client's tag on the kept card is theirs, and goes.
    tag_card(kept, other, ContributionTag.Tag.NOT_NOW)
    ActionItem.objects.create(session=session, author=client_user, text=ACTION, contribution=kept)
    Learning.objects.create(session=session, author=member, text=LEARNING)
    Learning.objects.create(session=session, author=client_user, text="Oser dire non.")
    Feedback.objects.create(session=session, author=member, rating=4)
    PrivateNote.objects.create(session=session, author=member, text=NOTE)
    HandRaise.objects.create(session=session, author=other)
    session.refresh_from_db()
    return session


def close(session, facilitator, kept=None, client=None):
    if kept is not None:
        services.session_kept_set(session=session, by=client, kept=kept)
    services.session_close(session=session, by=facilitator)
    session.refresh_from_db()
    return session


# Marking it ------------------------------------------------------------------


def test_the_planning_form_offers_it_and_keeps_it(login, member, group):
    page = login(member).get(reverse("session_plan", args=[group.code])).content.decode()
    assert 'name="no_trace"' in page
    assert "séance sans trace" in page.lower()

    when = timezone.localtime(timezone.now() + dt.timedelta(days=20))
    response = login(member).post(
        reverse("session_plan", args=[group.code]),
        {
            "scheduled_at": when.strftime("%Y-%m-%dT%H:%M"),
            "place": "Salle 1",
            "format_minutes": "120",
            "timer": "everyone",
            "no_trace": "on",
        },
    )
    assert response.status_code == 302
    assert Session.objects.get(place="Salle 1").no_trace


def test_any_member_marks_it_before_the_start(login, planned_session, member):
    url = reverse("session_no_trace", args=[planned_session.code])
    assert login(member).post(url, {"no_trace": "1"}, headers=HTMX).status_code == 204
    planned_session.refresh_from_db()
    assert planned_session.no_trace
    for audience in (CONSULTANT, CLIENT, FACILITATOR, ROOM):
        assert "Séance sans trace" in seen(planned_session, audience), audience

    assert login(member).post(url, {"no_trace": "0"}, headers=HTMX).status_code == 204
    planned_session.refresh_from_db()
    assert not planned_session.no_trace


def test_once_it_runs_the_facilitator_or_the_client_marks_it(
    planned_session, facilitator, client_user, member
):
    go_live(planned_session, Step.CLARIFICATION)
    with pytest.raises(PermissionDenied):
        services.session_no_trace_set(session=planned_session, by=member, no_trace=True)
    services.session_no_trace_set(session=planned_session, by=client_user, no_trace=True)
    assert Session.objects.get(pk=planned_session.pk).no_trace
    services.session_no_trace_set(session=planned_session, by=facilitator, no_trace=False)
    assert not Session.objects.get(pk=planned_session.pk).no_trace


def test_the_switch_is_on_the_screens_that_may_use_it(planned_session):
    go_live(planned_session, Step.EXPOSE)
    assert 'data-testid="no-trace-toggle"' in seen(planned_session, FACILITATOR)
    assert 'data-testid="no-trace-toggle"' in seen(planned_session, CLIENT)
    assert 'data-testid="no-trace-toggle"' not in seen(planned_session, CONSULTANT)
    assert 'data-testid="no-trace-toggle"' not in seen(planned_session, ROOM)


def test_a_closed_session_cannot_be_marked_any_more(login, planned_session, facilitator):
    Session.objects.filter(pk=planned_session.pk).update(
        status=Session.Status.CLOSED, closed_at=timezone.now()
    )
    url = reverse("session_no_trace", args=[planned_session.code])
    response = login(facilitator).post(url, {"no_trace": "1"}, headers=HTMX)
    assert response.status_code == 400
    assert "ce qu'elle garde est déjà décidé" in html.unescape(response.content.decode())
    assert not Session.objects.get(pk=planned_session.pk).no_trace


@pytest.mark.parametrize("value", ["", "2", "oui", "<b>x</b>"])
def test_a_forged_switch_is_refused_in_french(login, planned_session, facilitator, value):
    url = reverse("session_no_trace", args=[planned_session.code])
    response = login(facilitator).post(url, {"no_trace": value}, headers=HTMX)
    assert response.status_code == 400
    assert "<b>x</b>" not in response.content.decode()
    assert not Session.objects.get(pk=planned_session.pk).no_trace


def test_an_outsider_gets_404(login, planned_session, outsider):
    for name in ("session_no_trace", "session_kept"):
        url = reverse(name, args=[planned_session.code])
        assert login(outsider).post(url, {"no_trace": "1", "kept": "cards"}).status_code == 404
    assert not Session.objects.get(pk=planned_session.pk).no_trace


# The client's choice -----------------------------------------------------------


def test_the_client_chooses_at_the_last_step_and_every_screen_reads_it(login, written, client_user):
    assert 'name="kept"' in seen(written, CLIENT)
    for audience in (CONSULTANT, FACILITATOR):
        assert 'name="kept"' not in seen(written, audience)

    url = reverse("session_kept", args=[written.code])
    assert login(client_user).post(url, {"kept": "contract"}, headers=HTMX).status_code == 204
    written.refresh_from_db()
    assert written.kept == Session.Kept.CONTRACT
    for audience in (CONSULTANT, FACILITATOR, ROOM):
        assert "pour l'instant : la demande et le plan d'action" in seen(written, audience)
    # The facilitator's closing asks with what will be kept.
    assert "le groupe gardera la demande et le plan d'action" in seen(written, FACILITATOR)


@pytest.mark.parametrize("who", ["facilitator", "member"])
def test_only_the_client_chooses(request, written, who):
    with pytest.raises(PermissionDenied):
        services.session_kept_set(session=written, by=request.getfixturevalue(who), kept="cards")
    assert Session.objects.get(pk=written.pk).kept == Session.Kept.NOTHING


def test_the_choice_waits_for_the_last_step(written, client_user):
    Session.objects.filter(pk=written.pk).update(step=Step.ACTION_PLAN)
    with pytest.raises(ValidationError, match="Ce n'est pas le moment"):
        services.session_kept_set(session=written, by=client_user, kept="cards")


def test_a_session_with_a_trace_has_no_choice_to_make(written, client_user):
    Session.objects.filter(pk=written.pk).update(no_trace=False)
    assert 'name="kept"' not in seen(written, CLIENT)
    with pytest.raises(ValidationError, match="pas « sans trace »"):
        services.session_kept_set(session=written, by=client_user, kept="cards")


def test_a_forged_choice_is_refused_in_french(login, written, client_user):
    url = reverse("session_kept", args=[written.code])
    response = login(client_user).post(url, {"kept": "everything"}, headers=HTMX)
    assert response.status_code == 400
    assert "Sélectionnez un choix valide" in html.unescape(response.content.decode())
    assert Session.objects.get(pk=written.pk).kept == Session.Kept.NOTHING


# The closing -------------------------------------------------------------------


def _left(session):
    return {
        "questions": Question.objects.filter(session=session).count(),
        "reformulations": Reformulation.objects.filter(session=session).count(),
        "checks": DemandCheck.objects.filter(session=session).count(),
        "hands": HandRaise.objects.filter(session=session).count(),
        "cards": sorted(
            Contribution.objects.filter(session=session).values_list("text", flat=True)
        ),
        "themes": sorted(Theme.objects.filter(session=session).values_list("name", flat=True)),
        "versions": DemandVersion.objects.filter(session=session).count(),
    }


def test_keeping_nothing_keeps_the_date_the_roles_and_each_ones_own(
    written, facilitator, member, client_user
):
    participations = sorted(written.participations.values_list("user_id", "role"))
    session = close(written, facilitator)

    assert session.is_closed
    assert _left(session) == {
        "questions": 0,
        "reformulations": 0,
        "checks": 0,
        "hands": 0,
        "cards": [],
        "themes": [],
        "versions": 0,
    }
    assert (session.expose_title, session.expose_summary, session.demand_text) == ("", "", "")
    assert session.demand_validated_at is None
    assert sorted(session.participations.values_list("user_id", "role")) == participations
    assert not ContributionTag.objects.exists()
    # Each person's own stays theirs.
    assert Learning.objects.filter(session=session, author=member).get().text == LEARNING
    assert PrivateNote.objects.get(author=member).text == NOTE
    assert Feedback.objects.get(author=member).rating == 4
    action = ActionItem.objects.get(session=session)
    assert (action.author, action.text, action.contribution) == (client_user, ACTION, None)


def test_keeping_the_contract_keeps_the_demand_and_the_plan(written, facilitator, client_user):
    session = close(written, facilitator, kept="contract", client=client_user)

    assert session.demand_text == DEMAND
    assert session.demand_validated_at is not None
    assert _left(session)["versions"] == 1
    assert _left(session)["cards"] == [] and _left(session)["themes"] == []
    assert session.expose_title == ""
    assert ActionItem.objects.filter(session=session, text=ACTION).exists()


def test_keeping_the_cards_keeps_those_the_client_retained_and_their_theme(
    written, facilitator, client_user, consultants
):
    session = close(written, facilitator, kept="cards", client=client_user)

    left = _left(session)
    assert left["cards"] == [KEPT_CARD]
    assert left["themes"] == [THEME_KEPT]
    assert left["questions"] == left["reformulations"] == left["checks"] == 0
    kept = Contribution.objects.get()
    # The client's own tag stays, the previous client's goes.
    assert list(ContributionTag.objects.values_list("user_id", "tag")) == [
        (client_user.pk, ContributionTag.Tag.KEEP)
    ]
    assert ActionItem.objects.get().contribution == kept


def test_a_session_with_a_trace_keeps_everything(written, facilitator):
    Session.objects.filter(pk=written.pk).update(no_trace=False)
    session = close(written, facilitator)
    assert _left(session)["questions"] == 1
    assert len(_left(session)["cards"]) == 2
    assert session.expose_title == EXPOSE


def test_the_closing_reads_the_switch_as_it_is_then(written, facilitator, client_user):
    """The session object given is older than the switch: the row decides."""
    stale = Session.objects.get(pk=written.pk)
    services.session_no_trace_set(session=written, by=client_user, no_trace=False)
    session = close(stale, facilitator)
    assert _left(session)["questions"] == 1


def _more_cards(session, author, count):
    Contribution.objects.bulk_create(
        Contribution(session=session, author=author, text=f"carte {n}") for n in range(count)
    )
    Question.objects.bulk_create(
        Question(session=session, author=author, text=f"question {n}") for n in range(count)
    )


@pytest.mark.parametrize("cards", [1, 40])
def test_the_erasing_costs_the_same_whatever_the_session_holds(
    written, facilitator, client_user, member, cards, django_assert_max_num_queries
):
    _more_cards(written, member, cards)
    services.session_kept_set(session=written, by=client_user, kept="cards")
    ContentType.objects.clear_cache()
    with django_assert_max_num_queries(28):
        services.session_close(session=written, by=facilitator)
    assert _left(written)["cards"] == [KEPT_CARD]


def test_the_admin_log_forgets_what_was_erased(written, facilitator, member):
    admin = User.objects.create_superuser(email="ada@test.codev", password="x", full_name="Ada")
    question = Question.objects.get(session=written)
    learning = Learning.objects.get(session=written, author=member)
    for obj in (question, learning):
        LogEntry.objects.log_actions(admin.pk, [obj], ADDITION)
    close(written, facilitator)

    question_type = ContentType.objects.get_for_model(Question)
    assert not LogEntry.objects.filter(content_type=question_type).exists()
    assert not LogEntry.objects.filter(object_repr__contains=QUESTION[:30]).exists()
    # A learning stays, and so does what the log says of it.
    assert LogEntry.objects.filter(object_id=str(learning.pk)).exists()


# What the trace shows ------------------------------------------------------------


def test_the_report_says_sans_trace_and_what_was_kept(login, written, facilitator, member):
    close(written, facilitator)
    page = html.unescape(
        login(member).get(reverse("session_report", args=[written.code])).content.decode()
    )
    assert "Séance sans trace" in page
    assert "Cette séance était une séance sans trace." in page
    assert "Le groupe a gardé : rien que la date et les rôles." in page
    for text in (*TEXTS_OF_OTHERS, KEPT_CARD, DEMAND, ACTION, LEARNING):
        assert text not in page
    # The roles are kept.
    assert member.full_name in page

    markdown = login(member).get(reverse("session_report_markdown", args=[written.code]))
    text = markdown.content.decode()
    assert "## Séance sans trace" in text
    for typed in (*TEXTS_OF_OTHERS, KEPT_CARD, DEMAND, ACTION, LEARNING):
        assert typed not in text


def test_the_report_of_kept_cards_shows_them_and_the_plan(
    login, written, facilitator, client_user, member
):
    close(written, facilitator, kept="cards", client=client_user)
    page = html.unescape(
        login(member).get(reverse("session_report", args=[written.code])).content.decode()
    )
    assert "Le groupe a gardé : la demande, le plan d'action et les contributions retenues" in page
    for text in (KEPT_CARD, THEME_KEPT, DEMAND, ACTION):
        assert text in page
    for text in (*TEXTS_OF_OTHERS, LEARNING):
        assert text not in page
    # The client's switch to show the other cards has nothing left to show.
    client_page = login(client_user).get(reverse("session_report", args=[written.code]))
    assert "Montrer aussi les cartes non retenues" not in html.unescape(
        client_page.content.decode()
    )


def test_the_summary_shows_each_their_own_learnings(login, written, facilitator, member):
    close(written, facilitator)
    page = html.unescape(
        login(member).get(reverse("session_detail", args=[written.code])).content.decode()
    )
    assert "Séance sans trace" in page
    assert LEARNING in page
    assert "Oser dire non." not in page
    assert ACTION not in page


def test_the_exports_hold_nothing_erased(login, written, facilitator, member, client_user):
    close(written, facilitator)
    data = login(member).get(reverse("account_data_json")).content.decode()
    assert LEARNING in json.dumps(json.loads(data), ensure_ascii=False)
    for text in (QUESTION, REFORMULATION, KEPT_CARD, OTHER_CARD):
        assert text not in data
    assert NOTE in data
    carnet = login(client_user).get(reverse("logbook_markdown")).content.decode()
    for text in (*TEXTS_OF_OTHERS, DEMAND):
        assert text not in carnet
    assert ACTION in carnet


def test_the_admin_shows_nothing_erased(client, written, facilitator):
    close(written, facilitator)
    admin = User.objects.create_superuser(email="ada@test.codev", password="x", full_name="Ada")
    client.force_login(admin)
    for name in ("question", "contribution"):
        page = client.get(reverse(f"admin:codev_sessions_{name}_changelist")).content.decode()
        for text in (QUESTION, KEPT_CARD, OTHER_CARD):
            assert html.escape(text) not in page and text not in page
    page = client.get(reverse("admin:codev_sessions_session_change", args=[written.pk]))
    content = html.unescape(page.content.decode())
    assert EXPOSE not in content and DEMAND not in content
    # The switch and the choice are read-only there.
    assert 'name="no_trace"' not in content and 'name="kept"' not in content
    assert "rien que la date et les rôles" in content


def test_the_next_retour_reads_the_plan_only_if_the_group_kept_it(
    written, facilitator, client_user, group
):
    close(written, facilitator)
    following = Session.objects.create(
        group=group, scheduled_at=written.scheduled_at + dt.timedelta(days=30)
    )
    assert previous_actions(following) == []

    Session.objects.filter(pk=written.pk).update(kept=Session.Kept.CONTRACT)
    assert [action.text for action in previous_actions(following)] == [ACTION]


def test_each_finds_their_own_learnings_and_notes_in_their_carnet(
    login, written, facilitator, member, client_user
):
    close(written, facilitator)
    mine = html.unescape(login(member).get(reverse("logbook")).content.decode())
    assert LEARNING in mine and NOTE in mine
    theirs = html.unescape(login(client_user).get(reverse("logbook")).content.decode())
    assert LEARNING not in theirs and NOTE not in theirs
    assert "Oser dire non." in theirs and ACTION in theirs


def test_the_carnet_marks_the_session_sans_trace(login, written, facilitator, member):
    close(written, facilitator)
    browser = login(member)
    page = browser.get(reverse("logbook")).content.decode()
    assert '<span class="badge no-trace">sans trace</span>' in page
    markdown = browser.get(reverse("logbook_markdown")).content.decode()
    heading = next(line for line in markdown.splitlines() if line.startswith("## "))
    assert heading.endswith(") · sans trace")
