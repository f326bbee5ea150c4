"""The room screen (issue 12, part 2): /s/<code>/salle/ on a projector follows
the session live, large, with no control and nothing private; it is its own
audience in the broadcast, drawn once per change whatever the number of room
screens, and not at all while none is open.
"""

import html
import re

import pytest
from channels.db import database_sync_to_async
from django.conf import settings
from django.test import Client
from django.urls import reverse

import codev.asgi
from sessions import deltas, services
from sessions.models import Contribution, Presence, PrivateNote, Question, Session
from sessions.roles import CONSULTANT, ROOM
from sessions.steps import Step
from tests.conftest import go_live
from tests.sessions.test_consumer import drain, open_socket
from tests.sockets import Communicator, session_cookie

pytestmark = pytest.mark.django_db(transaction=True)

HIDDEN_QUESTION = "Question masquée par l'animateur"
NOTE = "Ma note privée sur Camille"
COMMENT = "Commentaire d'avis privé"
CONTROLS = ("<form", "<button", "<input", "<select", "<textarea", "draggable")
# What never reaches the room. A question is seen by everyone until the
# facilitator hides it; from then on it is not shown (the page, a reconnect).
PRIVATE = (NOTE, COMMENT, "tag-keep", "tag-explore", "je retiens", "moyenne")


async def room_socket(session, user):
    """A room screen's socket, opened as `user`."""
    cookie = f"{settings.SESSION_COOKIE_NAME}={await session_cookie(user)}"
    communicator = Communicator(
        codev.asgi.application,
        f"/ws/sessions/{session.code}/salle/",
        headers=[
            (b"origin", b"http://testserver"),
            (b"host", b"testserver"),
            (b"cookie", cookie.encode()),
        ],
    )
    connected, _ = await communicator.connect()
    assert connected
    return communicator


async def everything_heard(communicator):
    heard = []
    while not await communicator.receive_nothing(timeout=0.3):
        heard.append(await communicator.receive_from())
    return heard


def assert_nothing_private(text, where, *, hidden_too=False):
    for secret in (*PRIVATE, HIDDEN_QUESTION) if hidden_too else PRIVATE:
        assert secret not in text, f"{secret!r} reached the room ({where})"
    for control in CONTROLS:
        assert control not in text, f"a control ({control}) on the room screen ({where})"


def room_page(session, user):
    client = Client()
    client.force_login(user)
    response = client.get(reverse("session_room", args=[session.code]))
    assert response.status_code == 200
    return response.content.decode()


@database_sync_to_async
def a_whole_session(session, facilitator, client_user, consultants):
    """Every step, with everything private a session holds."""
    fact = services.question_post(
        session=session, by=consultants[0], kind="fact", text="Depuis quand ?"
    )
    services.question_mark(session=session, by=client_user, question=fact, answered=True)
    hidden = services.question_post(
        session=session, by=consultants[1], kind="fact", text=HIDDEN_QUESTION
    )
    services.question_mark(session=session, by=facilitator, question=hidden, hidden=True)
    services.session_move(
        session=session, by=facilitator, from_step=Step.CLARIFICATION, forward=True
    )
    services.demand_save(session=session, by=client_user, text="tenir mes délais")
    services.demand_check(session=session, by=consultants[0], verdict="understood")
    services.demand_validate(session=session, by=facilitator)
    services.session_move(session=session, by=facilitator, from_step=Step.DEMAND, forward=True)
    cards = [
        services.contribution_post(
            session=session, by=consultants[i], kind="mirror", text=f"Carte {i}"
        )
        for i in range(3)
    ]
    theme = services.theme_create(session=session, by=facilitator, name="Organisation")
    services.card_place(session=session, by=facilitator, contribution=cards[0], theme=theme)
    services.contribution_tag(session=session, by=client_user, contribution=cards[1], tag="keep")
    services.theme_tag(session=session, by=client_user, theme=theme, tag="explore")
    services.hand_toggle(session=session, by=consultants[2])
    PrivateNote.objects.create(session=session, author=client_user, text=NOTE)
    services.session_move(
        session=session, by=facilitator, from_step=Step.CONTRIBUTIONS, forward=True
    )
    services.action_add(session=session, by=client_user, text="Bloquer mes matinées")
    services.session_move(session=session, by=facilitator, from_step=Step.ACTION_PLAN, forward=True)
    services.learning_post(session=session, by=consultants[0], text="Écouter d'abord")
    services.feedback_post(session=session, by=consultants[0], rating=2, comment=COMMENT)


@pytest.mark.asyncio
@pytest.mark.usefixtures("empty_channel_layer", "asgi_application")
async def test_nothing_private_reaches_the_room_screen_in_a_whole_session(
    planned_session, facilitator, client_user, consultants
):
    await database_sync_to_async(go_live)(planned_session, Step.CLARIFICATION)
    room = await room_socket(planned_session, facilitator)
    first = await room.receive_from()
    assert '<span class="step-number">2</span> Clarification' in first

    await a_whole_session(planned_session, facilitator, client_user, consultants)
    heard = [first, *await everything_heard(room)]

    everything = "\n".join(heard)
    # It followed the whole session: the questions, the grouping, the learnings.
    for seen in ("Depuis quand ?", "Organisation", "Carte 2", "Écouter d&#x27;abord"):
        assert seen in everything, seen
    assert '<span class="step-number">6</span>' in everything
    for message in heard:
        assert_nothing_private(html.unescape(message), "socket")
    # And its page, at the end, the same.
    page = await database_sync_to_async(room_page)(planned_session, facilitator)
    main = page.split('<div id="live"', 1)[1]
    assert_nothing_private(html.unescape(main), "page", hidden_too=True)
    state = await database_sync_to_async(services.broadcast.current_regions)(
        planned_session.pk, ROOM, "fr"
    )
    assert_nothing_private(html.unescape(state), "full state", hidden_too=True)
    await room.disconnect()


