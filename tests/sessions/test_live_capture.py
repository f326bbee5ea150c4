"""What each step captures, and who may write it when: the server decides,
whatever the page shows.

Renders are checked per audience with `load_state` + `render_regions`, the
same HTML the broadcast sends to each screen.
"""

import datetime as dt
import html
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from sessions.models import (
    ActionItem,
    Contribution,
    ContributionTag,
    DemandCheck,
    Feedback,
    HandRaise,
    Learning,
    PrivateNote,
    Question,
    Session,
)
from sessions.roles import CLIENT, CONSULTANT, FACILITATOR
from sessions.state import load_state, render_all_audiences, render_regions
from sessions.steps import Step
from tests.conftest import go_live, tag_card, tag_of
from tests.shown import shown

HTMX = {"HX-Request": "true"}
SCRIPT = "<script>alert(1)</script>"
ESCAPED_SCRIPT = "&lt;script&gt;alert(1)&lt;/script&gt;"
AUDIENCES = [FACILITATOR, CLIENT, CONSULTANT]


def text(response):
    return html.unescape(response.content.decode())


def url(name, session, *args):
    return reverse(name, args=[session.code, *args])


def render_for(session, audience):
    """What `audience` sees of the live page now (tests.shown)."""
    return html.unescape(shown(render_regions(load_state(session.pk), audience)))


def version_of(session):
    return Session.objects.values_list("version", flat=True).get(pk=session.pk)


def kept_text(content):
    """The typed text the flash region hands back when a post is refused."""
    match = re.search(
        r'<textarea readonly rows="3" class="kept-text">(.*?)</textarea>', content, re.S
    )
    return match and match.group(1)


@pytest.fixture
def other_member(consultants):
    return consultants[1]


# 1. Exposé


@pytest.mark.parametrize("who", ["client_user", "facilitator"])
def test_client_or_facilitator_writes_the_expose(request, login, planned_session, member, who):
    go_live(planned_session, Step.EXPOSE)
    data = {"title": "Un chef absent", "summary": "Mon responsable ne répond plus."}

    response = login(request.getfixturevalue(who)).post(url("expose_save", planned_session), data)

    assert response.status_code == 302
    planned_session.refresh_from_db()
    assert planned_session.expose_title == "Un chef absent"
    assert planned_session.expose_summary == "Mon responsable ne répond plus."
    assert planned_session.version == 1
    assert "Un chef absent" in render_for(planned_session, CONSULTANT)


def test_consultant_cannot_write_the_expose(login, member, planned_session):
    go_live(planned_session, Step.EXPOSE)

    response = login(member).post(url("expose_save", planned_session), {"title": "Pas moi"})

    assert response.status_code == 403
    planned_session.refresh_from_db()
    assert planned_session.expose_title == ""
    assert planned_session.version == 0


def test_expose_after_its_step_is_refused_in_french(login, client_user, planned_session):
    go_live(planned_session, Step.CLARIFICATION)

    response = login(client_user).post(
        url("expose_save", planned_session), {"title": "Trop tard"}, headers=HTMX
    )

    assert response.status_code == 400
    assert "Ce n'est pas le moment : cela se fait à l'étape Exposé." in text(response)
    planned_session.refresh_from_db()
    assert planned_session.expose_title == ""


def test_over_long_expose_title_gives_a_french_error(login, client_user, planned_session):
    go_live(planned_session, Step.EXPOSE)

    response = login(client_user).post(
        url("expose_save", planned_session), {"title": "t" * 141}, headers=HTMX
    )

    assert response.status_code == 400
    assert "au plus 140 caractères (actuellement 141)" in text(response)
    assert "t" * 141 in text(response)
    planned_session.refresh_from_db()
    assert planned_session.expose_title == ""


# 2. Clarification


@pytest.mark.parametrize(
    ("kind", "badge"), [("fact", "question factuelle"), ("feeling", "ressenti")]
)
def test_consultant_posts_a_question_or_a_feeling(login, member, planned_session, kind, badge):
    go_live(planned_session, Step.CLARIFICATION)

    response = login(member).post(
        url("question_post", planned_session), {"kind": kind, "text": "Depuis quand ?"}
    )

    assert response.status_code == 302
    question = Question.objects.get(session=planned_session)
    assert (question.kind, question.text, question.author) == (kind, "Depuis quand ?", member)
    assert version_of(planned_session) == 1
    client_screen = render_for(planned_session, CLIENT)
    assert "Depuis quand ?" in client_screen
    assert f'<span class="badge">{badge}</span>' in client_screen


@pytest.mark.parametrize("who", ["client_user", "facilitator"])
def test_client_or_facilitator_cannot_post_a_question(request, login, planned_session, who):
    go_live(planned_session, Step.CLARIFICATION)

    response = login(request.getfixturevalue(who)).post(
        url("question_post", planned_session), {"kind": "fact", "text": "Moi aussi ?"}
    )

    assert response.status_code == 403
    assert not Question.objects.exists()
    assert version_of(planned_session) == 0


def test_client_marks_a_question_answered(login, client_user, member, planned_session):
    go_live(planned_session, Step.CLARIFICATION)
    question = Question.objects.create(session=planned_session, author=member, text="Combien ?")
    mark_url = url("question_mark", planned_session, question.code)
    client = login(client_user)

    response = client.post(mark_url, {"flag": "answered", "value": "on"})

    assert response.status_code == 302
    question.refresh_from_db()
    assert question.answered is True
    assert "répondu" in render_for(planned_session, CONSULTANT)

    # The same button without `value` takes it back.
    client.post(mark_url, {"flag": "answered"})
    question.refresh_from_db()
    assert question.answered is False
    assert version_of(planned_session) == 2


