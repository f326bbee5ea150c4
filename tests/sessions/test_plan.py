"""Planning the next session from the group's cadence, and who sees a session."""

import datetime as dt
import html

import pytest
from django.urls import reverse
from django.utils import timezone

from groups.models import CadenceWeek, Weekday
from sessions.models import Session

TUESDAY = 1


def text(response):
    return html.unescape(response.content.decode())


def plan_url(group):
    return reverse("session_plan", args=[group.code])


def assert_redirects_to_sign_in(response):
    assert response.status_code == 302
    assert response.url.startswith(reverse("login") + "?next=")


def first_day_after(day, matches):
    """The first date strictly after `day` for which `matches(date)` holds."""
    day += dt.timedelta(days=1)
    while not matches(day):
        day += dt.timedelta(days=1)
    return day


def is_second_tuesday(day):
    return day.weekday() == TUESDAY and 8 <= day.day <= 14


def is_last_thursday(day):
    return day.weekday() == 3 and (day + dt.timedelta(days=7)).month != day.month


def local_input(value):
    """How a datetime-local input shows an aware datetime."""
    return timezone.localtime(value).strftime("%Y-%m-%dT%H:%M")


def future(days=30, hour=18):
    day = timezone.localdate() + dt.timedelta(days=days)
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour, 0)))


def plan_data(**overrides):
    data = {
        "scheduled_at": local_input(future()),
        "place": "Salle 7, 2e étage",
        "format_minutes": 90,
    }
    data.update(overrides)
    return data


# The proposed date


def test_plan_form_proposes_the_next_second_tuesday_at_six_pm(login, member, group):
    response = login(member).get(plan_url(group))

    assert response.status_code == 200
    proposed = timezone.localtime(response.context["form"].initial["scheduled_at"])
    expected_day = first_day_after(timezone.localdate(), is_second_tuesday)
    assert proposed.date() == expected_day
    assert proposed.time() == dt.time(18, 0)
    assert f'value="{expected_day.isoformat()}T18:00"' in response.content.decode()


def test_plan_form_proposes_the_date_after_the_latest_planned_session(
    login, member, group, facilitator
):
    # A session already planned three months ahead: the next one comes after it.
    latest = timezone.now() + dt.timedelta(days=90)
    Session.objects.create(group=group, scheduled_at=latest, created_by=facilitator)
    Session.objects.create(
        group=group, scheduled_at=timezone.now() + dt.timedelta(days=20), created_by=facilitator
    )

    response = login(member).get(plan_url(group))

    proposed = timezone.localtime(response.context["form"].initial["scheduled_at"])
    assert proposed > latest
    assert proposed.date() == first_day_after(timezone.localdate(latest), is_second_tuesday)
    assert proposed.time() == dt.time(18, 0)


def test_plan_form_never_proposes_the_day_of_the_latest_planned_session(
    login, member, group, facilitator
):
    # Planned on a meeting day's morning (a second Tuesday, the group meets at
    # 18:00): the proposal is the next month's meeting, not that evening.
    meeting_day = first_day_after(timezone.localdate() + dt.timedelta(days=30), is_second_tuesday)
    morning = timezone.make_aware(dt.datetime.combine(meeting_day, dt.time(10, 0)))
    Session.objects.create(group=group, scheduled_at=morning, created_by=facilitator)

    response = login(member).get(plan_url(group))

    proposed = timezone.localtime(response.context["form"].initial["scheduled_at"])
    next_month = first_day_after(meeting_day, is_second_tuesday)
    assert proposed == timezone.make_aware(dt.datetime.combine(next_month, dt.time(18, 0)))


def test_plan_form_follows_the_groups_own_cadence(login, member, group):
    group.cadence_week = CadenceWeek.LAST
    group.cadence_weekday = Weekday.THURSDAY
    group.cadence_time = dt.time(9, 30)
    group.default_place = "Café du Port"
    group.default_format = 180
    group.save()

    response = login(member).get(plan_url(group))

    initial = response.context["form"].initial
    proposed = timezone.localtime(initial["scheduled_at"])
    assert proposed.date() == first_day_after(timezone.localdate(), is_last_thursday)
    assert proposed.time() == dt.time(9, 30)
    assert initial["place"] == "Café du Port"
    assert initial["format_minutes"] == 180
    assert "dernier jeudi du mois" in text(response)


# Planning


def test_member_plans_a_session(login, member, group):
    when = future(days=25)

    response = login(member).post(plan_url(group), plan_data(scheduled_at=local_input(when)))

    session = Session.objects.get(group=group)
    assert response.status_code == 302
    assert response.url == reverse("session_detail", args=[session.code])
    assert session.scheduled_at == when
    assert session.place == "Salle 7, 2e étage"
    assert session.format_minutes == 90
    assert session.created_by == member
    assert session.status == Session.Status.PLANNED


def test_planned_session_shows_on_the_group_page(login, member, group):
    client = login(member)
    client.post(plan_url(group), plan_data())

    response = client.get(reverse("group_detail", args=[group.code]))

    assert "Salle 7, 2e étage" in text(response)


