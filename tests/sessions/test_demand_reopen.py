"""A living contract, its second half (issue 12, part 3): during step 4 the
facilitator can reopen the demand; the client may reword it, the consultants
answer « comprise / à reformuler » again, the facilitator validates it anew.
Every validated version is kept with its time, the pinned demand shows the
current one, and the report says it was reworded.
"""

import datetime as dt
import html

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from sessions import services
from sessions.models import DemandCheck, DemandVersion, Session
from sessions.roles import CLIENT, CONSULTANT, FACILITATOR
from sessions.state import load_state, render_regions
from sessions.steps import Step
from tests.conftest import go_live
from tests.shown import shown

NINE = dt.datetime(2031, 3, 4, 9, 0, tzinfo=dt.UTC)


def seen(session, audience):
    return html.unescape(shown(render_regions(load_state(session.pk), audience)))


@pytest.fixture
def contracted(planned_session, facilitator, client_user, member):
    """A session at step 4 whose demand was worded, checked and validated at step 3."""
    session = go_live(planned_session, Step.DEMAND)
    services.demand_save(session=session, by=client_user, text="tenir mes délais")
    services.demand_check(session=session, by=member, verdict="understood")
    with time_machine.travel(NINE, tick=False):
        services.demand_validate(session=session, by=facilitator)
    services.session_move(session=session, by=facilitator, from_step=Step.DEMAND, forward=True)
    return Session.objects.get(pk=session.pk)


def test_a_validation_keeps_its_wording_and_time(contracted):
    version = DemandVersion.objects.get()
    assert (version.text, version.validated_at) == ("tenir mes délais", NINE)


def test_reopened_at_step_4_the_demand_is_worded_checked_and_validated_again(
    contracted, facilitator, client_user, member
):
    assert "Rouvrir la demande" in seen(contracted, FACILITATOR)
    services.demand_reopen(session=contracted, by=facilitator)

    contracted.refresh_from_db()
    assert contracted.demand_validated_at is None and contracted.demand_reopened_at
    # The consultants answer again; each role has its demand form at step 4.
    assert not DemandCheck.objects.exists()
    assert 'id="id_demand_text"' in seen(contracted, CLIENT)
    assert "Demande comprise" in seen(contracted, CONSULTANT)
    assert "Valider le contrat" in seen(contracted, FACILITATOR)
    assert "rouverte, à valider de nouveau" in seen(contracted, CONSULTANT)

    services.demand_save(session=contracted, by=client_user, text="dire non sans culpabiliser")
    services.demand_check(session=contracted, by=member, verdict="rephrase")
    assert "0 sur 1 : demande comprise" in seen(contracted, FACILITATOR)
    with time_machine.travel(NINE + dt.timedelta(minutes=40), tick=False):
        services.demand_validate(session=contracted, by=facilitator)

    contracted.refresh_from_db()
    assert contracted.demand_reopened_at is None
    assert list(DemandVersion.objects.values_list("text", "validated_at")) == [
        ("tenir mes délais", NINE),
        ("dire non sans culpabiliser", NINE + dt.timedelta(minutes=40)),
    ]
    header = seen(contracted, CONSULTANT)
    assert "Aidez-moi à dire non sans culpabiliser" in header
    assert "rouverte" not in header
    assert 'id="id_demand_text"' not in seen(contracted, CLIENT)


def test_without_a_reopening_step_4_has_no_demand_forms(contracted, client_user, member):
    assert 'id="id_demand_text"' not in seen(contracted, CLIENT)
    assert "Demande comprise" not in seen(contracted, CONSULTANT)
    with pytest.raises(ValidationError, match="déjà été validée"):
        services.demand_save(session=contracted, by=client_user, text="autre chose")
    with pytest.raises(ValidationError, match="pas rouverte"):
        services.demand_check(session=contracted, by=member, verdict="understood")
    assert Session.objects.get(pk=contracted.pk).demand_text == "tenir mes délais"


@pytest.mark.parametrize("who", ["client_user", "member"])
def test_only_the_facilitator_reopens(request, contracted, who):
    with pytest.raises(PermissionDenied):
        services.demand_reopen(session=contracted, by=request.getfixturevalue(who))
    assert Session.objects.get(pk=contracted.pk).demand_validated_at is not None


def test_only_a_validated_demand_at_step_4_is_reopened(planned_session, facilitator):
    go_live(planned_session, Step.CONTRIBUTIONS)
    with pytest.raises(ValidationError, match="rien à rouvrir"):
        services.demand_reopen(session=planned_session, by=facilitator)
    go_live(planned_session, Step.ACTION_PLAN)
    with pytest.raises(ValidationError, match="Ce n'est pas le moment"):
        services.demand_reopen(session=planned_session, by=facilitator)


def test_the_report_says_the_demand_was_reworded(login, contracted, facilitator, client_user):
    services.demand_reopen(session=contracted, by=facilitator)
    services.demand_save(session=contracted, by=client_user, text="dire non")
    services.demand_validate(session=contracted, by=facilitator)
    Session.objects.filter(pk=contracted.pk).update(status=Session.Status.CLOSED, step="learnings")

    client = login(client_user)
    page = html.unescape(
        client.get(reverse("session_report", args=[contracted.code])).content.decode()
    )
    assert "La demande a été reformulée pendant la séance" in page
    assert "« Aidez-moi à tenir mes délais »" in page
    assert "Aidez-moi à dire non" in page
    markdown = client.get(
        reverse("session_report_markdown", args=[contracted.code])
    ).content.decode()
    assert "- « Aidez-moi à tenir mes délais » — validée à" in markdown


def test_a_demand_never_reopened_reads_as_before_in_the_report(login, contracted, client_user):
    Session.objects.filter(pk=contracted.pk).update(status=Session.Status.CLOSED, step="learnings")
    page = login(client_user).get(reverse("session_report", args=[contracted.code]))
    assert "reformulée" not in html.unescape(page.content.decode())