@pytest.mark.parametrize("who", ["member", "facilitator"])
def test_only_the_client_marks_a_question_answered(request, login, member, planned_session, who):
    go_live(planned_session, Step.CLARIFICATION)
    question = Question.objects.create(session=planned_session, author=member, text="Combien ?")

    response = login(request.getfixturevalue(who)).post(
        url("question_mark", planned_session, question.code), {"flag": "answered", "value": "on"}
    )

    assert response.status_code == 403
    question.refresh_from_db()
    assert question.answered is False


def test_facilitator_hides_a_question_from_the_others(login, facilitator, member, planned_session):
    go_live(planned_session, Step.CLARIFICATION)
    question = Question.objects.create(
        session=planned_session, author=member, text="Et si vous démissionniez ?"
    )

    response = login(facilitator).post(
        url("question_mark", planned_session, question.code), {"flag": "hidden", "value": "on"}
    )

    assert response.status_code == 302
    question.refresh_from_db()
    assert question.hidden is True
    assert "Et si vous démissionniez ?" not in render_for(planned_session, CONSULTANT)
    assert "Et si vous démissionniez ?" not in render_for(planned_session, CLIENT)
    facilitator_screen = render_for(planned_session, FACILITATOR)
    assert "Et si vous démissionniez ?" in facilitator_screen
    assert "masquée" in facilitator_screen


@pytest.mark.parametrize("who", ["member", "client_user"])
def test_only_the_facilitator_hides_a_question(request, login, member, planned_session, who):
    go_live(planned_session, Step.CLARIFICATION)
    question = Question.objects.create(session=planned_session, author=member, text="Combien ?")

    response = login(request.getfixturevalue(who)).post(
        url("question_mark", planned_session, question.code), {"flag": "hidden", "value": "on"}
    )

    assert response.status_code == 403
    question.refresh_from_db()
    assert question.hidden is False


def test_question_of_another_session_is_404(login, client_user, member, planned_session, group):
    go_live(planned_session, Step.CLARIFICATION)
    other = Session.objects.create(group=group, scheduled_at=timezone.now())
    question = Question.objects.create(session=other, author=member, text="Ailleurs")

    response = login(client_user).post(
        url("question_mark", planned_session, question.code), {"flag": "answered", "value": "on"}
    )

    assert response.status_code == 404
    question.refresh_from_db()
    assert question.answered is False


def test_question_in_the_contributions_step_is_refused_and_the_text_kept_htmx(
    login, member, planned_session
):
    go_live(planned_session, Step.CONTRIBUTIONS)
    typed = "Qu'avez-vous déjà essayé avec lui ?"

    response = login(member).post(
        url("question_post", planned_session), {"kind": "fact", "text": typed}, headers=HTMX
    )

    assert response.status_code == 400
    content = text(response)
    assert "Ce n'est pas le moment" in content
    assert "à l'étape Clarification" in content
    assert kept_text(content) == typed
    # An htmx answer is the regions only, not a whole page.
    assert "<html" not in content
    assert not Question.objects.exists()
    assert version_of(planned_session) == 0


def test_a_broadcast_leaves_the_flash_of_a_refused_post_alone(login, member, planned_session):
    # The flash is the poster's: the next change's broadcast, which carries
    # every region, must not bring an empty one that wipes the refusal.
    go_live(planned_session, Step.CONTRIBUTIONS)
    response = login(member).post(
        url("question_post", planned_session), {"kind": "fact", "text": "Depuis ?"}, headers=HTMX
    )
    assert 'id="live-flash"' in text(response)

    for by_audience in render_all_audiences(load_state(planned_session.pk, live=True)).values():
        for html_for_audience in by_audience.values():
            assert 'id="live-flash"' not in html_for_audience


def test_question_in_the_contributions_step_is_refused_and_the_text_kept_without_js(
    login, member, planned_session
):
    go_live(planned_session, Step.CONTRIBUTIONS)
    typed = "Qu'avez-vous déjà essayé avec lui ?"

    response = login(member).post(
        url("question_post", planned_session), {"kind": "fact", "text": typed}
    )

    assert response.status_code == 400
    content = text(response)
    assert "<html" in content
    assert "Ce n'est pas le moment" in content
    assert kept_text(content) == typed
    assert not Question.objects.exists()


@pytest.mark.parametrize("headers", [HTMX, {}], ids=["htmx", "no-js"])
def test_over_long_question_gives_a_french_error_and_keeps_the_text(
    login, member, planned_session, headers
):
    go_live(planned_session, Step.CLARIFICATION)
    typed = "q" * 501

    response = login(member).post(
        url("question_post", planned_session), {"kind": "fact", "text": typed}, headers=headers
    )

    assert response.status_code == 400
    content = text(response)
    assert "Assurez-vous que cette valeur comporte au plus 500 caractères (actuellement 501)." in (
        content
    )
    assert f"{typed}</textarea>" in content
    assert not Question.objects.exists()


