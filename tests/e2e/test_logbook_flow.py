"""Between sessions, on a phone: the client marks an action « fait » in their
carnet; at the next session the facilitator's step 0 (« retour ») shows it."""

import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from groups.models import User
from sessions.models import ActionItem, Participation, Session
from tests.e2e.test_live_session import LAPTOP, LIVE_DELAY, PHONE, sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def previous_action(group, facilitator, client_user):
    previous = Session.objects.create(
        group=group,
        scheduled_at=timezone.now() - dt.timedelta(days=30),
        status=Session.Status.CLOSED,
    )
    Participation.objects.create(session=previous, user=facilitator, role="facilitator")
    Participation.objects.create(session=previous, user=client_user, role="client")
    return ActionItem.objects.create(
        session=previous, author=client_user, text="Poser un cadre aux réunions d'équipe"
    )


def test_an_action_marked_done_on_a_phone_shows_at_the_next_sessions_retour(
    browser,
    live_server_url,
    server_password_hash,
    planned_session,
    facilitator,
    client_user,
    previous_action,
    screenshot,
):
    User.objects.filter(pk__in=[facilitator.pk, client_user.pk]).update(
        password=server_password_hash
    )
    laptop = browser.new_context(base_url=live_server_url, locale="fr-FR", **LAPTOP).new_page()
    phone = browser.new_context(base_url=live_server_url, locale="fr-FR", **PHONE).new_page()
    session_path = f"/s/{planned_session.code}/"
    sign_in(laptop, facilitator, session_path)
    sign_in(phone, client_user, "/carnet/")

    laptop.get_by_role("button", name="Démarrer la séance").click()
    board = laptop.locator("#live-board")
    expect(board).to_contain_text("Poser un cadre aux réunions d'équipe", timeout=LIVE_DELAY * 1000)
    expect(board).to_contain_text("à faire")

    action = phone.locator(f"#action-{previous_action.code}").first
    action.locator("select[name=status]").select_option("done")
    action.locator("input[name=note]").fill("Cadre posé lundi, l'équipe a suivi")
    action.get_by_role("button", name="Mettre à jour").click()
    expect(phone.locator(".messages")).to_contain_text("Avancement enregistré.")
    screenshot(phone, "carnet-action-done-phone")

    expect(board).to_contain_text("fait", timeout=LIVE_DELAY * 1000)
    expect(board).to_contain_text("Cadre posé lundi", timeout=LIVE_DELAY * 1000)
    assert laptop.evaluate("window.loadedOnce") is True
    screenshot(laptop, "retour-shows-action-done-facilitator")
