"""Email each member a reminder a few days before their group's next session.

Meant for a daily cron: a run picks the planned sessions that start in the
window (now + days - 1 day, now + days], so consecutive daily runs cover the
calendar without overlap and each session is announced once. See README.md.

The mail holds the group, the date, the place, the session's number in its
cycle (« séance 4 sur 7 »), the member's own open actions (text and due
date), and for the next client a word to prepare their topic (a title
only): never the demand, contributions or notes, since mail travels
through servers outside the group. With SITE_URL set it also links
to the session's page and to the member's carnet; the links hold only the
session's public code, and both pages ask the member to sign in.
"""

import datetime as dt
from collections import defaultdict

from django.conf import settings
from django.core.mail import send_mass_mail
from django.core.management.base import BaseCommand, CommandError
from django.db.models import F
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from groups import cycles
from groups.models import Membership, Topic
from sessions.models import ActionItem, Participation, Session

OPEN_STATUSES = [ActionItem.Status.TODO, ActionItem.Status.DOING]
# A year ahead is already more than a reminder is for; and `now + days` must
# stay within the calendar.
MAX_DAYS = 366


def sessions_due(*, days: int, now: dt.datetime):
    end = now + dt.timedelta(days=days)
    return (
        Session.objects.filter(
            status=Session.Status.PLANNED,
            scheduled_at__gt=end - dt.timedelta(days=1),
            scheduled_at__lte=end,
        )
        .select_related("group", "cycle")
        .order_by("scheduled_at")
    )


def _next_client(session: Session, memberships):
    """The session's client once named, else the one its cycle proposes."""
    named = session.participations.filter(role=Participation.Role.CLIENT).first()
    if named is not None:
        return named.user
    if session.cycle_id is None:
        return None
    topics = list(
        session.group.topics.filter(status=Topic.Status.OPEN).select_related("proposed_by")
    )
    return cycles.overview(session.cycle, memberships, topics).proposed_client


def reminders_for(session: Session) -> list[tuple[str, str, None, list[str]]]:
    """(subject, body, from, [to]) for every active member of the session's group."""
    memberships = list(
        Membership.objects.filter(group_id=session.group_id, user__is_active=True)
        .select_related("user")
        .order_by("user__full_name")
    )
    actions = defaultdict(list)
    open_actions = (
        ActionItem.objects.filter(
            session__group_id=session.group_id,
            author__in=[m.user for m in memberships],
            status__in=OPEN_STATUSES,
        )
        .only("author_id", "text", "due_date")
        .order_by(F("due_date").asc(nulls_last=True), "created_at", "pk")
    )
    for action in open_actions:
        actions[action.author_id].append(action)
    # No request here to take the host from: without SITE_URL there is no link
    # rather than a relative one that no mail reader can follow.
    links = {}
    if settings.SITE_URL:
        links = {
            "session_url": settings.SITE_URL + reverse("session_detail", args=[session.code]),
            "logbook_url": settings.SITE_URL + reverse("logbook"),
        }
    if settings.SITE_URL:
        links["topics_url"] = settings.SITE_URL + reverse("topic_list", args=[session.group.code])
    position = cycles.position(session)
    next_client = _next_client(session, memberships)
    messages = []
    for membership in memberships:
        context = {
            "person": membership.user,
            "group": session.group,
            "session": session,
            "position": position,
            "is_next_client": next_client is not None and membership.user_id == next_client.pk,
            "actions": actions[membership.user_id],
            **links,
        }
        subject = render_to_string("sessions/email/reminder_subject.txt", context)
        body = render_to_string("sessions/email/reminder.txt", context)
        # A header cannot hold a line break.
        subject = " ".join(subject.split())
        messages.append((subject, body, None, [membership.user.email]))
    return messages


class Command(BaseCommand):
    help = (
        "Email each member of a group a reminder of the group's next session, "
        "with their own open actions. Run it once a day (cron)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--days",
            type=int,
            default=3,
            help="Remind of sessions starting between DAYS-1 and DAYS days from now (default 3).",
        )
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Print the emails that would be sent; send nothing.",
        )

    def handle(self, *args, days, dry_run, **options):
        if not 1 <= days <= MAX_DAYS:
            raise CommandError(f"--days must be between 1 and {MAX_DAYS}.")
        # Whole minutes: a cron that fires a few seconds late one day and early
        # the next neither skips nor repeats a session at the window's edge.
        now = timezone.now().replace(second=0, microsecond=0)
        with translation.override(settings.LANGUAGE_CODE):
            messages = [
                message
                for session in sessions_due(days=days, now=now)
                for message in reminders_for(session)
            ]
            if dry_run:
                for subject, body, _sender, recipients in messages:
                    self.stdout.write(f"À : {', '.join(recipients)}\nObjet : {subject}\n\n{body}")
                    self.stdout.write("-" * 40)
                self.stdout.write(
                    _("Essai, rien n'est parti. E-mails à envoyer : %(count)d.")
                    % {"count": len(messages)}
                )
                return
            sent = send_mass_mail(messages, fail_silently=False) if messages else 0
            # « E-mails envoyés : 0 » reads right for every count, unlike a plural form.
            self.stdout.write(_("E-mails envoyés : %(count)d.") % {"count": sent})