def test_question_of_exactly_500_characters_is_accepted(login, member, planned_session):
    go_live(planned_session, Step.CLARIFICATION)

    response = login(member).post(
        url("question_post", planned_session), {"kind": "fact", "text": "q" * 500}
    )

    assert response.status_code == 302
    assert Question.objects.get().text == "q" * 500


# 3. Demande


def test_client_writes_the_demand(login, client_user, planned_session):
    go_live(planned_session, Step.DEMAND)

    response = login(client_user).post(
        url("demand_save", planned_session), {"text": "garder mon calme en réunion"}
    )

    assert response.status_code == 302
    planned_session.refresh_from_db()
    assert planned_session.demand_text == "garder mon calme en réunion"
    assert planned_session.version == 1
    assert "Aidez-moi à garder mon calme en réunion" in render_for(planned_session, CONSULTANT)


@pytest.mark.parametrize("who", ["member", "facilitator"])
def test_only_the_client_writes_the_demand(request, login, planned_session, who):
    go_live(planned_session, Step.DEMAND)

    response = login(request.getfixturevalue(who)).post(
        url("demand_save", planned_session), {"text": "autre chose"}
    )

    assert response.status_code == 403
    planned_session.refresh_from_db()
    assert planned_session.demand_text == ""


def test_consultants_say_whether_they_understood_the_demand(
    login, member, other_member, planned_session
):
    go_live(planned_session, Step.DEMAND)
    Session.objects.filter(pk=planned_session.pk).update(demand_text="dire non")

    login(member).post(url("demand_check", planned_session), {"verdict": "understood"})
    login(other_member).post(url("demand_check", planned_session), {"verdict": "rephrase"})

    verdicts = dict(DemandCheck.objects.values_list("author", "verdict"))
    assert verdicts == {member.pk: "understood", other_member.pk: "rephrase"}
    screen = render_for(planned_session, FACILITATOR)
    assert "1 sur 2 : demande comprise" in screen
    assert "à reformuler" in screen


def test_a_consultant_changes_their_verdict_rather_than_voting_twice(
    login, member, planned_session
):
    go_live(planned_session, Step.DEMAND)
    Session.objects.filter(pk=planned_session.pk).update(demand_text="dire non")
    client = login(member)

    client.post(url("demand_check", planned_session), {"verdict": "rephrase"})
    client.post(url("demand_check", planned_session), {"verdict": "understood"})

    assert list(DemandCheck.objects.values_list("verdict", flat=True)) == ["understood"]


@pytest.mark.parametrize("who", ["client_user", "facilitator"])
def test_only_consultants_answer_the_demand(request, login, planned_session, who):
    go_live(planned_session, Step.DEMAND)
    Session.objects.filter(pk=planned_session.pk).update(demand_text="dire non")

    response = login(request.getfixturevalue(who)).post(
        url("demand_check", planned_session), {"verdict": "understood"}
    )

    assert response.status_code == 403
    assert not DemandCheck.objects.exists()


def test_answering_before_the_demand_is_written_is_refused_in_french(
    login, member, planned_session
):
    go_live(planned_session, Step.DEMAND)

    response = login(member).post(
        url("demand_check", planned_session), {"verdict": "understood"}, headers=HTMX
    )

    assert response.status_code == 400
    assert "Le client n'a pas encore formulé sa demande." in text(response)
    assert not DemandCheck.objects.exists()


def test_a_new_wording_asks_the_consultants_again(login, client_user, member, planned_session):
    go_live(planned_session, Step.DEMAND)
    Session.objects.filter(pk=planned_session.pk).update(demand_text="dire non")
    DemandCheck.objects.create(session=planned_session, author=member, verdict="rephrase")

    login(client_user).post(url("demand_save", planned_session), {"text": "dire non à mon chef"})

    assert not DemandCheck.objects.exists()


def test_facilitator_validates_the_demand(login, facilitator, planned_session):
    go_live(planned_session, Step.DEMAND)
    Session.objects.filter(pk=planned_session.pk).update(demand_text="dire non")

    response = login(facilitator).post(url("demand_validate", planned_session))

    assert response.status_code == 302
    planned_session.refresh_from_db()
    assert planned_session.demand_validated_at is not None
    assert "Contrat validé." in render_for(planned_session, CONSULTANT)


@pytest.mark.parametrize("who", ["client_user", "member"])
def test_only_the_facilitator_validates_the_demand(request, login, planned_session, who):
    go_live(planned_session, Step.DEMAND)
    Session.objects.filter(pk=planned_session.pk).update(demand_text="dire non")

    response = login(request.getfixturevalue(who)).post(url("demand_validate", planned_session))

    assert response.status_code == 403
    planned_session.refresh_from_db()
    assert planned_session.demand_validated_at is None


def test_validated_demand_cannot_be_rewritten(login, client_user, planned_session):
    go_live(planned_session, Step.DEMAND)
    Session.objects.filter(pk=planned_session.pk).update(
        demand_text="dire non", demand_validated_at=timezone.now()
    )

    response = login(client_user).post(
        url("demand_save", planned_session), {"text": "autre chose"}, headers=HTMX
    )

    assert response.status_code == 400
    assert "La demande a déjà été validée." in text(response)
    planned_session.refresh_from_db()
    assert planned_session.demand_text == "dire non"


