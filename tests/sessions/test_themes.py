"""Metaplan themes at step 4: the facilitator clusters the cards into themes;
every screen shows the board grouped by theme; the client keeps a whole theme
and makes one an action at step 5 (issue 12, part 1).
"""

import datetime as dt
import html
import re

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.urls import reverse

from sessions import services
from sessions.models import ActionItem, Contribution, ContributionTag, Session, Theme
from sessions.roles import CLIENT, CONSULTANT, FACILITATOR
from sessions.state import load_state, render_regions
from sessions.steps import Step
from tests.conftest import go_live
from tests.shown import shown

HTMX = {"HX-Request": "true"}
NOON = dt.datetime(2031, 3, 4, 12, 0, tzinfo=dt.UTC)


@pytest.fixture
def session(planned_session):
    return go_live(planned_session, Step.CONTRIBUTIONS)


@pytest.fixture
def cards(session, consultants):
    with time_machine.travel(NOON, tick=False):
        return [
            Contribution.objects.create(
                session=session, author=consultants[i % 3], text=f"Carte {i}"
            )
            for i in range(6)
        ]


def seen(session, audience):
    """The live page's regions as `audience` sees them now."""
    return html.unescape(shown(render_regions(load_state(session.pk), audience)))


def theme_section(content, theme):
    """The HTML of one theme's box on a rendered page."""
    match = re.search(rf'<section id="theme-{theme.code}".*?</section>', content, re.S)
    assert match, f"no box for {theme.name}"
    return match.group(0)


def unsorted_section(content):
    return re.search(r'<section class="theme unsorted".*?</section>', content, re.S).group(0)


def create(session, by, name):
    return services.theme_create(session=session, by=by, name=name)


def place(session, by, card, theme):
    services.card_place(session=session, by=by, contribution=card, theme=theme)


# The facilitator's themes


def test_the_facilitator_creates_renames_and_removes_a_theme(session, facilitator, cards):
    theme = create(session, facilitator, "Organisation")
    assert (theme.pk, theme.session_id, theme.name) == (
        Theme.objects.get().pk,
        session.pk,
        "Organisation",
    )

    services.theme_rename(session=session, by=facilitator, theme=theme, name="Délais")
    assert Theme.objects.get().name == "Délais"

    place(session, facilitator, cards[0], theme)
    services.theme_remove(session=session, by=facilitator, theme=theme)
    assert not Theme.objects.exists()
    cards[0].refresh_from_db()
    assert cards[0].theme is None
    assert Contribution.objects.count() == 6


@pytest.mark.parametrize("who", ["client_user", "member"])
def test_only_the_facilitator_clusters(request, session, cards, facilitator, who):
    person = request.getfixturevalue(who)
    theme = create(session, facilitator, "Organisation")
    version = Session.objects.get(pk=session.pk).version

    with pytest.raises(PermissionDenied):
        create(session, person, "Le mien")
    with pytest.raises(PermissionDenied):
        place(session, person, cards[0], theme)
    with pytest.raises(PermissionDenied):
        services.theme_rename(session=session, by=person, theme=theme, name="Autre")
    with pytest.raises(PermissionDenied):
        services.theme_remove(session=session, by=person, theme=theme)

    assert list(Theme.objects.values_list("name", flat=True)) == ["Organisation"]
    assert Contribution.objects.filter(theme__isnull=False).count() == 0
    assert Session.objects.get(pk=session.pk).version == version


def test_a_stranger_is_not_told_the_session_exists(session, cards, outsider, facilitator):
    theme = create(session, facilitator, "Organisation")
    with pytest.raises(Http404):
        create(session.code, outsider, "Intrus")
    with pytest.raises(Http404):
        place(session.code, outsider, cards[0], theme)


@pytest.mark.parametrize("step", [Step.CLARIFICATION, Step.ACTION_PLAN, Step.LEARNINGS])
def test_themes_are_made_at_step_4_only(planned_session, facilitator, step):
    go_live(planned_session, step)
    with pytest.raises(ValidationError, match="Ce n'est pas le moment"):
        create(planned_session, facilitator, "Organisation")
    assert not Theme.objects.exists()


def test_a_card_goes_into_one_theme_and_back_to_be_sorted(session, facilitator, cards):
    one, two = create(session, facilitator, "Un"), create(session, facilitator, "Deux")
    with time_machine.travel(NOON + dt.timedelta(minutes=5), tick=False):
        place(session, facilitator, cards[0], one)
    cards[0].refresh_from_db()
    assert (cards[0].theme, cards[0].placed_at) == (one, NOON + dt.timedelta(minutes=5))

    place(session, facilitator, cards[0], two)
    place(session, facilitator, cards[0], None)
    cards[0].refresh_from_db()
    assert cards[0].theme is None


