import datetime as dt

from django.conf import settings
from django.db import models
from django.db.models import CharField, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from groups import dates
from groups.models import Cycle, Group, SessionFormat, Topic
from groups.tokens import short_code
from sessions.steps import Step, budgets_for

# The most « +5 min » can add to one step (services.session_add_time, and a
# constraint): three hours more than its budget is past any real session, and
# far below the smallint the total is kept in.
MAX_EXTRA_MINUTES = 180


class SessionQuerySet(models.QuerySet):
    def upcoming(self):
        return self.exclude(status=Session.Status.CLOSED).filter(
            scheduled_at__gte=timezone.now() - Session.LIVE_GRACE
        )

    def past(self):
        return self.filter(
            Q(status=Session.Status.CLOSED)
            | Q(scheduled_at__lt=timezone.now() - Session.LIVE_GRACE)
        )


class Session(models.Model):
    class Status(models.TextChoices):
        PLANNED = "planned", _("planifiée")
        LIVE = "live", _("en cours")
        CLOSED = "closed", _("terminée")

    class Timer(models.TextChoices):
        """Who sees the step's countdown. Some facilitators find a countdown on
        every phone puts pressure on the client: the others then read the
        step's budget, « environ 15 min », and never an overrun."""

        EVERYONE = "everyone", _("sur tous les écrans")
        FACILITATOR = "facilitator", _("sur l'écran de l'animateur seulement")
        NOWHERE = "nowhere", _("nulle part (le temps prévu seulement)")

    class Kept(models.TextChoices):
        """What the group keeps of a session « sans trace », the client's
        choice at its closing; everything else written in it by others is
        deleted then (services.session_close)."""

        NOTHING = "nothing", _("rien que la date et les rôles")
        CONTRACT = "contract", _("la demande et le plan d'action")
        CARDS = "cards", _("la demande, le plan d'action et les contributions retenues")

    # A session that started a few hours ago still counts as "next" on the home
    # page; after that it is listed with the past ones.
    LIVE_GRACE = dt.timedelta(hours=4)

    code = models.CharField(max_length=16, unique=True, default=short_code, editable=False)
    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="sessions")
    # Bounded when typed, and read back within the calendar (groups/dates.py).
    scheduled_at = dates.BoundedDateTimeField(
        _("date et heure"), validators=[dates.validate_planned]
    )
    place = models.CharField(_("lieu ou lien de visio"), max_length=300, blank=True)
    # Total minutes: one of SessionFormat's presets, or the sum of a custom split.
    format_minutes = models.PositiveSmallIntegerField(_("format"), default=SessionFormat.TWO_HOURS)
    # The name of the group's own format it was planned with (groups.SavedFormat).
    format_name = models.CharField(_("nom du format"), max_length=60, blank=True)
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
    # The cycle it belongs to (groups.Cycle): its number in it is its rank by date.
    cycle = models.ForeignKey(
        Cycle, on_delete=models.SET_NULL, null=True, blank=True, related_name="sessions"
    )
    # « Sans trace »: no written record of what the client said is kept once
    # the session is closed, but what the client chose (`kept`).
    no_trace = models.BooleanField(
        _("séance sans trace"),
        default=False,
        help_text=_(
            "À la clôture, le client choisit ce que le groupe garde ; le reste de ce qui "
            "a été écrit pendant la séance est effacé pour de bon."
        ),
    )
    kept = models.CharField(
        _("ce que le groupe garde"), max_length=16, choices=Kept, default=Kept.NOTHING
    )

    # Minutes per step, keyed by Step value; filled from the format's preset.
    step_budgets = models.JSONField(_("minutage"), default=dict, blank=True)
    include_retour = models.BooleanField(
        _("commencer par le retour du client précédent"), default=True
    )
    step = models.CharField(max_length=16, choices=Step, blank=True)
    step_started_at = models.DateTimeField(null=True, blank=True)
    timer = models.CharField(
        _("compte à rebours"), max_length=16, choices=Timer, default=Timer.EVERYONE
    )
    # « +5 min » on the current step, reset by each step change; capped.
    extra_minutes = models.PositiveSmallIntegerField(default=0)
    # Bumped by every write that changes what a screen shows; each region carries
    # it so a late websocket message never overwrites newer state.
    version = models.PositiveIntegerField(default=0)
    started_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    expose_title = models.CharField(_("titre"), max_length=140, blank=True)
    expose_summary = models.TextField(_("la situation"), max_length=4000, blank=True)
    demand_text = models.CharField(_("Aidez-moi à …"), max_length=500, blank=True)
    demand_validated_at = models.DateTimeField(null=True, blank=True)
    # The facilitator reopened the contract at step 4 (contributions drifted):
    # until it is validated again, the client rewords and the consultants
    # answer anew, there (DemandVersion keeps each validated wording).
    demand_reopened_at = models.DateTimeField(null=True, blank=True)
    # The client's choice: the report shows every card, or only those they kept.
    report_all_cards = models.BooleanField(
        _("montrer toutes les contributions dans le compte rendu"), default=False
    )

    objects = SessionQuerySet.as_manager()

    class Meta:
        verbose_name = _("séance")
        verbose_name_plural = _("séances")
        ordering = ["scheduled_at"]
        indexes = [models.Index(fields=["group", "scheduled_at"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(extra_minutes__lte=MAX_EXTRA_MINUTES),
                name="session_extra_minutes_capped",
            ),
        ]

    def __str__(self):
        return f"{self.group} — {timezone.localtime(self.scheduled_at):%Y-%m-%d %H:%M}"

    def save(self, *args, **kwargs):
        if not self.step_budgets:
            self.step_budgets = budgets_for(self.format_minutes)
        super().save(*args, **kwargs)

    @property
    def format_label(self):
        """« 1 h 30 », « 2 h », « 1 h 45 »: the same shape for presets and custom
        totals; a group's own format by its name."""
        if self.format_name:
            return self.format_name
        hours, minutes = divmod(self.format_minutes, 60)
        if not hours:
            return f"{minutes} min"
        return f"{hours} h {minutes:02d}" if minutes else f"{hours} h"

    @property
    def is_live(self):
        return self.status == self.Status.LIVE

    @property
    def is_closed(self):
        return self.status == self.Status.CLOSED

    def shows_countdown(self, audience: str) -> bool:
        """Whether `audience`'s screen counts the step down (Session.Timer)."""
        if self.timer == self.Timer.EVERYONE:
            return True
        return self.timer == self.Timer.FACILITATOR and audience == "facilitator"

    @property
    def step_budget_minutes(self):
        """The step's budget, for « environ 15 min »."""
        return self.step_budgets.get(self.step, 0) + self.extra_minutes

    @property
    def step_budget_seconds(self):
        minutes = self.step_budgets.get(self.step, 0) + self.extra_minutes
        return minutes * 60

    @property
    def step_ends_at(self):
        if not self.step_started_at:
            return None
        return dates.shift(self.step_started_at, dt.timedelta(seconds=self.step_budget_seconds))

    @property
    def ends_at(self):
        return dates.shift(self.scheduled_at, dt.timedelta(minutes=self.format_minutes))

    @property
    def keeps_contract(self) -> bool:
        """The group keeps the demand and the action plan: every session but
        one « sans trace » whose client chose to keep nothing."""
        return not (self.no_trace and self.kept == self.Kept.NOTHING)

    @property
    def keeps_cards(self) -> bool:
        return not self.no_trace or self.kept == self.Kept.CARDS

    @property
    def held_until(self):
        """When the session ended: its closing, else its planned end."""
        return self.closed_at or self.ends_at


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


class Authored(models.Model):
    """Something a participant wrote during a session."""

    code = models.CharField(max_length=16, unique=True, default=short_code, editable=False)
    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="%(class)ss")
    # Null once the author deleted their account: shown as « ancien membre ».
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        abstract = True
        ordering = ["created_at", "pk"]

    def __str__(self):
        text = getattr(self, "text", "")
        return f"{self._meta.verbose_name} — {text[:60]}" if text else str(self._meta.verbose_name)