@pytest.mark.parametrize("step", [Step.CONTRIBUTIONS, Step.ACTION_PLAN])
@pytest.mark.parametrize("audience", AUDIENCES)
def test_validated_demand_is_pinned_in_steps_4_and_5(planned_session, step, audience):
    go_live(planned_session, step)
    Session.objects.filter(pk=planned_session.pk).update(
        demand_text="dire non sans culpabiliser", demand_validated_at=timezone.now()
    )

    screen = render_for(planned_session, audience)

    assert '<p class="pinned"><span class="label">La demande</span>' in screen
    assert "Aidez-moi à dire non sans culpabiliser" in screen


def test_unvalidated_demand_is_not_pinned(planned_session):
    go_live(planned_session, Step.CONTRIBUTIONS)
    Session.objects.filter(pk=planned_session.pk).update(demand_text="dire non")

    assert "dire non" not in render_for(planned_session, CONSULTANT)


# 4. Contributions


@pytest.mark.parametrize(
    ("kind", "badge"),
    [("experience", "expérience"), ("suggestion", "suggestion"), ("mirror", "effet miroir")],
)
def test_consultant_posts_a_contribution(login, member, planned_session, kind, badge):
    go_live(planned_session, Step.CONTRIBUTIONS)

    response = login(member).post(
        url("contribution_post", planned_session), {"kind": kind, "text": "J'ai vécu pareil."}
    )

    assert response.status_code == 302
    card = Contribution.objects.get()
    assert (card.kind, card.text, card.author) == (kind, "J'ai vécu pareil.", member)
    assert not card.tags.exists()
    assert version_of(planned_session) == 1
    assert f'<span class="badge">{badge}</span> J\'ai vécu pareil.' in render_for(
        planned_session, CLIENT
    )


@pytest.mark.parametrize("who", ["client_user", "facilitator"])
def test_client_or_facilitator_cannot_post_a_contribution(request, login, planned_session, who):
    go_live(planned_session, Step.CONTRIBUTIONS)

    response = login(request.getfixturevalue(who)).post(
        url("contribution_post", planned_session), {"kind": "suggestion", "text": "Moi aussi"}
    )

    assert response.status_code == 403
    assert not Contribution.objects.exists()


def test_contribution_during_clarification_is_refused_and_the_text_kept(
    login, member, planned_session
):
    go_live(planned_session, Step.CLARIFICATION)
    typed = "Vous devriez lui parler."

    response = login(member).post(
        url("contribution_post", planned_session),
        {"kind": "suggestion", "text": typed},
        headers=HTMX,
    )

    assert response.status_code == 400
    content = text(response)
    assert "Ce n'est pas le moment : cela se fait à l'étape Contributions." in content
    assert kept_text(content) == typed
    assert not Contribution.objects.exists()


def test_over_long_contribution_gives_a_french_error(login, member, planned_session):
    go_live(planned_session, Step.CONTRIBUTIONS)

    response = login(member).post(
        url("contribution_post", planned_session),
        {"kind": "suggestion", "text": "c" * 1001},
        headers=HTMX,
    )

    assert response.status_code == 400
    assert "au plus 1000 caractères (actuellement 1001)" in text(response)
    assert "c" * 1001 in text(response)
    assert not Contribution.objects.exists()


@pytest.mark.parametrize("tag", ["keep", "explore", "not_now"])
def test_client_tags_a_contribution(login, client_user, member, planned_session, tag):
    go_live(planned_session, Step.CONTRIBUTIONS)
    card = Contribution.objects.create(session=planned_session, author=member, text="Essayez")

    response = login(client_user).post(
        url("contribution_tag", planned_session, card.code), {"tag": tag}
    )

    assert response.status_code == 302
    assert tag_of(card, client_user) == tag
    assert version_of(planned_session) == 1


@pytest.mark.parametrize("who", ["member", "facilitator"])
def test_only_the_client_tags_a_contribution(request, login, member, planned_session, who):
    go_live(planned_session, Step.CONTRIBUTIONS)
    card = Contribution.objects.create(session=planned_session, author=member, text="Essayez")

    response = login(request.getfixturevalue(who)).post(
        url("contribution_tag", planned_session, card.code), {"tag": "keep"}
    )

    assert response.status_code == 403
    assert not card.tags.exists()


def without_volatile_bits(screen):
    """A render with what changes on every write (version, clock) taken out."""
    screen = re.sub(r'data-version="\d+"', "", screen)
    return re.sub(r'data-server-now="[^"]*"', "", screen)


def test_tag_is_shown_to_the_client_alone(login, client_user, member, planned_session):
    go_live(planned_session, Step.CONTRIBUTIONS)
    card = Contribution.objects.create(session=planned_session, author=member, text="Essayez")
    before = {audience: render_for(planned_session, audience) for audience in AUDIENCES}

    login(client_user).post(url("contribution_tag", planned_session, card.code), {"tag": "keep"})

    client_screen = render_for(planned_session, CLIENT)
    assert "tag-keep" in client_screen
    assert 'value="keep" class="small primary"' in client_screen
    for audience in [CONSULTANT, FACILITATOR]:
        screen = render_for(planned_session, audience)
        assert "Essayez" in screen
        assert "tag-" not in screen
        assert "je retiens" not in screen
        # Nothing at all on their screens tells that the card was tagged.
        assert without_volatile_bits(screen) == without_volatile_bits(before[audience])


