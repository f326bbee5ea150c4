import datetime as dt

from django.conf import settings
from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from groups import cadence, dates
from groups.tokens import secret_token, short_code

# A codev group gathers 5 to 8 members, the facilitator not counted.
MIN_MEMBERS = 5
MAX_MEMBERS = 8


class UserManager(BaseUserManager):
    use_in_migrations = True

    def _create_user(self, email, password, **extra_fields):
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra_fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", False)
        extra_fields.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra_fields)

    def create_superuser(self, email, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", True)
        extra_fields.setdefault("is_superuser", True)
        return self._create_user(email, password, **extra_fields)

    def get_by_natural_key(self, username):
        # Sign-in is case-insensitive on the email address.
        return self.get(email__iexact=username)


class User(AbstractUser):
    """A person: signs in with an email address, shows a display name."""

    username = None
    first_name = None
    last_name = None
    email = models.EmailField(_("adresse e-mail"), unique=True)
    full_name = models.CharField(_("nom"), max_length=120)

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS = ["full_name"]

    # Fields the admin never filters by (groups.admin.PrivateFieldsAdmin): a
    # prefix lookup would read them out one character at a time.
    private_fields = ("password",)

    objects = UserManager()

    class Meta:
        verbose_name = _("personne")
        verbose_name_plural = _("personnes")
        ordering = ["full_name"]

    def __str__(self):
        return self.full_name or self.email

    def get_full_name(self):
        return self.full_name

    def get_short_name(self):
        return self.full_name.split(" ")[0] if self.full_name else self.email


class SessionFormat(models.IntegerChoices):
    """Total duration of a session, in minutes."""

    # The short formats groups use: the same six steps, smaller budgets.
    FLASH = 45, _("codev flash, 45 min")
    ONE_HOUR = 60, _("codev express, 1 h")
    NINETY_MINUTES = 90, _("1 h 30")
    TWO_HOURS = 120, _("2 h")
    THREE_HOURS = 180, _("3 h")


class SavedFormat(models.Model):
    """A group's own format: a name and minutes per step, saved when planning
    a session with a custom split, offered for the group's next sessions."""

    group = models.ForeignKey("Group", on_delete=models.CASCADE, related_name="formats")
    name = models.CharField(_("nom du format"), max_length=60)
    step_budgets = models.JSONField(_("minutage"))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("format du groupe")
        verbose_name_plural = _("formats du groupe")
        ordering = ["name", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["group", "name"], name="saved_format_name_per_group")
        ]

    def __str__(self):
        return self.name

    @property
    def minutes(self) -> int:
        return sum(self.step_budgets.values())


class CadenceWeek(models.IntegerChoices):
    FIRST = 1, _("1er")
    SECOND = 2, _("2e")
    THIRD = 3, _("3e")
    FOURTH = 4, _("4e")
    LAST = cadence.LAST_WEEK, _("dernier")


class Weekday(models.IntegerChoices):
    MONDAY = 0, _("lundi")
    TUESDAY = 1, _("mardi")
    WEDNESDAY = 2, _("mercredi")
    THURSDAY = 3, _("jeudi")
    FRIDAY = 4, _("vendredi")
    SATURDAY = 5, _("samedi")
    SUNDAY = 6, _("dimanche")


DEFAULT_CHARTER = _(
    "Confidentialité : ce qui se dit dans le groupe reste dans le groupe.\n"
    "Bienveillance : on accueille la personne et sa situation sans juger.\n"
    "Parler vrai : chacun parle en son nom, avec franchise et respect.\n"
    "Engagement : je viens à chaque séance, à l'heure, et je m'implique "
    "comme client et comme consultant."
)


def default_charter():
    return str(DEFAULT_CHARTER)


