"""A group's history: sessions held, who has been client, topics waiting, and
the feedback over time as an SVG chart drawn server-side.
"""

import datetime as dt
import html
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.dateformat import format as date_format

from groups.models import Topic
from sessions.models import Feedback, Participation, Session
from sessions.views.history import CHART_HEIGHT, CHART_LEFT, CHART_RIGHT, CHART_WIDTH
from sessions.views.history import rating_chart as make_chart
from tests.conftest import add_member, make_user

# Measured (SQLite): session and user of the request (2), the membership (1),
# the closed sessions with their ratings (1) and their clients (1), the
# members (1), the open topics (1), the group's cycles (1, one curve each).
# The same for 2 and for 12 sessions.
HISTORY_QUERIES = 8


def text(response):
    return html.unescape(response.content.decode())


def history_url(group):
    return reverse("group_history", args=[group.code])


def assert_redirects_to_sign_in(response):
    assert response.status_code == 302
    assert response.url.startswith(reverse("login") + "?next=")


def circles(content):
    return re.findall(r"<circle [^>]*>", content)


@pytest.fixture
def make_closed(group, facilitator):
    """A closed session `months_ago`, with its client and the given ratings."""

    def _make(months_ago, client, ratings=()):
        day = timezone.localdate() - dt.timedelta(days=30 * months_ago)
        session = Session.objects.create(
            group=group,
            scheduled_at=timezone.make_aware(dt.datetime.combine(day, dt.time(18, 0))),
            status=Session.Status.CLOSED,
            closed_at=timezone.now(),
            created_by=facilitator,
        )
        Participation.objects.create(session=session, user=client, role=Participation.Role.CLIENT)
        raters = list(group.memberships.values_list("user", flat=True))
        Feedback.objects.bulk_create(
            Feedback(session=session, author_id=author, rating=rating)
            for author, rating in zip(raters, ratings, strict=False)
        )
        return session

    return _make


@pytest.fixture
def history(make_closed, client_user, consultants, group, facilitator):
    """Three closed sessions (two rated), a planned one, and a backlog."""
    make_closed(3, consultants[0], ratings=[4, 5])  # 4.5
    make_closed(2, client_user)  # nobody rated it
    make_closed(1, client_user, ratings=[3, 4, 4])  # 3.7
    Session.objects.create(
        group=group, scheduled_at=timezone.now() + dt.timedelta(days=20), created_by=facilitator
    )
    Topic.objects.create(group=group, proposed_by=consultants[1], title="Sujet ouvert")
    Topic.objects.create(
        group=group, proposed_by=consultants[1], title="Sujet traité", status=Topic.Status.TAKEN
    )
    Topic.objects.create(
        group=group, proposed_by=consultants[2], title="Sujet retiré", status=Topic.Status.WITHDRAWN
    )
    return group


def local_day(months_ago, fmt):
    """How the page writes the day of a session held `months_ago`."""
    return date_format(timezone.localdate() - dt.timedelta(days=30 * months_ago), fmt)


# Who may read it


def test_member_reads_the_group_history(login, member, history):
    response = login(member).get(history_url(history))

    assert response.status_code == 200
    page = text(response)
    assert "Historique du groupe" in page
    assert "3 séances tenues" in page


def test_facilitator_reads_the_group_history(login, facilitator, history):
    assert login(facilitator).get(history_url(history)).status_code == 200


def test_stranger_gets_404_for_the_group_history(login, outsider, history):
    assert login(outsider).get(history_url(history)).status_code == 404


def test_anonymous_is_sent_to_sign_in_for_the_group_history(client, history):
    assert_redirects_to_sign_in(client.get(history_url(history)))


def test_group_history_only_answers_get(login, member, history):
    assert login(member).post(history_url(history)).status_code == 405


def test_group_page_links_to_its_history(login, member, group):
    response = login(member).get(reverse("group_detail", args=[group.code]))

    assert f'href="{history_url(group)}"' in response.content.decode()
    assert "Historique du groupe" in text(response)