def test_consultants_do_not_see_what_the_client_kept_in_the_action_plan(member, planned_session):
    go_live(planned_session, Step.ACTION_PLAN)
    kept = Contribution.objects.create(session=planned_session, author=member, text="Gardée")
    tag_card(kept, planned_session.participations.get(role="client").user, "keep")
    Contribution.objects.create(session=planned_session, author=member, text="Laissée")

    assert "Gardée" in render_for(planned_session, CLIENT)
    assert "Laissée" not in render_for(planned_session, CLIENT)
    for audience in [CONSULTANT, FACILITATOR]:
        assert "Gardée" not in render_for(planned_session, audience)


def test_tagging_during_clarification_is_refused(login, client_user, member, planned_session):
    go_live(planned_session, Step.CLARIFICATION)
    card = Contribution.objects.create(session=planned_session, author=member, text="Essayez")

    response = login(client_user).post(
        url("contribution_tag", planned_session, card.code), {"tag": "keep"}, headers=HTMX
    )

    assert response.status_code == 400
    assert "Ce n'est pas le moment" in text(response)
    assert not card.tags.exists()


# 5. Plan d'action


def test_client_adds_an_action_with_a_due_date(login, client_user, planned_session):
    go_live(planned_session, Step.ACTION_PLAN)

    response = login(client_user).post(
        url("action_add", planned_session),
        {"text": "Demander un entretien", "due_date": "2031-05-14"},
    )

    assert response.status_code == 302
    action = ActionItem.objects.get()
    assert (action.text, action.due_date, action.author) == (
        "Demander un entretien",
        dt.date(2031, 5, 14),
        client_user,
    )
    assert version_of(planned_session) == 1
    consultant_screen = render_for(planned_session, CONSULTANT)
    assert "Demander un entretien" in consultant_screen
    assert "pour le 14 mai" in consultant_screen


@pytest.mark.parametrize("who", ["member", "facilitator"])
def test_only_the_client_adds_actions(request, login, planned_session, who):
    go_live(planned_session, Step.ACTION_PLAN)

    response = login(request.getfixturevalue(who)).post(
        url("action_add", planned_session), {"text": "Pas la mienne"}
    )

    assert response.status_code == 403
    assert not ActionItem.objects.exists()


def test_action_during_contributions_is_refused_and_the_text_kept(
    login, client_user, planned_session
):
    go_live(planned_session, Step.CONTRIBUTIONS)

    response = login(client_user).post(
        url("action_add", planned_session), {"text": "Appeler Paul"}, headers=HTMX
    )

    assert response.status_code == 400
    content = text(response)
    assert "Ce n'est pas le moment : cela se fait à l'étape Plan d'action." in content
    assert kept_text(content) == "Appeler Paul"
    assert not ActionItem.objects.exists()


def test_action_due_date_defaults_to_the_next_planned_session(
    login, client_user, facilitator, group, planned_session
):
    go_live(planned_session, Step.ACTION_PLAN)
    next_date = timezone.localtime(planned_session.scheduled_at).date() + dt.timedelta(days=28)
    later = timezone.make_aware(dt.datetime.combine(next_date, dt.time(18, 0)))
    Session.objects.create(group=group, scheduled_at=later, created_by=facilitator)
    Session.objects.create(
        group=group, scheduled_at=later + dt.timedelta(days=30), created_by=facilitator
    )

    response = login(client_user).get(url("session_detail", planned_session))

    assert response.context["forms"]["action"].initial["due_date"] == next_date
    # A date input only shows an ISO date (YYYY-MM-DD); any other value is dropped.
    assert f'name="due_date" value="{next_date.isoformat()}"' in response.content.decode()


def test_action_has_no_default_due_date_without_a_next_session(login, client_user, planned_session):
    go_live(planned_session, Step.ACTION_PLAN)

    response = login(client_user).get(url("session_detail", planned_session))

    assert "due_date" not in response.context["forms"]["action"].initial
    field = '<input type="date" name="due_date" id="id_action_due_date">'
    assert field in response.content.decode()


def test_turning_a_kept_card_into_an_action_links_it(
    login, client_user, member, facilitator, group, planned_session
):
    go_live(planned_session, Step.ACTION_PLAN)
    card = Contribution.objects.create(
        session=planned_session, author=member, text="Proposez un tête-à-tête"
    )
    tag_card(card, client_user, "keep")
    next_session = Session.objects.create(
        group=group,
        scheduled_at=planned_session.scheduled_at + dt.timedelta(days=28),
        created_by=facilitator,
    )
    client = login(client_user)
    # The client's screen offers the button, carrying the card and the default date.
    page = client.get(url("session_detail", planned_session)).content.decode()
    assert f'name="contribution" value="{card.code}"' in page
    due = timezone.localtime(next_session.scheduled_at).date()
    assert f'name="due_date" value="{due.isoformat()}"' in page

    response = client.post(
        url("action_add", planned_session),
        {"contribution": card.code, "text": card.text, "due_date": due.isoformat()},
    )

    assert response.status_code == 302
    action = ActionItem.objects.get()
    assert action.contribution == card
    assert action.text == "Proposez un tête-à-tête"
    assert action.due_date == due


def test_a_card_of_another_session_cannot_become_an_action(
    login, client_user, member, group, planned_session
):
    go_live(planned_session, Step.ACTION_PLAN)
    other = Session.objects.create(group=group, scheduled_at=timezone.now())
    card = Contribution.objects.create(session=other, author=member, text="Ailleurs")
    tag_card(card, client_user, "keep")

    response = login(client_user).post(
        url("action_add", planned_session), {"contribution": card.code, "text": "Ailleurs"}
    )

    assert response.status_code == 404
    assert not ActionItem.objects.exists()


