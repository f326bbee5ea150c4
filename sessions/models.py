import datetime as dt

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from groups.models import Group, SessionFormat, Topic
from groups.tokens import short_code


class SessionQuerySet(models.QuerySet):
    def upcoming(self):
        return self.exclude(status=Session.Status.CLOSED).filter(
            scheduled_at__gte=timezone.now() - Session.LIVE_GRACE
        )

    def past(self):
        return self.filter(
            Q(status=Session.Status.CLOSED) | Q(scheduled_at__lt=timezone.now() - Session.LIVE_GRACE)
        )


class Session(models.Model):
    class Status(models.TextChoices):
        PLANNED = "planned", _("planifiée")
        LIVE = "live", _("en cours")
        CLOSED = "closed", _("terminée")

    # A session that started a few hours ago still counts as "next" on the home
    # page; after that it is listed with the past ones.
    LIVE_GRACE = dt.timedelta(hours=4)

    code = models.CharField(max_length=16, unique=True, default=short_code, editable=False)
    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="sessions")
    scheduled_at = models.DateTimeField(_("date et heure"))
    place = models.CharField(
        _("lieu ou lien de visio"), max_length=300, blank=True
    )
    format_minutes = models.PositiveSmallIntegerField(
        _("format"), choices=SessionFormat, default=SessionFormat.TWO_HOURS
    )
    status = models.CharField(max_length=16, choices=Status, default=Status.PLANNED)
    topic = models.ForeignKey(
        Topic,
        verbose_name=_("sujet"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="sessions",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = SessionQuerySet.as_manager()

    class Meta:
        verbose_name = _("séance")
        verbose_name_plural = _("séances")
        ordering = ["scheduled_at"]
        indexes = [models.Index(fields=["group", "scheduled_at"])]

    def __str__(self):
        return f"{self.group} — {timezone.localtime(self.scheduled_at):%Y-%m-%d %H:%M}"

    @property
    def ends_at(self):
        return self.scheduled_at + dt.timedelta(minutes=self.format_minutes)


class Participation(models.Model):
    """A person's role in one session; roles rotate from one session to the next."""

    class Role(models.TextChoices):
        FACILITATOR = "facilitator", _("animateur")
        CLIENT = "client", _("client")
        CONSULTANT = "consultant", _("consultant")

    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="participations")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="participations"
    )
    role = models.CharField(_("rôle"), max_length=16, choices=Role)

    class Meta:
        verbose_name = _("participation")
        verbose_name_plural = _("participations")
        constraints = [
            models.UniqueConstraint(fields=["session", "user"], name="participation_once"),
            models.UniqueConstraint(
                fields=["session"], condition=Q(role="client"), name="participation_one_client"
            ),
            models.UniqueConstraint(
                fields=["session"],
                condition=Q(role="facilitator"),
                name="participation_one_facilitator",
            ),
        ]

    def __str__(self):
        return f"{self.user} — {self.get_role_display()}"