class Question(Authored):
    class Kind(models.TextChoices):
        FACT = "fact", _("question factuelle")
        FEELING = "feeling", _("ressenti")

    kind = models.CharField(_("type"), max_length=16, choices=Kind, default=Kind.FACT)
    text = models.CharField(_("question"), max_length=500)
    answered = models.BooleanField(default=False)
    hidden = models.BooleanField(default=False)

    class Meta(Authored.Meta):
        verbose_name = _("question")
        verbose_name_plural = _("questions")


class DemandCheck(Authored):
    """A consultant's answer to the client's demand: understood, or to rephrase."""

    class Verdict(models.TextChoices):
        UNDERSTOOD = "understood", _("demande comprise")
        REPHRASE = "rephrase", _("à reformuler")

    verdict = models.CharField(max_length=16, choices=Verdict)

    class Meta(Authored.Meta):
        verbose_name = _("avis sur la demande")
        verbose_name_plural = _("avis sur la demande")
        constraints = [
            models.UniqueConstraint(fields=["session", "author"], name="demand_check_once")
        ]


class ContributionQuerySet(models.QuerySet):
    def with_tag_of(self, user_id):
        """Each card with `tag`: how `user_id` sorted it ("" if they did not).

        Tags are per person (`ContributionTag`): read for one reader at a
        time, so that nobody's tags reach anyone else's screen. A subquery,
        not a query per card.
        """
        tags = ContributionTag.objects.filter(contribution=OuterRef("pk"), user_id=user_id)
        return self.annotate(
            tag=Coalesce(Subquery(tags.values("tag")[:1]), Value(""), output_field=CharField())
        )