# 6. Apprentissages et retour


@pytest.mark.parametrize("who", ["facilitator", "client_user", "member"])
def test_everyone_notes_a_learning(request, login, planned_session, who):
    go_live(planned_session, Step.LEARNINGS)
    user = request.getfixturevalue(who)

    response = login(user).post(url("learning_post", planned_session), {"text": "Se taire aide"})

    assert response.status_code == 302
    learning = Learning.objects.get()
    assert (learning.author, learning.text) == (user, "Se taire aide")
    assert "Se taire aide" in render_for(planned_session, CONSULTANT)


@pytest.mark.parametrize("who", ["facilitator", "client_user", "member"])
def test_everyone_gives_feedback(request, login, planned_session, who):
    go_live(planned_session, Step.LEARNINGS)
    user = request.getfixturevalue(who)

    response = login(user).post(
        url("feedback_post", planned_session), {"rating": "5", "comment": "Bien cadré"}
    )

    assert response.status_code == 302
    feedback = Feedback.objects.get()
    assert (feedback.author, feedback.rating, feedback.comment) == (user, 5, "Bien cadré")
    assert version_of(planned_session) == 1


@pytest.mark.parametrize("rating", ["0", "6"])
def test_rating_outside_1_to_5_is_refused_in_french(login, member, planned_session, rating):
    go_live(planned_session, Step.LEARNINGS)

    response = login(member).post(
        url("feedback_post", planned_session), {"rating": rating}, headers=HTMX
    )

    assert response.status_code == 400
    assert f"Sélectionnez un choix valide. {rating} n’en fait pas partie." in text(response)
    assert not Feedback.objects.exists()
    assert version_of(planned_session) == 0


def test_giving_feedback_again_replaces_it(login, member, planned_session):
    go_live(planned_session, Step.LEARNINGS)
    client = login(member)

    client.post(url("feedback_post", planned_session), {"rating": "2"})
    client.post(url("feedback_post", planned_session), {"rating": "4"})

    assert list(Feedback.objects.values_list("rating", flat=True)) == [4]


def test_facilitator_sees_the_average_rating_and_the_others_only_the_count(
    login, facilitator, client_user, member, planned_session
):
    go_live(planned_session, Step.LEARNINGS)
    login(client_user).post(url("feedback_post", planned_session), {"rating": "4"})
    login(member).post(url("feedback_post", planned_session), {"rating": "5"})

    facilitator_screen = render_for(planned_session, FACILITATOR)
    assert "2 avis donnés" in facilitator_screen
    assert "moyenne 4,5 / 5" in facilitator_screen
    for audience in [CLIENT, CONSULTANT]:
        screen = render_for(planned_session, audience)
        assert "2 avis donnés" in screen
        assert "moyenne" not in screen
        assert "4,5" not in screen


def test_learning_before_the_last_step_is_refused_and_the_text_kept(login, member, planned_session):
    go_live(planned_session, Step.ACTION_PLAN)

    response = login(member).post(
        url("learning_post", planned_session), {"text": "J'ai appris"}, headers=HTMX
    )

    assert response.status_code == 400
    assert "cela se fait à l'étape Apprentissages" in text(response)
    assert kept_text(text(response)) == "J'ai appris"
    assert not Learning.objects.exists()


# Private notes


def test_private_note_is_shown_to_its_author(login, member, planned_session):
    go_live(planned_session, Step.CONTRIBUTIONS)
    client = login(member)

    response = client.post(url("note_post", planned_session), {"text": "Penser à ma sœur"})

    assert response.status_code == 302
    note = PrivateNote.objects.get()
    assert (note.author, note.text) == (member, "Penser à ma sœur")
    assert "Penser à ma sœur" in text(client.get(url("session_detail", planned_session)))


@pytest.mark.parametrize("who", ["facilitator", "client_user", "other_member"])
def test_private_note_is_not_in_another_members_page(request, login, member, planned_session, who):
    go_live(planned_session, Step.CONTRIBUTIONS)
    PrivateNote.objects.create(session=planned_session, author=member, text="Penser à ma sœur")

    page = text(login(request.getfixturevalue(who)).get(url("session_detail", planned_session)))

    assert "Penser à ma sœur" not in page


def test_private_note_is_never_broadcast(login, member, planned_session):
    go_live(planned_session, Step.CONTRIBUTIONS)

    login(member).post(url("note_post", planned_session), {"text": "Penser à ma sœur"})

    assert version_of(planned_session) == 0
    for audience in AUDIENCES:
        assert "Penser à ma sœur" not in render_for(planned_session, audience)


def test_htmx_note_answers_the_authors_notes_only(login, member, other_member, planned_session):
    go_live(planned_session, Step.CONTRIBUTIONS)
    PrivateNote.objects.create(session=planned_session, author=other_member, text="Pas à vous")

    response = login(member).post(
        url("note_post", planned_session), {"text": "Ma note"}, headers=HTMX
    )

    assert response.status_code == 200
    content = text(response)
    assert 'id="live-notes"' in content
    assert "Ma note" in content
    assert "Pas à vous" not in content