# What it shows


def test_history_lists_closed_sessions_newest_first_with_their_client(login, member, history):
    page = text(login(member).get(history_url(history)))
    held = page[page.index("Séances tenues") : page.index("Qui a été client")]

    days = [local_day(months, "j F Y") for months in (1, 2, 3)]
    positions = [held.index(day) for day in days]
    assert positions == sorted(positions)
    assert held.count("client : Camille Cliente") == 2
    assert held.count("client : Bruno Un") == 1
    assert "3,7 / 5" in held
    assert "4,5 / 5" in held
    assert "pas d'avis" in held
    # The planned session is not history.
    assert held.count("<li>") == 3


def test_history_links_each_session_to_its_report(login, member, history):
    content = login(member).get(history_url(history)).content.decode()

    for session in history.sessions.filter(status=Session.Status.CLOSED):
        assert reverse("session_report", args=[session.code]) in content
    planned = history.sessions.exclude(status=Session.Status.CLOSED).get()
    assert reverse("session_report", args=[planned.code]) not in content


def test_history_says_who_has_been_client_and_when(login, member, history, consultants):
    page = text(login(member).get(history_url(history)))
    turns = page[page.index("Qui a été client") : page.index("Sujets en attente")]
    flat = " ".join(re.sub(r"<[^>]+>", " ", turns).split())

    assert f"Camille Cliente {local_day(2, 'j F Y')}, {local_day(1, 'j F Y')}" in flat
    assert f"Bruno Un {local_day(3, 'j F Y')}" in flat
    # Never client yet: listed first, they could bring the next topic.
    assert "Chloé Deux pas encore client" in flat
    assert flat.index("Eva Quatre") < flat.index("Bruno Un") < flat.index("Camille Cliente")
    # The group's animateur is not a member in the 5 to 8 and was never client.
    assert "Fanny Animatrice" not in flat


def test_history_keeps_a_former_client_who_left_the_group(login, member, history):
    history.memberships.filter(user__full_name="Bruno Un").delete()
    other = history.memberships.filter(user__full_name="Chloé Deux").get().user

    page = text(login(other).get(history_url(history)))

    assert "Bruno Un (a quitté le groupe)" in " ".join(re.sub(r"<[^>]+>", " ", page).split())


def test_history_lists_only_open_topics(login, member, history):
    page = text(login(member).get(history_url(history)))

    assert "Sujet ouvert" in page
    assert "Sujet traité" not in page
    assert "Sujet retiré" not in page


def test_user_text_is_escaped_in_the_history(login, member, history, consultants):
    Topic.objects.create(group=history, proposed_by=consultants[1], title="<script>x</script>")
    consultants[0].full_name = "<b>Bruno</b>"
    consultants[0].save()

    content = login(member).get(history_url(history)).content.decode()

    assert "<script>x</script>" not in content
    assert "<b>Bruno</b>" not in content
    assert "&lt;script&gt;x&lt;/script&gt;" in content


# The chart


def test_chart_has_one_point_per_rated_session(login, member, history):
    content = login(member).get(history_url(history)).content.decode()

    assert "<svg" in content
    assert len(circles(content)) == 2
    polyline = re.search(r'<polyline points="([^"]+)"', content).group(1)
    assert len(polyline.split()) == 2
    svg = content[content.index("<svg") : content.index("</svg>")]
    assert svg.count("<title") == 2 + 1  # one per point, and the chart's own
    assert f"{local_day(1, 'j F Y')} : 3,7 / 5 (3 avis)" in html.unescape(content)


