"""Session formats beyond 1 h–3 h (issue 12, part 5): the short formats groups
use (« codev flash », 45 min; « codev express », 1 h), the same six steps with
smaller budgets; and a group's own format, a name and minutes per step, saved
when planning and offered for its next sessions.
"""

import html

import pytest

from groups.models import Group, SavedFormat, SessionFormat
from sessions.models import Session
from sessions.steps import ORDER, budgets_for
from tests.sessions.test_plan import future, local_input, plan_data, plan_url

SPLIT = {
    "retour": 0,
    "expose": 10,
    "clarification": 15,
    "demand": 10,
    "contributions": 30,
    "action_plan": 10,
    "learnings": 5,
}


def text(response):
    return html.unescape(response.content.decode())


def custom(days, **extra):
    return plan_data(
        scheduled_at=local_input(future(days=days)),
        format_minutes="custom",
        **{f"budget_{step}": minutes for step, minutes in SPLIT.items()},
        **extra,
    )


@pytest.mark.parametrize(
    ("minutes", "label"), [(45, "codev flash, 45 min"), (60, "codev express, 1 h")]
)
def test_the_short_formats_keep_the_six_steps_with_smaller_budgets(
    login, member, group, minutes, label
):
    client = login(member)
    assert label in text(client.get(plan_url(group)))

    client.post(plan_url(group), plan_data(format_minutes=minutes))

    session = Session.objects.get(group=group)
    assert session.format_minutes == minutes
    assert sum(session.step_budgets.values()) == minutes
    # Every step keeps some time, contributions the most.
    assert all(session.step_budgets[step] > 0 for step in ORDER)
    assert max(session.step_budgets, key=session.step_budgets.get) == "contributions"
    assert budgets_for(SessionFormat.FLASH)["contributions"] == 14


def test_a_custom_split_saved_under_a_name_is_offered_next_time(login, member, group):
    client = login(member)

    response = client.post(plan_url(group), custom(25, save_as="Notre format du jeudi"))

    assert response.status_code == 302
    saved = SavedFormat.objects.get(group=group)
    assert (saved.name, saved.step_budgets, saved.minutes) == ("Notre format du jeudi", SPLIT, 80)
    first = Session.objects.get(group=group)
    assert (first.format_minutes, first.format_name, first.format_label) == (
        80,
        "Notre format du jeudi",
        "Notre format du jeudi",
    )

    page = text(client.get(plan_url(group)))
    assert f'<option value="saved-{saved.pk}">Notre format du jeudi</option>' in page
    client.post(
        plan_url(group),
        plan_data(scheduled_at=local_input(future(days=60)), format_minutes=f"saved-{saved.pk}"),
    )
    second = Session.objects.filter(group=group).order_by("scheduled_at").last()
    assert (second.step_budgets, second.format_minutes, second.format_name) == (
        SPLIT,
        80,
        "Notre format du jeudi",
    )
    assert SavedFormat.objects.count() == 1


def test_the_header_names_the_groups_format(login, member, group):
    login(member).post(plan_url(group), custom(25, save_as="Format court"))
    session = Session.objects.get(group=group)
    page = text(login(member).get(f"/s/{session.code}/"))
    assert "Minutage (Format court) :" in page


def test_a_name_the_group_already_has_is_refused_in_french_and_nothing_typed_is_lost(
    login, member, group
):
    SavedFormat.objects.create(group=group, name="Format court", step_budgets=SPLIT)
    client = login(member)

    response = client.post(plan_url(group), custom(25, save_as="format COURT"))

    assert response.status_code == 400
    page = text(response)
    assert "Le groupe a déjà un format de ce nom" in page
    assert 'value="format COURT"' in page
    assert 'name="budget_contributions" value="30"' in page
    assert not Session.objects.exists()


def test_another_groups_format_cannot_be_used(login, member, group, facilitator):
    other = Group.objects.create(name="Autre groupe", created_by=facilitator)
    foreign = SavedFormat.objects.create(group=other, name="Le leur", step_budgets=SPLIT)
    client = login(member)

    assert "Le leur" not in text(client.get(plan_url(group)))
    response = client.post(plan_url(group), plan_data(format_minutes=f"saved-{foreign.pk}"))

    assert response.status_code == 400
    assert "Sélectionnez un choix valide" in text(response)
    assert not Session.objects.exists()


def test_the_plan_page_reads_the_formats_in_one_query(
    login, member, group, django_assert_max_num_queries
):
    client = login(member)
    client.get(plan_url(group))
    with django_assert_max_num_queries(20) as few:
        client.get(plan_url(group))
    for i in range(5):
        SavedFormat.objects.create(group=group, name=f"Format {i}", step_budgets=SPLIT)
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(plan_url(group))