@pytest.mark.parametrize("headers", [HTMX, {}], ids=["htmx", "no-js"])
def test_over_long_note_gives_a_french_error_and_keeps_the_text(
    login, member, planned_session, headers
):
    go_live(planned_session, Step.CONTRIBUTIONS)
    typed = "n" * 2001

    response = login(member).post(
        url("note_post", planned_session), {"text": typed}, headers=headers
    )

    assert response.status_code == 400
    assert "au plus 2000 caractères (actuellement 2001)" in text(response)
    assert typed in text(response)
    assert not PrivateNote.objects.exists()


# Speaking queue


def test_raising_the_hand_twice_lowers_it(login, member, planned_session):
    go_live(planned_session, Step.CONTRIBUTIONS)
    client = login(member)

    client.post(url("hand_toggle", planned_session))
    assert list(HandRaise.objects.values_list("author", flat=True)) == [member.pk]
    assert "Bruno Un" in render_for(planned_session, FACILITATOR).split('id="live-queue"')[1]

    client.post(url("hand_toggle", planned_session))
    assert not HandRaise.objects.exists()
    assert version_of(planned_session) == 2


def test_facilitator_gives_the_floor_to_one_hand_at_a_time(
    login, facilitator, member, other_member, planned_session
):
    go_live(planned_session, Step.CONTRIBUTIONS)
    first = HandRaise.objects.create(session=planned_session, author=member)
    second = HandRaise.objects.create(session=planned_session, author=other_member)
    client = login(facilitator)

    client.post(url("floor_give", planned_session, first.code))
    client.post(url("floor_give", planned_session, second.code))

    speaking = dict(HandRaise.objects.values_list("author", "speaking"))
    assert speaking == {member.pk: False, other_member.pk: True}
    assert "Chloé Deux · <strong>a la parole</strong>" in render_for(planned_session, CONSULTANT)


def test_facilitator_clears_one_hand(login, facilitator, member, other_member, planned_session):
    go_live(planned_session, Step.CONTRIBUTIONS)
    hand = HandRaise.objects.create(session=planned_session, author=member)
    HandRaise.objects.create(session=planned_session, author=other_member)

    response = login(facilitator).post(url("hand_clear", planned_session, hand.code))

    assert response.status_code == 302
    assert list(HandRaise.objects.values_list("author", flat=True)) == [other_member.pk]


def test_facilitator_clears_the_whole_queue(login, facilitator, consultants, planned_session):
    go_live(planned_session, Step.CONTRIBUTIONS)
    for user in consultants:
        HandRaise.objects.create(session=planned_session, author=user)

    response = login(facilitator).post(url("hands_clear", planned_session))

    assert response.status_code == 302
    assert not HandRaise.objects.exists()
    assert "Personne n'a demandé la parole." in render_for(planned_session, CONSULTANT)


@pytest.mark.parametrize("who", ["member", "client_user"])
def test_only_the_facilitator_gives_the_floor(request, login, other_member, planned_session, who):
    go_live(planned_session, Step.CONTRIBUTIONS)
    hand = HandRaise.objects.create(session=planned_session, author=other_member)

    response = login(request.getfixturevalue(who)).post(
        url("floor_give", planned_session, hand.code)
    )

    assert response.status_code == 403
    hand.refresh_from_db()
    assert hand.speaking is False


@pytest.mark.parametrize("who", ["member", "client_user"])
def test_only_the_facilitator_clears_hands(request, login, other_member, planned_session, who):
    go_live(planned_session, Step.CONTRIBUTIONS)
    hand = HandRaise.objects.create(session=planned_session, author=other_member)
    client = login(request.getfixturevalue(who))

    assert client.post(url("hand_clear", planned_session, hand.code)).status_code == 403
    assert client.post(url("hands_clear", planned_session)).status_code == 403
    assert HandRaise.objects.filter(pk=hand.pk).exists()


def test_hands_cannot_be_raised_before_the_start(login, member, planned_session):
    response = login(member).post(url("hand_toggle", planned_session), headers=HTMX)

    assert response.status_code == 400
    assert "La séance n'est pas en cours" in text(response)
    assert not HandRaise.objects.exists()


# Nothing a user types is rendered unescaped


def put_script_everywhere(session, member, client_user):
    Session.objects.filter(pk=session.pk).update(
        expose_title=SCRIPT,
        expose_summary=SCRIPT,
        demand_text=SCRIPT,
        demand_validated_at=timezone.now(),
    )
    Question.objects.create(session=session, author=member, text=SCRIPT)
    tag_card(
        Contribution.objects.create(session=session, author=member, text=SCRIPT),
        client_user,
        "keep",
    )
    ActionItem.objects.create(session=session, author=client_user, text=SCRIPT)
    Learning.objects.create(session=session, author=member, text=SCRIPT)
    PrivateNote.objects.create(session=session, author=member, text=SCRIPT)


@pytest.mark.parametrize(
    "step",
    [Step.EXPOSE, Step.CLARIFICATION, Step.DEMAND, Step.CONTRIBUTIONS, Step.ACTION_PLAN,
     Step.LEARNINGS],
)  # fmt: skip
@pytest.mark.parametrize("audience", AUDIENCES)
def test_typed_text_is_escaped_in_every_render(
    member, client_user, planned_session, step, audience
):
    go_live(planned_session, step)
    put_script_everywhere(planned_session, member, client_user)

    screen = render_regions(load_state(planned_session.pk), audience)

    assert SCRIPT not in screen
    assert ESCAPED_SCRIPT in screen


