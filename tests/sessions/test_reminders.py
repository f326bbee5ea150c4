"""`send_reminders`: one mail per active member a few days before a session,
with the group, the date, the place and their own open actions; nothing else."""

import datetime as dt
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.test import override_settings
from django.utils import timezone

from groups.models import Group
from sessions.models import (
    ActionItem,
    Contribution,
    Learning,
    Participation,
    PrivateNote,
    Session,
)
from tests.conftest import add_member, make_user

NOW = timezone.now().replace(second=0, microsecond=0)


def run(*args):
    out = StringIO()
    call_command("send_reminders", *args, stdout=out)
    return out.getvalue()


@pytest.fixture(autouse=True)
def frozen_now(monkeypatch):
    # The command reads timezone.now(): pin it so windows are exact.
    monkeypatch.setattr(timezone, "now", lambda: NOW)


def plan(group, *, in_days, status=Session.Status.PLANNED, place="Salle des Tilleuls"):
    return Session.objects.create(
        group=group,
        scheduled_at=NOW + dt.timedelta(days=in_days),
        place=place,
        status=status,
    )


@pytest.fixture
def soon(group):
    return plan(group, in_days=2.5)


@pytest.fixture
def last_session(group, client_user, member):
    """Last month's session: Camille was client, with her action plan."""
    session = plan(group, in_days=-28, status=Session.Status.CLOSED)
    session.demand_text = "trouver comment dire non à ma directrice"
    session.save()
    Participation.objects.create(session=session, user=client_user, role="client")
    for text, status, due in [
        ("Préparer l'entretien", ActionItem.Status.TODO, dt.date(2026, 12, 10)),
        ("Relire ma fiche de poste", ActionItem.Status.DOING, None),
        ("Appeler les RH", ActionItem.Status.DONE, None),
        ("Changer de service", ActionItem.Status.DROPPED, None),
    ]:
        ActionItem.objects.create(
            session=session, author=client_user, text=text, status=status, due_date=due
        )
    ActionItem.objects.create(session=session, author=member, text="Action de Bruno")
    Contribution.objects.create(session=session, author=member, text="Dites non par écrit")
    Learning.objects.create(session=session, author=member, text="Le silence aide")
    PrivateNote.objects.create(session=session, author=client_user, text="J'ai peur de partir")
    return session


def mail_to(mailoutbox, user):
    [mail] = [m for m in mailoutbox if m.to == [user.email]]
    return mail


def test_only_planned_sessions_in_the_window_trigger(group, mailoutbox):
    plan(group, in_days=1.5)  # announced by yesterday's run
    plan(group, in_days=3.5)  # by tomorrow's
    plan(group, in_days=2.5, status=Session.Status.LIVE)
    plan(group, in_days=2.5, status=Session.Status.CLOSED)

    output = run("--days", "3")

    assert mailoutbox == []
    assert "E-mails envoyés : 0." in output


def test_window_leaves_out_its_start_and_takes_its_end(group, mailoutbox):
    # (now + 2 days, now + 3 days]: yesterday's run took the first one.
    plan(group, in_days=2, place="Salle du début")
    plan(group, in_days=3, place="Salle de la fin")

    run("--days", "3")

    assert len(mailoutbox) == 6
    assert all("Salle de la fin" in m.body for m in mailoutbox)
    assert not any("Salle du début" in m.body for m in mailoutbox)


def test_each_active_member_gets_one_mail(
    group, soon, facilitator, client_user, consultants, mailoutbox
):
    sleeper = make_user("Inès Inactive")
    sleeper.is_active = False
    sleeper.save()
    add_member(group, sleeper)
    other_group = Group.objects.create(name="Autre groupe")
    add_member(other_group, make_user("Zoé Ailleurs"))

    output = run("--days", "3")

    recipients = sorted(address for m in mailoutbox for address in m.to)
    expected = sorted(u.email for u in [facilitator, client_user, *consultants])
    assert recipients == expected
    assert "E-mails envoyés : 6." in output