# What every screen shows


def test_every_screen_groups_the_board_by_theme(session, facilitator, cards):
    theme = create(session, facilitator, "Organisation <b>du temps</b>")
    place(session, facilitator, cards[1], theme)
    place(session, facilitator, cards[4], theme)

    for audience in (FACILITATOR, CLIENT, CONSULTANT):
        content = seen(session, audience)
        box = theme_section(content, theme)
        assert "Organisation <b>du temps</b>" in box
        assert ("Carte 1" in box, "Carte 4" in box, "Carte 0" in box) == (True, True, False)
        unsorted = unsorted_section(content)
        assert "À classer" in unsorted
        assert all(f"Carte {i}" in unsorted for i in (0, 2, 3, 5))
        assert "Carte 1" not in unsorted


def test_a_theme_name_is_escaped(session, facilitator, cards):
    create(session, facilitator, "<script>alert(1)</script>")
    raw = render_regions(load_state(session.pk), CONSULTANT)
    assert "<script>alert(1)</script>" not in raw
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in raw


def test_without_a_theme_the_board_reads_as_before(session, cards):
    content = seen(session, CONSULTANT)
    # No « À classer » heading until there is something to sort into.
    assert 'class="unsorted-title"' in content
    assert 'id="themes" class="themes"></div>' in content


def test_a_card_moved_comes_last_in_its_new_list_as_on_a_fresh_page(session, facilitator, cards):
    theme = create(session, facilitator, "Organisation")
    with time_machine.travel(NOON + dt.timedelta(minutes=1), tick=False):
        place(session, facilitator, cards[5], theme)
    with time_machine.travel(NOON + dt.timedelta(minutes=2), tick=False):
        place(session, facilitator, cards[0], theme)
    with time_machine.travel(NOON + dt.timedelta(minutes=3), tick=False):
        place(session, facilitator, cards[5], None)

    content = seen(session, CONSULTANT)
    box = theme_section(content, theme)
    assert "Carte 0" in box
    unsorted = unsorted_section(content)
    order = [int(n) for n in re.findall(r"Carte (\d)", unsorted)]
    assert order == [1, 2, 3, 4, 5]


def test_the_facilitator_alone_gets_the_chooser_and_the_controls(session, facilitator, cards):
    theme = create(session, facilitator, "Organisation")

    mine = seen(session, FACILITATOR)
    assert 'id="theme-new-name"' in mine
    assert f'<select name="theme" id="place-{cards[0].code}">' in mine
    assert f'<option value="{theme.code}">Organisation</option>' in mine
    assert 'draggable="true"' in mine
    assert "Retirer le thème" in mine
    for audience in (CLIENT, CONSULTANT):
        content = seen(session, audience)
        assert 'name="theme"' not in content
        assert "draggable" not in content
        assert "Retirer le thème" not in content
        assert 'id="theme-new-name"' not in content


# The client and the themes


def test_the_client_keeps_a_whole_theme(session, facilitator, client_user, cards, consultants):
    theme = create(session, facilitator, "Organisation")
    for card in cards[:3]:
        place(session, facilitator, card, theme)
    ContributionTag.objects.create(contribution=cards[0], user=client_user, tag="not_now")

    services.theme_tag(session=session, by=client_user, theme=theme, tag="keep")

    tags = dict(ContributionTag.objects.values_list("contribution__text", "tag"))
    assert tags == {"Carte 0": "keep", "Carte 1": "keep", "Carte 2": "keep"}
    content = seen(session, CLIENT)
    assert 'name="tag" value="keep"' in theme_section(content, theme)
    assert "Tout le thème" not in seen(session, CONSULTANT)

    services.theme_tag(session=session, by=client_user, theme=theme, tag="")
    assert not ContributionTag.objects.exists()
    with pytest.raises(PermissionDenied):
        services.theme_tag(session=session, by=consultants[0], theme=theme, tag="keep")


def test_the_client_makes_a_theme_an_action_once(session, facilitator, client_user, cards):
    theme = create(session, facilitator, "Organisation")
    go_live(session, Step.ACTION_PLAN)
    assert "Les thèmes" in seen(session, CLIENT)

    action = services.action_add(session=session, by=client_user, text=theme.name, theme=theme)

    assert (action.theme, action.text, action.contribution) == (theme, "Organisation", None)
    assert "déjà une action" in seen(session, CLIENT)
    with pytest.raises(ValidationError, match="Ce thème est déjà une action"):
        services.action_add(session=session, by=client_user, text=theme.name, theme=theme)
    assert ActionItem.objects.count() == 1


# Through the views, as the pages post