@pytest.mark.parametrize("step", [Step.CONTRIBUTIONS, Step.ACTION_PLAN])
def test_typed_text_is_escaped_in_the_page_and_the_summary(
    login, member, client_user, facilitator, planned_session, step
):
    go_live(planned_session, step)
    put_script_everywhere(planned_session, member, client_user)

    for user in [member, client_user]:
        page = login(user).get(url("session_detail", planned_session)).content.decode()
        assert SCRIPT not in page
        assert ESCAPED_SCRIPT in page

    Session.objects.filter(pk=planned_session.pk).update(status=Session.Status.CLOSED)
    summary = login(member).get(url("session_detail", planned_session)).content.decode()
    assert SCRIPT not in summary
    assert ESCAPED_SCRIPT in summary


def test_refused_text_is_escaped_when_handed_back(login, member, planned_session):
    go_live(planned_session, Step.CONTRIBUTIONS)

    response = login(member).post(
        url("question_post", planned_session), {"kind": "fact", "text": SCRIPT}, headers=HTMX
    )

    assert response.status_code == 400
    content = response.content.decode()
    assert SCRIPT not in content
    assert f'class="kept-text">{ESCAPED_SCRIPT}</textarea>' in content


# Strangers and anonymous visitors


def capture_posts(session, member):
    """Every capture POST of the session, with data a member could send."""
    question = Question.objects.create(session=session, author=member, text="Combien ?")
    card = Contribution.objects.create(session=session, author=member, text="Essayez")
    hand = HandRaise.objects.create(session=session, author=member)
    return {
        "expose_save": (url("expose_save", session), {"title": "Intrus"}),
        "question_post": (url("question_post", session), {"kind": "fact", "text": "Intrus"}),
        "question_mark": (
            url("question_mark", session, question.code),
            {"flag": "hidden", "value": "on"},
        ),
        "demand_save": (url("demand_save", session), {"text": "Intrus"}),
        "demand_check": (url("demand_check", session), {"verdict": "understood"}),
        "demand_validate": (url("demand_validate", session), {}),
        "contribution_post": (
            url("contribution_post", session),
            {"kind": "mirror", "text": "Intrus"},
        ),
        "contribution_tag": (url("contribution_tag", session, card.code), {"tag": "keep"}),
        "action_add": (url("action_add", session), {"text": "Intrus"}),
        "learning_post": (url("learning_post", session), {"text": "Intrus"}),
        "feedback_post": (url("feedback_post", session), {"rating": "1"}),
        "note_post": (url("note_post", session), {"text": "Intrus"}),
        "hand_toggle": (url("hand_toggle", session), {}),
        "hands_clear": (url("hands_clear", session), {}),
        "floor_give": (url("floor_give", session, hand.code), {}),
        "hand_clear": (url("hand_clear", session, hand.code), {}),
    }


CAPTURE_POSTS = [
    "expose_save",
    "question_post",
    "question_mark",
    "demand_save",
    "demand_check",
    "demand_validate",
    "contribution_post",
    "contribution_tag",
    "action_add",
    "learning_post",
    "feedback_post",
    "note_post",
    "hand_toggle",
    "hands_clear",
    "floor_give",
    "hand_clear",
]


def snapshot(session):
    return (
        version_of(session),
        list(Question.objects.values_list("text", "hidden", "answered")),
        list(Contribution.objects.values_list("text")),
        list(ContributionTag.objects.values_list("contribution", "user", "tag")),
        list(HandRaise.objects.values_list("author", "speaking")),
        ActionItem.objects.count(),
        Learning.objects.count(),
        Feedback.objects.count(),
        PrivateNote.objects.count(),
        DemandCheck.objects.count(),
        Session.objects.values_list("expose_title", "demand_text", "demand_validated_at").get(
            pk=session.pk
        ),
    )


# Each step where the POST would be accepted from the right member.
STEP_OF = {
    "expose_save": Step.EXPOSE,
    "question_post": Step.CLARIFICATION,
    "question_mark": Step.CLARIFICATION,
    "demand_save": Step.DEMAND,
    "demand_check": Step.DEMAND,
    "demand_validate": Step.DEMAND,
    "contribution_post": Step.CONTRIBUTIONS,
    "contribution_tag": Step.CONTRIBUTIONS,
    "action_add": Step.ACTION_PLAN,
    "learning_post": Step.LEARNINGS,
    "feedback_post": Step.LEARNINGS,
}


@pytest.mark.parametrize("name", CAPTURE_POSTS)
def test_stranger_gets_404_on_each_capture_post(login, outsider, member, planned_session, name):
    go_live(planned_session, STEP_OF.get(name, Step.CONTRIBUTIONS))
    Session.objects.filter(pk=planned_session.pk).update(demand_text="dire non")
    post_url, data = capture_posts(planned_session, member)[name]
    before = snapshot(planned_session)

    response = login(outsider).post(post_url, data)

    assert response.status_code == 404
    assert "Groupe test" not in text(response)
    assert snapshot(planned_session) == before


@pytest.mark.parametrize("name", CAPTURE_POSTS)
def test_anonymous_capture_post_is_sent_to_sign_in(client, member, planned_session, name):
    go_live(planned_session, STEP_OF.get(name, Step.CONTRIBUTIONS))
    post_url, data = capture_posts(planned_session, member)[name]
    before = snapshot(planned_session)

    response = client.post(post_url, data)

    assert response.status_code == 302
    assert response.url.startswith(reverse("login") + "?next=")
    assert snapshot(planned_session) == before
