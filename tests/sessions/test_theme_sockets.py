"""What the themes and the reformulations send down the sockets: the change
alone, and the client's tags to the client alone (issue 12, parts 1 and 3)."""

import pytest
from channels.db import database_sync_to_async

from sessions import services
from sessions.models import Contribution, Theme
from sessions.steps import Step
from tests.sessions.test_consumer import drain, go_live, open_socket, receive_until

pytestmark = [
    pytest.mark.asyncio,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("empty_channel_layer", "asgi_application"),
]


@database_sync_to_async
def board(session, author, facilitator, cards=3):
    made = [
        Contribution.objects.create(session=session, author=author, text=f"Carte {i}")
        for i in range(cards)
    ]
    theme = Theme.objects.create(session=session, author=facilitator, name="Organisation")
    return made, theme


async def sockets(session, *people):
    opened = [(await open_socket(session, person))[0] for person in people]
    for socket in opened:
        await drain(socket)
    return opened


async def test_a_card_placed_moves_on_every_screen_and_nothing_else_is_sent(
    planned_session, facilitator, client_user, member
):
    await go_live(planned_session, Step.CONTRIBUTIONS)
    cards, theme = await board(planned_session, member, facilitator)
    phones = await sockets(planned_session, member, client_user, facilitator)

    await database_sync_to_async(services.card_place)(
        session=planned_session, by=facilitator, contribution=cards[1], theme=theme
    )

    for socket in phones:
        pushed = await receive_until(socket, "Carte 1")
        # Out of its list, into the theme's: the card alone, no region.
        assert f'<li id="card-{cards[1].code}" hx-swap-oob="delete"></li>' in pushed
        assert f'<div hx-swap-oob="beforeend:#theme-{theme.code}-cards">' in pushed
        assert "Carte 0" not in pushed and "Carte 2" not in pushed
        for region in ("live-header", "live-board", "live-composer"):
            assert f'id="{region}"' not in pushed
        await socket.disconnect()


async def test_a_theme_created_reaches_the_phones_as_one_box(
    planned_session, facilitator, client_user, member
):
    await go_live(planned_session, Step.CONTRIBUTIONS)
    await board(planned_session, member, facilitator)
    consultant, client, laptop = await sockets(planned_session, member, client_user, facilitator)

    await database_sync_to_async(services.theme_create)(
        session=planned_session, by=facilitator, name="Relations <i>équipe</i>"
    )

    pushed = await receive_until(consultant, "Relations")
    assert '<div hx-swap-oob="beforeend:#themes">' in pushed
    assert "Relations &lt;i&gt;équipe&lt;/i&gt;" in pushed
    assert "Carte 0" not in pushed
    # The client's box offers to keep the whole theme; the facilitator's pane
    # is drawn again, every card's chooser listing the new theme.
    assert "Tout le thème" in await receive_until(client, "Relations")
    facilitator_push = await receive_until(laptop, "Relations")
    assert facilitator_push.count("Relations &lt;i&gt;équipe&lt;/i&gt;</option>") == 3
    for socket in (consultant, client, laptop):
        await socket.disconnect()


async def test_a_whole_theme_kept_reaches_the_client_alone(
    planned_session, facilitator, client_user, member
):
    await go_live(planned_session, Step.CONTRIBUTIONS)
    cards, theme = await board(planned_session, member, facilitator)
    for card in cards[:2]:
        await database_sync_to_async(services.card_place)(
            session=planned_session, by=facilitator, contribution=card, theme=theme
        )
    consultant, client = await sockets(planned_session, member, client_user)

    await database_sync_to_async(services.theme_tag)(
        session=planned_session, by=client_user, theme=theme, tag="keep"
    )

    pushed = await receive_until(client, "Carte 1")
    assert pushed.count("tag-keep") >= 2
    assert await consultant.receive_from() == (
        '<template data-sync data-from="2" data-to="3"></template>'
    )
    await consultant.disconnect()
    await client.disconnect()


async def test_a_reformulation_reaches_every_phone_as_one_item(
    planned_session, facilitator, client_user, member
):
    await go_live(planned_session, Step.DEMAND)
    phones = await sockets(planned_session, member, client_user, facilitator)

    await database_sync_to_async(services.reformulation_post)(
        session=planned_session, by=member, text="Tu veux <tenir> tes délais."
    )

    for socket in phones:
        pushed = await receive_until(socket, "tes délais")
        assert '<div hx-swap-oob="beforeend:#reformulations">' in pushed
        assert "Tu veux &lt;tenir&gt; tes délais." in pushed
        for region in ("live-header", "live-board", "live-composer"):
            assert f'id="{region}"' not in pushed
        await socket.disconnect()
