"""Demo data for `make run`: one pilot group you can sign in to at once.

Idempotent: running it again finds what it made and adds nothing twice.

Valid whatever today is (tests/groups/test_seed_demo.py runs it on every day
of a year): the closed sessions sit on the group's last meeting dates before
today, the planned one on the first after, each on a date of its own.
"""

import datetime as dt

from django.core.management.base import BaseCommand
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from groups import cadence, cycles
from groups.models import CharterAdoption, Cycle, Group, Membership, Topic, User
from sessions.models import (
    ActionItem,
    ActionUpdate,
    Contribution,
    ContributionTag,
    Feedback,
    Learning,
    Participation,
    PrivateNote,
    Question,
    Session,
    Theme,
)

DEMO_PASSWORD = "codev-demo"
GROUP_NAME = "Groupe pilote"
FACILITATOR = ("Claire Dubois", "claire@demo.codev")
MEMBERS = [
    ("Amina Benali", "amina@demo.codev"),
    ("Thomas Lefèvre", "thomas@demo.codev"),
    ("Sophie Martin", "sophie@demo.codev"),
    ("Julien Moreau", "julien@demo.codev"),
    ("Élodie Girard", "elodie@demo.codev"),
    ("Karim Haddad", "karim@demo.codev"),
]
TOPICS = [
    (
        "amina@demo.codev",
        "Recadrer un collaborateur plus âgé que moi",
        "Je manage depuis six mois une équipe où un collaborateur expérimenté "
        "conteste mes décisions en réunion.",
        Topic.Urgency.HIGH,
    ),
    (
        "thomas@demo.codev",
        "Dire non à ma direction sans me griller",
        "On me confie un troisième projet prioritaire alors que les deux premiers "
        "sont déjà en retard.",
        Topic.Urgency.NORMAL,
    ),
    (
        "julien@demo.codev",
        "Reprendre une équipe après un conflit",
        "Mon prédécesseur est parti après un conflit ouvert ; l'équipe se méfie.",
        Topic.Urgency.LOW,
    ),
]
PAST_TOPIC = (
    "sophie@demo.codev",
    "Faire adopter un nouvel outil à une équipe réticente",
    "L'équipe continue d'utiliser ses tableurs six mois après le déploiement.",
)


# The demo's cycle: the sessions held (each one's client below), and those to come.
HELD = range(4)
CYCLE_AHEAD = 3