def test_a_post_of_the_chooser_moves_the_card(login, session, facilitator, cards):
    theme = create(session, facilitator, "Organisation")
    client = login(facilitator)

    response = client.post(
        reverse("card_place", args=[session.code, cards[0].code]),
        {"theme": theme.code},
        headers=HTMX,
    )

    assert response.status_code == 204
    cards[0].refresh_from_db()
    assert cards[0].theme == theme


def test_a_theme_of_another_session_is_not_found(
    login, session, facilitator, cards, group, planned_session
):
    other = Session.objects.create(group=group, scheduled_at=session.scheduled_at)
    foreign = Theme.objects.create(session=other, author=facilitator, name="Ailleurs")
    client = login(facilitator)

    response = client.post(
        reverse("card_place", args=[session.code, cards[0].code]), {"theme": foreign.code}
    )
    assert response.status_code == 404
    response = client.post(
        reverse("theme_rename", args=[session.code, foreign.code]), {"name": "x"}
    )
    assert response.status_code == 404
    assert Theme.objects.get(pk=foreign.pk).name == "Ailleurs"


@pytest.mark.parametrize(
    ("name", "message"),
    [("", "Ce champ est obligatoire"), ("x" * 81, "au plus 80 caractères")],
)
def test_a_bad_theme_name_says_why_in_french(login, session, facilitator, name, message):
    client = login(facilitator)
    response = client.post(
        reverse("theme_create", args=[session.code]), {"name": name}, headers=HTMX
    )
    assert response.status_code == 400
    assert message in html.unescape(response.content.decode())
    assert not Theme.objects.exists()


def test_a_card_posted_after_themes_exist_offers_them_to_the_facilitator(
    session, facilitator, member, django_capture_on_commit_callbacks, monkeypatch
):
    theme = create(session, facilitator, "Organisation")
    published = []
    monkeypatch.setattr(services.broadcast, "publish_delta", published.append)

    with django_capture_on_commit_callbacks(execute=True):
        services.contribution_post(session=session, by=member, kind="mirror", text="Nouvelle")

    rendered = published[0].render()["fr"]
    assert f'<option value="{theme.code}">Organisation</option>' in rendered[FACILITATOR]
    assert 'name="theme"' not in rendered[CONSULTANT]
    assert 'name="theme"' not in rendered[CLIENT]


# The written trace: the report, its Markdown, the carnet, the data export


@pytest.fixture
def clustered(session, facilitator, client_user, cards):
    """A closed session whose cards 0 and 1 are in « Organisation », card 0 kept."""
    theme = create(session, facilitator, "Organisation *du* temps")
    place(session, facilitator, cards[0], theme)
    place(session, facilitator, cards[1], theme)
    ContributionTag.objects.create(contribution=cards[0], user=client_user, tag="keep")
    Session.objects.filter(pk=session.pk).update(
        status=Session.Status.CLOSED, step=Step.LEARNINGS, closed_at=NOON + dt.timedelta(hours=2)
    )
    return theme


def test_the_report_and_its_markdown_show_the_themes(login, session, clustered, member):
    client = login(member)
    page = html.unescape(
        client.get(reverse("session_report", args=[session.code])).content.decode()
    )
    assert "Les thèmes des contributions" in page
    assert "<li>Organisation *du* temps</li>" in page
    assert '<span class="badge theme-badge">Organisation *du* temps</span> Carte 0' in page

    markdown = client.get(reverse("session_report_markdown", args=[session.code])).content.decode()
    assert "- Organisation \\*du\\* temps" in markdown
    assert "Carte 0 (" in markdown and "· thème : Organisation \\*du\\* temps" in markdown


def test_the_carnet_shows_each_card_in_its_theme(login, session, clustered, consultants):
    author = consultants[0]
    page = html.unescape(login(author).get(reverse("logbook")).content.decode())
    assert '<span class="badge theme-badge">Organisation *du* temps</span>' in page
    markdown = login(author).get(reverse("logbook_markdown")).content.decode()
    assert "thème : Organisation \\*du\\* temps" in markdown


def test_the_data_export_gives_each_card_its_theme_and_the_facilitator_theirs(
    login, session, clustered, consultants, facilitator
):
    data = login(consultants[0]).get(reverse("account_data_json")).json()
    themes = {card["text"]: card.get("theme") for card in data["contributions"]}
    assert themes["Carte 0"] == "Organisation *du* temps"
    assert themes["Carte 3"] is None

    mine = login(facilitator).get(reverse("account_data_json")).json()
    assert [theme["name"] for theme in mine["themes"]] == ["Organisation *du* temps"]
    markdown = login(facilitator).get(reverse("account_data_markdown")).content.decode()
    assert ": Organisation *du* temps" in markdown