class Group(models.Model):
    code = models.CharField(max_length=16, unique=True, default=short_code, editable=False)
    name = models.CharField(_("nom"), max_length=120)
    description = models.TextField(_("description"), max_length=2000, blank=True)
    cadence_week = models.PositiveSmallIntegerField(
        _("semaine du mois"), choices=CadenceWeek, default=CadenceWeek.SECOND
    )
    cadence_weekday = models.PositiveSmallIntegerField(
        _("jour"), choices=Weekday, default=Weekday.TUESDAY
    )
    cadence_time = models.TimeField(_("heure"), default=dt.time(18, 0))
    default_format = models.PositiveSmallIntegerField(
        _("format des séances"), choices=SessionFormat, default=SessionFormat.TWO_HOURS
    )
    default_place = models.CharField(
        _("lieu habituel"),
        max_length=200,
        blank=True,
        help_text=_("Une adresse, une salle ou un lien de visioconférence."),
    )
    charter = models.TextField(_("charte"), max_length=4000, default=default_charter)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )

    class Meta:
        verbose_name = _("groupe")
        verbose_name_plural = _("groupes")
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(cadence_week__gte=1, cadence_week__lte=cadence.LAST_WEEK),
                name="group_cadence_week_range",
            ),
            models.CheckConstraint(
                condition=Q(cadence_weekday__lte=6), name="group_cadence_weekday_range"
            ),
        ]

    def __str__(self):
        return self.name

    @property
    def cadence_label(self):
        return _("%(week)s %(weekday)s du mois, %(hour)s") % {
            "week": self.get_cadence_week_display(),
            "weekday": self.get_cadence_weekday_display(),
            "hour": self.cadence_time.strftime("%H:%M"),
        }

    def next_meeting_start(self, after: dt.datetime | None = None) -> dt.datetime | None:
        """The start of the next meeting the cadence gives, in the current time zone;
        None when the calendar ends first (after a date stored near year 9999)."""
        after = timezone.localtime(dates.clamp(after or timezone.now()))
        # From the day before, so that on a meeting day this evening's meeting counts.
        day = after.date() - dt.timedelta(days=1)
        while True:
            day = cadence.next_meeting_date(
                week=self.cadence_week, weekday=self.cadence_weekday, after=day
            )
            if day is None:
                return None
            start = timezone.make_aware(dt.datetime.combine(day, self.cadence_time))
            if start > after:
                return start


class MembershipQuerySet(models.QuerySet):
    def members(self):
        """Those counted in the 5 to 8: everyone but the facilitator."""
        return self.filter(role=Membership.Role.MEMBER)


class Membership(models.Model):
    class Role(models.TextChoices):
        MEMBER = "member", pgettext_lazy("group role", "membre")
        FACILITATOR = "facilitator", pgettext_lazy("group role", "animateur")

    code = models.CharField(max_length=16, unique=True, default=short_code, editable=False)
    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(_("rôle"), max_length=16, choices=Role, default=Role.MEMBER)
    joined_at = models.DateTimeField(_("membre depuis"), default=timezone.now)
    charter_accepted_at = models.DateTimeField(_("charte acceptée le"))

    objects = MembershipQuerySet.as_manager()

    class Meta:
        verbose_name = _("adhésion")
        verbose_name_plural = _("adhésions")
        ordering = ["role", "user__full_name"]
        constraints = [
            models.UniqueConstraint(fields=["group", "user"], name="membership_once_per_group"),
            # One animateur per group; the role per session rotates (Participation).
            models.UniqueConstraint(
                fields=["group"],
                condition=Q(role="facilitator"),
                name="membership_one_facilitator",
            ),
        ]

    def __str__(self):
        return f"{self.user} — {self.group}"

    @property
    def is_facilitator(self):
        return self.role == self.Role.FACILITATOR


class InvitationQuerySet(models.QuerySet):
    def pending(self):
        return self.filter(accepted_at__isnull=True, expires_at__gt=timezone.now())


def invitation_expiry():
    return timezone.now() + settings.INVITATION_VALIDITY


class Invitation(models.Model):
    """A single-use link that brings one person into a group."""

    token = models.CharField(max_length=64, unique=True, default=secret_token, editable=False)
    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="invitations")

    # The token is a key to the group (groups.admin.PrivateFieldsAdmin).
    private_fields = ("token",)
    email = models.EmailField(_("adresse e-mail"), blank=True)
    role = models.CharField(
        _("rôle"), max_length=16, choices=Membership.Role, default=Membership.Role.MEMBER
    )
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(default=invitation_expiry)
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    objects = InvitationQuerySet.as_manager()

    class Meta:
        verbose_name = _("invitation")
        verbose_name_plural = _("invitations")
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.group} — {self.email or '…'}"

    @property
    def is_expired(self):
        return self.expires_at <= timezone.now()

    @property
    def is_used(self):
        return self.accepted_at is not None


class Topic(models.Model):
    """A problem a member would like to bring as client (stock de sujets)."""

    class Urgency(models.IntegerChoices):
        LOW = 1, _("peut attendre")
        NORMAL = 2, _("dans les prochains mois")
        HIGH = 3, _("urgent")

    class Status(models.TextChoices):
        OPEN = "open", _("en attente")
        TAKEN = "taken", _("traité en séance")
        WITHDRAWN = "withdrawn", _("retiré")

    code = models.CharField(max_length=16, unique=True, default=short_code, editable=False)
    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="topics")
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="topics"
    )
    title = models.CharField(_("titre"), max_length=140)
    context = models.TextField(_("contexte"), max_length=1000, blank=True)
    urgency = models.PositiveSmallIntegerField(
        _("urgence"), choices=Urgency, default=Urgency.NORMAL
    )
    status = models.CharField(max_length=16, choices=Status, default=Status.OPEN)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("sujet")
        verbose_name_plural = _("sujets")
        ordering = ["-urgency", "created_at"]

    def __str__(self):
        return self.title