@pytest.mark.parametrize("step", [Step.CLARIFICATION, Step.CONTRIBUTIONS, Step.LEARNINGS])
def test_the_room_page_shows_the_step_large_with_no_control(
    planned_session, facilitator, consultants, client_user, step
):
    session = go_live(planned_session, step)
    Contribution.objects.create(session=session, author=consultants[0], text="Une carte")
    Question.objects.create(
        session=session, author=consultants[0], text=HIDDEN_QUESTION, hidden=True
    )

    page = room_page(session, consultants[0])

    assert 'class="live room-screen"' in page
    assert 'ws-connect="/ws/sessions/' + session.code + '/salle/"' in page
    assert f"</span> {Step(step).label}</h1>" in html.unescape(page)
    # No navigation, no language switch: nothing to click.
    assert 'class="topbar"' not in page and "language-switch" not in page
    assert_nothing_private(html.unescape(page.split('<div id="live"', 1)[1]), step, hidden_too=True)


def test_before_the_start_the_room_shows_the_way_in(planned_session, facilitator):
    page = room_page(planned_session, facilitator)
    assert reverse("session_qr", args=[planned_session.code]) in page
    assert "Rejoindre la séance" in page
    go_live(planned_session, Step.EXPOSE)
    assert reverse("session_qr", args=[planned_session.code]) not in room_page(
        planned_session, facilitator
    )


def test_a_stranger_gets_no_room_screen(planned_session, outsider):
    client = Client()
    client.force_login(outsider)
    assert client.get(reverse("session_room", args=[planned_session.code])).status_code == 404


def test_the_facilitators_controls_link_to_the_room_screen(login, planned_session, facilitator):
    go_live(planned_session, Step.EXPOSE)
    page = login(facilitator).get(reverse("session_detail", args=[planned_session.code]))
    link = re.search(
        r'<a href="([^"]+)" target="_blank" rel="noopener" data-testid="room-link">',
        page.content.decode(),
    )
    assert link and link.group(1) == reverse("session_room", args=[planned_session.code])


def screens(session, user, count, language="fr"):
    for i in range(count):
        Presence.objects.create(
            session=session, user=user, channel_name=f"room-{i}", language=language, screen=True
        )


@pytest.mark.parametrize("rooms", [0, 1, 3])
def test_the_room_is_drawn_once_per_change_whatever_the_screens(
    planned_session, facilitator, monkeypatch, django_capture_on_commit_callbacks, rooms
):
    session = go_live(planned_session, Step.EXPOSE)
    screens(session, facilitator, rooms)
    drawn, published = [], []
    original = deltas.Delta._render_one

    def counted(self, partial, audience, step, context):
        drawn.append((partial, audience))
        return original(self, partial, audience, step, context)

    monkeypatch.setattr(deltas.Delta, "_render_one", counted)
    monkeypatch.setattr(services.broadcast, "publish_delta", published.append)

    with django_capture_on_commit_callbacks(execute=True):
        services.session_move(session=session, by=facilitator, from_step=Step.EXPOSE, forward=True)
    rendered = published[0].render()["fr"]

    assert drawn.count(("header", ROOM)) == (1 if rooms else 0)
    assert (ROOM in rendered) is bool(rooms)
    if rooms:
        assert "Clarification" in rendered[ROOM]
        assert "À vous" not in rendered[ROOM] and "À vous" in html.unescape(rendered[CONSULTANT])


@pytest.mark.asyncio
@pytest.mark.usefixtures("empty_channel_layer", "asgi_application")
async def test_a_room_screen_is_nobody_online(planned_session, facilitator, member):
    await database_sync_to_async(go_live)(planned_session, Step.EXPOSE)
    phone, _ = await open_socket(planned_session, member)
    await drain(phone)
    room = await room_socket(planned_session, facilitator)
    await room.receive_from()

    rows = await database_sync_to_async(list)(
        Presence.objects.filter(session=planned_session).values_list("user_id", "screen")
    )
    assert sorted(rows) == sorted([(member.pk, False), (facilitator.pk, True)])
    # Nobody came online: the phones hear no presence change.
    assert await phone.receive_nothing(timeout=0.6)
    state = await database_sync_to_async(
        lambda: services.broadcast.current_regions(planned_session.pk, CONSULTANT, "fr")
    )()
    online = re.findall(r"<span>([^<]+) <span class=\"muted small\">· [^<]*· connecté", state)
    assert [name.strip() for name in online] == [member.full_name]
    await room.disconnect()
    await phone.disconnect()


def test_a_session_moves_without_a_room_screen_as_before(planned_session, facilitator):
    session = go_live(planned_session, Step.EXPOSE)
    services.session_move(session=session, by=facilitator, from_step=Step.EXPOSE, forward=True)
    assert Session.objects.get(pk=session.pk).step == Step.CLARIFICATION