def test_mail_gives_group_date_time_and_place(soon, member, mailoutbox):
    run("--days", "3")

    mail = mail_to(mailoutbox, member)
    local = timezone.localtime(soon.scheduled_at)
    assert "« Groupe test »" in mail.subject
    assert "Groupe test" in mail.body
    assert f"à {local:%H:%M}" in mail.body
    assert "Lieu : Salle des Tilleuls" in mail.body
    assert mail.body.startswith("Bonjour Bruno,")


def test_body_lists_the_members_own_open_actions_only(
    soon, last_session, client_user, member, mailoutbox
):
    run("--days", "3")

    body = mail_to(mailoutbox, client_user).body
    # Dated ones first, soonest first.
    assert "- Préparer l'entretien (pour le 10 décembre 2026)\n- Relire ma fiche de poste\n" in body
    assert "Appeler les RH" not in body
    assert "Changer de service" not in body
    assert "Action de Bruno" not in body
    assert "Préparer l'entretien" not in mail_to(mailoutbox, member).body


@pytest.mark.parametrize("site_url", ["", "https://codev.example.org"])
def test_body_holds_no_demand_contribution_learning_or_private_note(
    soon, last_session, client_user, mailoutbox, settings, site_url
):
    settings.SITE_URL = site_url
    soon.demand_text = "sujet de la prochaine séance"
    soon.expose_title = "Titre de l'exposé"
    soon.save()

    run("--days", "3")

    for mail in mailoutbox:
        for secret in [
            "dire non à ma directrice",
            "sujet de la prochaine séance",
            "Titre de l'exposé",
            "Dites non par écrit",
            "Le silence aide",
            "J'ai peur de partir",
        ]:
            assert secret not in mail.body, (mail.to, secret)
            assert secret not in mail.subject, (mail.to, secret)


@override_settings(SITE_URL="https://codev.example.org")
def test_with_site_url_the_mail_links_to_the_session_and_the_carnet(soon, member, mailoutbox):
    run("--days", "3")

    body = mail_to(mailoutbox, member).body
    assert f"Page de la séance : https://codev.example.org/s/{soon.code}/\n" in body
    assert "Votre carnet : https://codev.example.org/carnet/\n" in body


@override_settings(SITE_URL="")
def test_without_site_url_the_mail_has_no_link(soon, member, mailoutbox):
    run("--days", "3")

    body = mail_to(mailoutbox, member).body
    assert soon.code not in body
    assert "/carnet/" not in body
    assert "Page de la séance" not in body
    assert "Votre carnet" not in body


def test_member_without_open_actions_is_told_so(soon, member, mailoutbox):
    run("--days", "3")

    assert "Vous n'avez pas d'action en cours." in mail_to(mailoutbox, member).body


def test_actions_from_another_group_stay_out(soon, last_session, client_user, mailoutbox):
    elsewhere = Group.objects.create(name="Autre groupe")
    add_member(elsewhere, client_user)
    session = plan(elsewhere, in_days=-10, status=Session.Status.CLOSED)
    ActionItem.objects.create(session=session, author=client_user, text="Action d'ailleurs")

    run("--days", "3")

    assert "Action d'ailleurs" not in mail_to(mailoutbox, client_user).body


def test_dry_run_sends_nothing_and_prints_what_would_go(soon, member, mailoutbox):
    output = run("--days", "3", "--dry-run")

    assert mailoutbox == []
    assert f"À : {member.email}" in output
    assert "Objet : Séance de codéveloppement « Groupe test »" in output
    assert "Essai, rien n'est parti. E-mails à envoyer : 6." in output


def test_daily_runs_announce_a_session_once(group, monkeypatch, mailoutbox):
    plan(group, in_days=2.5)
    for day in range(-2, 4):
        moment = NOW + dt.timedelta(days=day)
        monkeypatch.setattr(timezone, "now", lambda moment=moment: moment)
        run("--days", "3")

    assert len(mailoutbox) == 6


def test_days_must_be_positive(db):
    with pytest.raises(CommandError):
        run("--days", "0")


def test_subject_is_one_line(soon, mailoutbox):
    run("--days", "3")

    assert all("\n" not in m.subject for m in mailoutbox)