class DemandVersion(models.Model):
    """A wording of the demand as it was validated, with its time: a contract
    reopened and validated again keeps every version."""

    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="demand_versions")
    text = models.CharField(_("Aidez-moi à …"), max_length=500)
    validated_at = models.DateTimeField()

    class Meta:
        verbose_name = _("version de la demande")
        verbose_name_plural = _("versions de la demande")
        ordering = ["validated_at", "pk"]

    def __str__(self):
        return self.text


class Reformulation(Authored):
    """A consultant's « Ce que j'ai compris : … » at step 3, before the client
    settles the demand: visible to all, read by the client beside the draft."""

    text = models.CharField(_("ce que j'ai compris"), max_length=500)

    class Meta(Authored.Meta):
        verbose_name = _("reformulation")
        verbose_name_plural = _("reformulations")


class Theme(Authored):
    """A group of cards at step 4, named by the facilitator (the Metaplan
    method: the group's written cards, clustered into a collective production).

    A card is in one theme or none (« à classer »). Removing a theme puts its
    cards back to « à classer »; the client can keep a whole theme, or turn it
    into an action at step 5.
    """

    name = models.CharField(_("thème"), max_length=80)

    class Meta(Authored.Meta):
        verbose_name = _("thème")
        verbose_name_plural = _("thèmes")


class Contribution(Authored):
    class Kind(models.TextChoices):
        EXPERIENCE = "experience", _("expérience")
        SUGGESTION = "suggestion", _("suggestion")
        MIRROR = "mirror", _("effet miroir")

    kind = models.CharField(_("type"), max_length=16, choices=Kind, default=Kind.SUGGESTION)
    text = models.TextField(_("contribution"), max_length=1000)
    theme = models.ForeignKey(
        Theme, on_delete=models.SET_NULL, null=True, blank=True, related_name="cards"
    )
    # When the card was put where it is (a theme, or back to « à classer »):
    # each list shows its cards in the order they came to it, so that a card
    # moved live lands where a fresh page would draw it. Null: where it was
    # written, at its creation.
    placed_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = ContributionQuerySet.as_manager()

    class Meta(Authored.Meta):
        verbose_name = _("contribution")
        verbose_name_plural = _("contributions")

    @property
    def placed(self):
        """When the card came to the list it is in: that list's order."""
        return self.placed_at or self.created_at

    @property
    def tag_label(self):
        """The label of the `tag` that `with_tag_of` read, for templates."""
        tag = getattr(self, "tag", "")
        return ContributionTag.Tag(tag).label if tag else ""