def test_chart_points_follow_the_dates_and_the_ratings(
    login, member, make_closed, consultants, group
):
    for months, rating in [(4, 2), (3, 5), (2, 1), (1, 4)]:
        make_closed(months, consultants[0], ratings=[rating])

    content = login(member).get(history_url(group)).content.decode()

    points = [(int(x), int(y)) for x, y in re.findall(r'<circle cx="(\d+)" cy="(\d+)"', content)]
    assert len(points) == 4
    xs = [x for x, _y in points]
    assert xs == sorted(xs)
    assert xs[0] == CHART_LEFT
    assert xs[-1] == CHART_WIDTH - CHART_RIGHT
    ys = [y for _x, y in points]
    # Higher rating, higher on screen (smaller y): 5 > 4 > 2 > 1.
    assert ys[1] < ys[3] < ys[0] < ys[2]


def test_chart_labels_its_axes(login, member, history):
    content = login(member).get(history_url(history)).content.decode()
    svg = content[content.index("<svg") : content.index("</svg>")]

    for rating in range(1, 6):
        assert f">{rating}</text>" in svg
    assert local_day(3, "d/m/y") in svg
    assert local_day(1, "d/m/y") in svg
    # Coordinates stay plain numbers whatever the language (no "12,5").
    assert not re.search(r'(x|y|x1|x2|y1|y2|cx|cy)="\d+,\d', svg)


def test_chart_writes_only_some_dates_when_there_are_many(make_closed, consultants):
    sessions = [make_closed(months, consultants[0], ratings=[3]) for months in range(12, 0, -1)]
    for session in sessions:
        session.feedback_average, session.feedback_count = 3.0, 1

    chart = make_chart(sessions)

    assert len(chart.points) == 12
    assert sum(p.labelled for p in chart.points) <= 5
    assert chart.points[-1].labelled
    assert all(p.y == chart.points[0].y for p in chart.points)


def test_one_rated_session_shows_a_sentence_not_a_chart(
    login, member, make_closed, consultants, group
):
    make_closed(2, consultants[0])
    make_closed(1, consultants[1], ratings=[5, 4])

    response = login(member).get(history_url(group))

    assert "<svg" not in response.content.decode()
    page = text(response)
    assert "Une seule séance notée pour l'instant : 4,5 / 5" in page
    assert "La courbe apparaîtra avec la deuxième." in page


def test_no_rated_session_shows_a_sentence_not_a_chart(login, member, group):
    response = login(member).get(history_url(group))

    assert "<svg" not in response.content.decode()
    assert "Aucune séance notée pour l'instant." in text(response)
    assert "Aucune séance terminée pour l'instant." in text(response)


def test_chart_y_spans_one_to_five(make_closed, consultants):
    sessions = [
        make_closed(2, consultants[0], ratings=[1]),
        make_closed(1, consultants[0], ratings=[5]),
    ]
    sessions[0].feedback_average, sessions[1].feedback_average = 1.0, 5.0

    chart = make_chart(sessions)

    ticks = dict(chart.ticks)
    assert chart.points[0].y == ticks[1] == chart.bottom
    assert chart.points[1].y == ticks[5]
    assert 0 < ticks[5] < ticks[1] < CHART_HEIGHT


# Cost


def test_history_queries_do_not_grow_with_the_sessions(
    login, member, make_closed, consultants, group, django_assert_max_num_queries
):
    client = login(member)
    client.get(reverse("home"))  # warms caches (content types…)
    for user in [make_user(f"Membre {i}") for i in range(2)]:
        add_member(group, user)

    def count():
        with CaptureQueriesContext(connection) as queries:
            response = client.get(history_url(group))
        assert response.status_code == 200
        return len(queries), response.content.decode()

    for months in (1, 2):
        make_closed(months, consultants[months % 4], ratings=[4, 3])
    few, content = count()
    assert len(circles(content)) == 2

    for months in range(3, 13):
        make_closed(months, consultants[months % 4], ratings=[months % 5 + 1, 5])
    many, content = count()
    assert len(circles(content)) == 12

    assert few == many
    with django_assert_max_num_queries(HISTORY_QUERIES):
        client.get(history_url(group))