class CalendarFeed(models.Model):
    """A person's private iCalendar URL; a new token revokes the old one."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="calendar_feed"
    )
    token = models.CharField(max_length=64, unique=True, default=secret_token)
    created_at = models.DateTimeField(auto_now=True)

    # The token is the feed's only key (groups.admin.PrivateFieldsAdmin).
    private_fields = ("token",)

    class Meta:
        verbose_name = _("flux agenda")
        verbose_name_plural = _("flux agenda")

    def __str__(self):
        return str(self.user)


# A cycle holds as many sessions as the group has members, so that each is
# client once: from 2 (a group that starts small) to 24 (two years, monthly).
MIN_CYCLE_SESSIONS = 2
MAX_CYCLE_SESSIONS = 24


class CycleQuerySet(models.QuerySet):
    def open(self):
        return self.filter(ended_at__isnull=True)


class Cycle(models.Model):
    """A round of sessions in which each member is client once, opened by a
    launch session (« séance de lancement ») where the group rereads and
    adopts its charter, sets its format and who facilitates, and closed by a
    review (« bilan de cycle ») where the group decides what comes next."""

    class Facilitation(models.TextChoices):
        ANIMATEUR = "animateur", _("l'animateur du groupe anime chaque séance")
        ROTATING = "rotating", _("tournante : un membre différent à chaque séance")

    class Decision(models.TextChoices):
        SAME = "same", _("un nouveau cycle, avec les mêmes membres")
        CHANGED = "changed", _("un nouveau cycle, avec des départs ou des arrivées")
        STOP = "stop", _("le groupe s'arrête ici")

    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="cycles")
    number = models.PositiveSmallIntegerField(_("numéro"))
    planned_sessions = models.PositiveSmallIntegerField(
        _("nombre de séances"),
        validators=[
            MinValueValidator(MIN_CYCLE_SESSIONS),
            MaxValueValidator(MAX_CYCLE_SESSIONS),
        ],
    )
    facilitation = models.CharField(
        _("animation"), max_length=16, choices=Facilitation, default=Facilitation.ANIMATEUR
    )
    repeat_clients = models.BooleanField(
        _("un membre peut être client deux fois dans le cycle"), default=False
    )
    # Bounded when typed, and read back within the calendar (groups/dates.py).
    launch_at = dates.BoundedDateTimeField(
        _("séance de lancement"), validators=[dates.validate_planned]
    )
    launch_place = models.CharField(_("lieu ou lien de visio"), max_length=300, blank=True)
    # When the group adopted its charter at the launch session.
    charter_adopted_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(auto_now_add=True)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    # The review's outcome: the cycle is over once the group decided.
    ended_at = models.DateTimeField(null=True, blank=True)
    decision = models.CharField(_("décision"), max_length=16, choices=Decision, blank=True)

    objects = CycleQuerySet.as_manager()

    class Meta:
        verbose_name = _("cycle")
        verbose_name_plural = _("cycles")
        ordering = ["group", "number"]
        constraints = [
            models.UniqueConstraint(fields=["group", "number"], name="cycle_number_per_group"),
            # One cycle at a time: a new one starts once the last one's review decided.
            models.UniqueConstraint(
                fields=["group"], condition=Q(ended_at__isnull=True), name="cycle_one_open"
            ),
            models.CheckConstraint(
                condition=Q(
                    planned_sessions__gte=MIN_CYCLE_SESSIONS,
                    planned_sessions__lte=MAX_CYCLE_SESSIONS,
                ),
                name="cycle_planned_sessions_range",
            ),
        ]

    def __str__(self):
        return _("Cycle %(number)d — %(group)s") % {"number": self.number, "group": self.group}

    @property
    def is_open(self):
        return self.ended_at is None

    @property
    def launch_ends_at(self):
        return dates.shift(self.launch_at, dt.timedelta(hours=2))


class CharterAdoption(models.Model):
    """A member's « j'adopte la charte » at a cycle's launch session."""

    cycle = models.ForeignKey(Cycle, on_delete=models.CASCADE, related_name="adoptions")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    adopted_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("adoption de la charte")
        verbose_name_plural = _("adoptions de la charte")
        ordering = ["adopted_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["cycle", "user"], name="charter_adoption_once")
        ]

    def __str__(self):
        return f"{self.user} — {self.cycle}"