class ContributionTag(models.Model):
    """How one client sorted one card: theirs alone, whatever role they hold later.

    Per person, not per card: when the facilitator names another client
    during a session, the new client starts untagged and the previous one
    keeps their tags (docs/decisions.md). Nobody else ever reads them: not the
    consultants, not the report, not the admin (which does not list them).
    Deleted with the person's account, like a private note.
    """

    class Tag(models.TextChoices):
        KEEP = "keep", _("je retiens")
        EXPLORE = "explore", _("à explorer")
        NOT_NOW = "not_now", _("pas maintenant")

    contribution = models.ForeignKey(Contribution, on_delete=models.CASCADE, related_name="tags")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    tag = models.CharField(max_length=16, choices=Tag)

    # Every field: the admin refuses any lookup that reaches this model
    # (groups.admin.PrivateFieldsAdmin).
    private_fields = ("id", "contribution", "user", "tag")

    class Meta:
        verbose_name = _("classement d'une contribution")
        verbose_name_plural = _("classements des contributions")
        constraints = [
            models.UniqueConstraint(fields=["contribution", "user"], name="contribution_tag_once")
        ]

    def __str__(self):
        return f"{self._meta.verbose_name} #{self.pk}"


class ActionItem(Authored):
    class Status(models.TextChoices):
        TODO = "todo", _("à faire")
        DOING = "doing", _("en cours")
        DONE = "done", _("fait")
        DROPPED = "dropped", _("abandonnée")

    text = models.CharField(_("action"), max_length=300)
    due_date = models.DateField(_("pour le"), null=True, blank=True)
    status = models.CharField(max_length=16, choices=Status, default=Status.TODO)
    contribution = models.ForeignKey(
        Contribution, on_delete=models.SET_NULL, null=True, blank=True, related_name="actions"
    )
    theme = models.ForeignKey(
        Theme, on_delete=models.SET_NULL, null=True, blank=True, related_name="actions"
    )
    # The latest progress, kept here for lists; the dated history is ActionUpdate.
    progress_note = models.CharField(_("où j'en suis"), max_length=300, blank=True)
    progress_at = models.DateTimeField(null=True, blank=True)

    class Meta(Authored.Meta):
        verbose_name = _("action")
        verbose_name_plural = _("actions")
        # « En faire une action » once per card: a second tap, or two phones of
        # the client at once, must not make the same action twice.
        constraints = [
            models.UniqueConstraint(fields=["contribution"], name="action_once_per_contribution"),
            models.UniqueConstraint(fields=["theme"], name="action_once_per_theme"),
        ]

    @property
    def is_open(self):
        return self.status in (self.Status.TODO, self.Status.DOING)


class ActionUpdate(models.Model):
    """One dated step of an action's progress, written by its owner."""

    action = models.ForeignKey(ActionItem, on_delete=models.CASCADE, related_name="updates")
    status = models.CharField(max_length=16, choices=ActionItem.Status)
    note = models.CharField(_("où j'en suis"), max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("avancement d'une action")
        verbose_name_plural = _("avancements des actions")
        ordering = ["created_at", "pk"]

    def __str__(self):
        return f"{self.action_id} → {self.status}"


class Learning(Authored):
    # A learning is personal: deleting one's account deletes it (not « ancien membre »).
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, related_name="learnings"
    )
    text = models.TextField(_("ce que j'ai appris"), max_length=1000)

    class Meta(Authored.Meta):
        verbose_name = _("apprentissage")
        verbose_name_plural = _("apprentissages")