class Command(BaseCommand):
    help = "Creates the « Groupe pilote » demo group, its members, topics and sessions."

    @transaction.atomic
    def handle(self, *args, **options):
        facilitator = self._user(*FACILITATOR)
        members = [self._user(name, email) for name, email in MEMBERS]
        group = Group.objects.filter(name=GROUP_NAME, created_by=facilitator).first()
        if group is None:
            group = Group.objects.create(
                name=GROUP_NAME,
                description="Managers de proximité de plusieurs entreprises de la région.",
                default_place="Maison des associations, salle 2",
                created_by=facilitator,
            )
        now = timezone.now()
        held = self._held_meetings(group, now)
        # Members since before the first demo session: what was said in a
        # session is for those who were there (docs/decisions.md).
        joined = held[0] - dt.timedelta(days=28)
        self._member(group, facilitator, Membership.Role.FACILITATOR, joined)
        for user in members:
            self._member(group, user, Membership.Role.MEMBER, joined)

        by_email = {user.email: user for user in [facilitator, *members]}
        for email, title, context, urgency in TOPICS:
            Topic.objects.get_or_create(
                group=group,
                title=title,
                defaults={"proposed_by": by_email[email], "context": context, "urgency": urgency},
            )

        next_meeting = self._meeting_start(
            group,
            cadence.next_meeting_date(
                week=group.cadence_week,
                weekday=group.cadence_weekday,
                after=timezone.localdate(now),
            ),
        )
        cycle = self._cycle(group, facilitator, members, held)
        if not group.sessions.filter(scheduled_at__gte=now).exists():
            # The cycle's three sessions to come: the next meeting, then the cadence's.
            for start in [
                next_meeting,
                *cycles.cadence_dates(group, CYCLE_AHEAD - 1, next_meeting),
            ]:
                Session.objects.create(
                    group=group,
                    cycle=cycle,
                    scheduled_at=start,
                    place=group.default_place,
                    format_minutes=group.default_format,
                    created_by=facilitator,
                )
        if not group.sessions.filter(scheduled_at__lt=now).exists():
            self._past_sessions(group, facilitator, members, by_email, now, held, next_meeting)
            group.sessions.filter(scheduled_at__lt=now).update(cycle=cycle)

        self.stdout.write(
            self.style.SUCCESS("Données de démonstration prêtes : « Groupe pilote ».")
        )
        self.stdout.write(f"Comptes de démo (mot de passe commun : {DEMO_PASSWORD}) :")
        self.stdout.write(f"  animatrice : {FACILITATOR[1]}")
        for _name, email in MEMBERS:
            self.stdout.write(f"  membre     : {email}")

    def _cycle(self, group, facilitator, members, held):
        """Cycle 1: launched the month before the first session held, its
        charter adopted by everyone; 4 of its 7 sessions held, one « sans
        trace ». Seven for six members: the group allowed a second turn."""
        launch = self._meeting_start(
            group,
            cadence.previous_meeting_date(
                week=group.cadence_week,
                weekday=group.cadence_weekday,
                before=timezone.localdate(held[0]),
            ),
        )
        cycle, created = Cycle.objects.get_or_create(
            group=group,
            number=1,
            defaults={
                "planned_sessions": len(HELD) + CYCLE_AHEAD,
                "repeat_clients": True,
                "launch_at": launch,
                "launch_place": group.default_place,
                "charter_adopted_at": launch + dt.timedelta(minutes=40),
                "started_by": facilitator,
            },
        )
        if created:
            Cycle.objects.filter(pk=cycle.pk).update(started_at=launch - dt.timedelta(days=21))
            CharterAdoption.objects.bulk_create(
                CharterAdoption(
                    cycle=cycle, user=user, adopted_at=launch + dt.timedelta(minutes=30)
                )
                for user in [facilitator, *members]
            )
        return cycle

    def _user(self, full_name, email):
        user, created = User.objects.get_or_create(email=email, defaults={"full_name": full_name})
        if created:
            user.set_password(DEMO_PASSWORD)
            user.save(update_fields=["password"])
        return user

    def _member(self, group, user, role, joined):
        Membership.objects.get_or_create(
            group=group,
            user=user,
            defaults={"role": role, "joined_at": joined, "charter_accepted_at": joined},
        )

    @staticmethod
    def _meeting_start(group, day: dt.date) -> dt.datetime:
        return timezone.make_aware(dt.datetime.combine(day, group.cadence_time))

    def _held_meetings(self, group, now) -> list[dt.datetime]:
        """The group's last four meeting starts before today, oldest first.

        Before today, not before now: a meeting this evening is neither held
        nor shown as held, and the sessions held end before midnight.
        """
        days = []
        before = timezone.localdate(now)
        for _ in HELD:
            before = cadence.previous_meeting_date(
                week=group.cadence_week, weekday=group.cadence_weekday, before=before
            )
            days.append(before)
        return [self._meeting_start(group, day) for day in reversed(days)]

    def _past_sessions(self, group, facilitator, members, by_email, now, held, next_meeting):
        """Four closed sessions, the last one told in full: the carnet, the
        report, the history chart and the next session's « retour » have
        something to show. The first was « sans trace »: the group kept its
        date and roles, each person their own learnings."""
        for start, client_email, rating in [
            (held[0], "thomas@demo.codev", 4),
            (held[1], "karim@demo.codev", 4),
            (held[2], "elodie@demo.codev", 3),
        ]:
            session = self._closed(group, facilitator, members, by_email[client_email], start)
            for user in members[:4]:
                Feedback.objects.create(session=session, author=user, rating=rating)
        untraced = group.sessions.get(scheduled_at=held[0])
        Session.objects.filter(pk=untraced.pk).update(no_trace=True, kept=Session.Kept.NOTHING)
        Learning.objects.create(
            session=untraced,
            author=by_email["thomas@demo.codev"],
            text="Dire ce qui me pèse avant que ça déborde.",
        )
        email, title, context = PAST_TOPIC
        client = by_email[email]
        topic, _created = Topic.objects.get_or_create(
            group=group,
            title=title,
            defaults={"proposed_by": client, "context": context, "status": Topic.Status.TAKEN},
        )
        session = self._closed(group, facilitator, members, client, held[3], topic=topic)
        Session.objects.filter(pk=session.pk).update(
            expose_title=title,
            expose_summary=context,
            demand_text="faire adopter l'outil sans passer en force",
            demand_validated_at=session.scheduled_at + dt.timedelta(minutes=50),
            report_all_cards=False,
        )
        amina, thomas, julien = (
            by_email["amina@demo.codev"],
            by_email["thomas@demo.codev"],
            by_email["julien@demo.codev"],
        )
        Question.objects.create(
            session=session, author=amina, text="Qui a choisi l'outil ?", answered=True
        )
        Question.objects.create(
            session=session,
            author=thomas,
            kind=Question.Kind.FEELING,
            text="J'entends beaucoup de fatigue dans ta voix.",
            answered=True,
        )
        kept = Contribution.objects.create(
            session=session,
            author=julien,
            kind=Contribution.Kind.EXPERIENCE,
            text="J'ai fait former deux volontaires qui ont ensuite montré l'outil aux autres.",
        )
        later = Contribution.objects.create(
            session=session,
            author=amina,
            kind=Contribution.Kind.SUGGESTION,
            text="Supprimer les tableurs à une date annoncée à l'avance.",
        )
        mirror = Contribution.objects.create(
            session=session,
            author=thomas,
            kind=Contribution.Kind.MIRROR,
            text="Je t'entends porter seule le changement.",
        )
        # The facilitator's themes (Metaplan), as the report shows them.
        team = Theme.objects.create(session=session, author=facilitator, name="Embarquer l'équipe")
        calendar = Theme.objects.create(session=session, author=facilitator, name="Le calendrier")
        for card, theme in ((kept, team), (mirror, team), (later, calendar)):
            card.theme = theme
        Contribution.objects.bulk_update([kept, mirror, later], ["theme"])
        # The client's own sorting, seen in their carnet alone.
        ContributionTag.objects.bulk_create(
            ContributionTag(contribution=card, user=client, tag=tag)
            for card, tag in [
                (kept, ContributionTag.Tag.KEEP),
                (later, ContributionTag.Tag.NOT_NOW),
                (mirror, ContributionTag.Tag.EXPLORE),
            ]
        )
        done = ActionItem.objects.create(
            session=session,
            author=client,
            contribution=kept,
            text="Trouver deux volontaires pour former l'équipe",
            status=ActionItem.Status.DONE,
            progress_note="Léa et Marc sont partants.",
            # Between the session's end and now, however recent the session.
            progress_at=max(session.ends_at, now - dt.timedelta(days=10)),
        )
        ActionUpdate.objects.create(action=done, status=done.status, note=done.progress_note)
        ActionItem.objects.create(
            session=session,
            author=client,
            text="Demander à l'équipe ce qui la freine",
            # The default the live page proposes: by the next session.
            due_date=timezone.localdate(next_meeting),
        )
        for user, text in [
            (client, "Je n'ai pas à tout porter seule."),
            (julien, "Les volontaires convainquent mieux qu'une consigne."),
            (facilitator, "Laisser plus de silence après la demande."),
        ]:
            Learning.objects.create(session=session, author=user, text=text)
        for user in [client, amina, thomas, julien, facilitator]:
            Feedback.objects.create(session=session, author=user, rating=5 if user == client else 4)
        PrivateNote.objects.create(
            session=session, author=client, text="En parler à ma N+1 avant la prochaine séance."
        )
        ActionUpdate.objects.filter(action=done).update(created_at=done.progress_at)
        self._backdate(group, held)

    @staticmethod
    def _backdate(group, held):
        """What was written in a session is dated from it, not from this run:
        the carnet and the report show those dates."""
        Group.objects.filter(pk=group.pk).update(created_at=held[0] - dt.timedelta(days=28))
        closed = group.sessions.filter(status=Session.Status.CLOSED)
        closed.update(created_at=F("scheduled_at") - dt.timedelta(days=21))
        for session in closed:
            written = session.scheduled_at + dt.timedelta(minutes=session.format_minutes - 15)
            written_models = (Question, Contribution, Theme, ActionItem, Learning, Feedback)
            for model in (*written_models, PrivateNote):
                model.objects.filter(session=session).update(created_at=written)

    def _closed(self, group, facilitator, members, client, start, topic=None):
        session = Session.objects.create(
            group=group,
            scheduled_at=start,
            place=group.default_place,
            format_minutes=group.default_format,
            status=Session.Status.CLOSED,
            started_at=start,
            closed_at=start + dt.timedelta(minutes=group.default_format),
            topic=topic,
            created_by=facilitator,
        )
        Participation.objects.create(
            session=session, user=facilitator, role=Participation.Role.FACILITATOR
        )
        Participation.objects.create(session=session, user=client, role=Participation.Role.CLIENT)
        Participation.objects.bulk_create(
            Participation(session=session, user=user, role=Participation.Role.CONSULTANT)
            for user in members
            if user != client
        )
        return session