def test_past_date_is_refused_in_french(login, member, group):
    yesterday = timezone.now() - dt.timedelta(days=1)

    response = login(member).post(plan_url(group), plan_data(scheduled_at=local_input(yesterday)))

    assert response.status_code == 400
    assert "Choisissez une date à venir." in text(response)
    # The rest of what was typed stays.
    assert "Salle 7, 2e étage" in text(response)
    assert not Session.objects.exists()


def test_missing_date_gives_a_french_error(login, member, group):
    response = login(member).post(plan_url(group), plan_data(scheduled_at=""))

    assert response.status_code == 400
    assert "Ce champ est obligatoire." in text(response)
    assert not Session.objects.exists()


def test_over_long_place_gives_a_french_error(login, member, group):
    response = login(member).post(plan_url(group), plan_data(place="x" * 301))

    assert response.status_code == 400
    assert "au plus 300 caractères" in text(response)
    assert not Session.objects.exists()


def test_stranger_cannot_plan_a_session(login, outsider, group):
    client = login(outsider)

    assert client.get(plan_url(group)).status_code == 404
    assert client.post(plan_url(group), plan_data()).status_code == 404
    assert not Session.objects.exists()


def test_anonymous_plan_redirects_to_sign_in(client, group):
    assert_redirects_to_sign_in(client.get(plan_url(group)))
    assert_redirects_to_sign_in(client.post(plan_url(group), plan_data()))
    assert not Session.objects.exists()


# The session page


@pytest.mark.parametrize("who", ["facilitator", "client_user", "member"])
def test_group_members_see_the_session_page(request, login, planned_session, who):
    user = request.getfixturevalue(who)

    response = login(user).get(reverse("session_detail", args=[planned_session.code]))

    assert response.status_code == 200
    assert "Groupe test" in text(response)


def test_stranger_gets_404_on_the_session_page(login, outsider, planned_session):
    response = login(outsider).get(reverse("session_detail", args=[planned_session.code]))

    assert response.status_code == 404
    assert "Groupe test" not in text(response)


def test_unknown_session_code_is_404(login, member, db):
    assert login(member).get(reverse("session_detail", args=["inconnu"])).status_code == 404


def test_anonymous_session_page_redirects_to_sign_in(client, planned_session):
    assert_redirects_to_sign_in(client.get(reverse("session_detail", args=[planned_session.code])))


def test_typed_place_is_escaped_where_sessions_are_listed(login, member, group):
    script = "<script>alert(1)</script>"
    client = login(member)
    client.post(plan_url(group), plan_data(place=script))
    assert Session.objects.get(group=group).place == script

    for url in [reverse("group_detail", args=[group.code]), reverse("home")]:
        content = client.get(url).content.decode()
        assert script not in content, url
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in content, url


# Formats: presets and a custom split

CUSTOM_SPLIT = {
    "budget_retour": 0,
    "budget_expose": 10,
    "budget_clarification": 15,
    "budget_demand": 10,
    "budget_contributions": 40,
    "budget_action_plan": 15,
    "budget_learnings": 15,
}


def test_a_preset_format_stores_its_split(login, member, group):
    login(member).post(plan_url(group), plan_data(format_minutes=60))

    session = Session.objects.get(group=group)
    assert session.format_minutes == 60
    assert sum(session.step_budgets.values()) == 60
    assert session.format_label == "1 h"


def test_a_custom_format_stores_each_steps_minutes_and_their_total(login, member, group):
    response = login(member).post(
        plan_url(group), plan_data(format_minutes="custom", **CUSTOM_SPLIT)
    )

    assert response.status_code == 302
    session = Session.objects.get(group=group)
    assert session.step_budgets["contributions"] == 40
    assert session.step_budgets["retour"] == 0
    assert session.format_minutes == 105
    assert session.format_label == "1 h 45"
    assert session.ends_at - session.scheduled_at == dt.timedelta(minutes=105)


def test_a_custom_format_with_a_missing_step_says_which_and_keeps_the_rest(login, member, group):
    split = CUSTOM_SPLIT | {"budget_demand": ""}
    response = login(member).post(plan_url(group), plan_data(format_minutes="custom", **split))

    assert response.status_code == 400
    assert "Indiquez les minutes de cette étape (0 possible)." in text(response)
    assert 'name="budget_contributions" value="40"' in response.content.decode()
    assert not Session.objects.filter(group=group).exists()


def test_a_custom_total_beyond_four_hours_is_refused(login, member, group):
    split = CUSTOM_SPLIT | {"budget_contributions": 180, "budget_learnings": 60}
    response = login(member).post(plan_url(group), plan_data(format_minutes="custom", **split))

    assert response.status_code == 400
    assert "Le total doit être entre 15 min et 4 h (ici 290 min)." in text(response)


def test_the_plan_page_shows_how_presets_split_the_time(login, member, group):
    content = text(login(member).get(plan_url(group)))

    assert "Contributions 35" in content  # 2 h preset
    assert "Contributions 50" in content  # 3 h preset