class Feedback(Authored):
    rating = models.PositiveSmallIntegerField(_("note"))
    comment = models.CharField(_("commentaire"), max_length=500, blank=True)

    # Read by its author alone (their carnet, their export): the admin neither
    # shows it nor filters by it (groups.admin.PrivateFieldsAdmin).
    private_fields = ("comment",)

    class Meta(Authored.Meta):
        verbose_name = _("retour sur la séance")
        verbose_name_plural = _("retours sur la séance")
        constraints = [
            models.UniqueConstraint(fields=["session", "author"], name="feedback_once"),
            models.CheckConstraint(
                condition=Q(rating__gte=1, rating__lte=5), name="feedback_rating_1_to_5"
            ),
        ]


class PrivateNote(Authored):
    """Visible to its author alone: not the facilitator, not the admin.

    Written during a session, or between sessions in the carnet de bord
    (optionally tied to a session); deleted with the author's account.
    """

    session = models.ForeignKey(
        Session,
        verbose_name=_("séance"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="privatenotes",
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, related_name="private_notes"
    )
    text = models.TextField(_("note"), max_length=2000)
    updated_at = models.DateTimeField(auto_now=True)

    # Filtering by it would read it prefix by prefix (groups.admin.PrivateFieldsAdmin).
    private_fields = ("text",)

    class Meta(Authored.Meta):
        verbose_name = _("note privée")
        verbose_name_plural = _("notes privées")

    def __str__(self):
        # Never the text: the admin shows str() in titles, breadcrumbs, delete
        # confirmations (deleting a user lists their notes) and its action log.
        return f"{self._meta.verbose_name} #{self.pk}"


class HandRaise(Authored):
    """A place in the speaking queue; the facilitator gives the floor, then clears it."""

    speaking = models.BooleanField(default=False)

    class Meta(Authored.Meta):
        verbose_name = _("main levée")
        verbose_name_plural = _("mains levées")
        constraints = [models.UniqueConstraint(fields=["session", "author"], name="hand_once")]


class Presence(models.Model):
    """One open websocket: who is connected right now, across daphne processes."""

    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="presences")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    channel_name = models.CharField(max_length=200, unique=True)
    connected_at = models.DateTimeField(auto_now_add=True)
    # Refreshed by the process holding the socket (sessions/presence.py): the
    # row of a process killed without its disconnects stops being refreshed.
    seen_at = models.DateTimeField(default=timezone.now, db_index=True)
    # The language the phone reads: broadcasts are rendered in each one present.
    language = models.CharField(max_length=8, default=settings.LANGUAGE_CODE)
    # A room screen's socket (sessions.roles.ROOM): it hears the session but is
    # nobody, so it shows no one online and holds no seat of its person's.
    screen = models.BooleanField(default=False)

    def __str__(self):
        return f"{self.user_id} @ {self.session_id}"


class CycleReview(models.Model):
    """What a cycle brought a member (« bilan de cycle »), written in their
    carnet after its last session. The first two parts are theirs alone;
    `shared` is what they choose to tell the group, read on the cycle's
    review page by those who were members during it."""

    cycle = models.ForeignKey(Cycle, on_delete=models.CASCADE, related_name="reviews")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="cycle_reviews"
    )
    learnt = models.TextField(_("ce que le cycle m'a appris"), max_length=2000, blank=True)
    practice = models.TextField(_("ce qui a changé dans ma pratique"), max_length=2000, blank=True)
    shared = models.TextField(_("ce que je partage avec le groupe"), max_length=2000, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    # Read by its author alone, but for `shared` (groups.admin.PrivateFieldsAdmin).
    private_fields = ("learnt", "practice")

    class Meta:
        verbose_name = _("bilan de cycle")
        verbose_name_plural = _("bilans de cycle")
        ordering = ["created_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["cycle", "author"], name="cycle_review_once")
        ]

    def __str__(self):
        # Never the text: the admin shows str() in titles and its action log.
        return f"{self._meta.verbose_name} #{self.pk}"
