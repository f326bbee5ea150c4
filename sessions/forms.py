from django import forms
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from groups import dates
from groups.models import SavedFormat, SessionFormat, Topic, User
from sessions import steps
from sessions.models import (
    ActionItem,
    Contribution,
    ContributionTag,
    DemandCheck,
    PrivateNote,
    Question,
    Session,
)

CUSTOM = "custom"


def first_error(form) -> str:
    """A refused form's first error, with its field's label: for a place that
    shows one message rather than the form (the live flash, a redirect)."""
    field, errors = next(iter(form.errors.items()))
    label = form.fields[field].label if field in form.fields else None
    if not label:
        return errors[0]
    return _("%(field)s : %(error)s") % {"field": label, "error": errors[0]}


SAVED = "saved-"


class SessionPlanForm(forms.ModelForm):
    """Date, place and format: a preset, one of the group's own, or a custom
    split typed per step, which the group may save under a name."""

    format_minutes = forms.ChoiceField(label=_("Format"))
    save_as = forms.CharField(
        label=_("Enregistrer ce minutage pour les prochaines séances, sous le nom"),
        max_length=60,
        required=False,
        help_text=_("Seulement pour un format personnalisé ; laissez vide sinon."),
    )

    class Meta:
        model = Session
        fields = ["scheduled_at", "place", "timer", "no_trace"]
        widgets = {
            "timer": forms.RadioSelect,
            "scheduled_at": forms.DateTimeInput(
                attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"
            ),
        }

    def __init__(self, *args, group=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.group = group
        self.saved = list(group.formats.all()) if group is not None else []
        self.fields["format_minutes"].choices = [
            *((str(value), label) for value, label in SessionFormat.choices),
            *((f"{SAVED}{saved.pk}", saved.name) for saved in self.saved),
            (CUSTOM, _("personnalisé : minutes par étape ci-dessous")),
        ]
        # Left out of a post (an older form, a script): the model's default.
        self.fields["timer"].required = False
        preset = self.initial.get("format_minutes") or SessionFormat.TWO_HOURS
        split = steps.budgets_for(int(preset))
        for step in steps.ORDER:
            self.fields[f"budget_{step}"] = forms.IntegerField(
                label=step.label,
                min_value=0,
                max_value=180,
                required=False,
                initial=split[step],
                widget=forms.NumberInput(attrs={"inputmode": "numeric", "class": "minutes"}),
            )

    @property
    def budget_fields(self):
        return [self[f"budget_{step}"] for step in steps.ORDER]

    def clean_scheduled_at(self):
        scheduled_at = self.cleaned_data["scheduled_at"]
        if scheduled_at <= timezone.now():
            raise forms.ValidationError(_("Choisissez une date à venir."), code="past")
        return scheduled_at

    def clean(self):
        cleaned = super().clean()
        choice = cleaned.get("format_minutes")
        if choice is None:
            return cleaned
        if choice.startswith(SAVED):
            saved = next(s for s in self.saved if f"{SAVED}{s.pk}" == choice)
            self.instance.format_minutes = saved.minutes
            self.instance.step_budgets = dict(saved.step_budgets)
            self.instance.format_name = saved.name
            return cleaned
        if choice != CUSTOM:
            self.instance.format_minutes = int(choice)
            self.instance.step_budgets = steps.budgets_for(int(choice))
            return cleaned
        budgets = {step.value: cleaned.get(f"budget_{step}") for step in steps.ORDER}
        missing = [step for step, minutes in budgets.items() if minutes is None]
        for step in missing:
            self.add_error(f"budget_{step}", _("Indiquez les minutes de cette étape (0 possible)."))
        if missing:
            return cleaned
        total = sum(budgets.values())
        if not 15 <= total <= 240:
            raise forms.ValidationError(
                _("Le total doit être entre 15 min et 4 h (ici %(total)d min).") % {"total": total},
                code="total",
            )
        self.instance.format_minutes = total
        self.instance.step_budgets = budgets
        name = cleaned.get("save_as", "")
        if name:
            if any(saved.name.casefold() == name.casefold() for saved in self.saved):
                self.add_error(
                    "save_as", _("Le groupe a déjà un format de ce nom : choisissez-en un autre.")
                )
                return cleaned
            self.instance.format_name = name
        return cleaned

    def save(self, commit=True):
        session = super().save(commit=commit)
        name = self.cleaned_data.get("save_as", "")
        if commit and name and self.cleaned_data.get("format_minutes") == CUSTOM:
            SavedFormat.objects.create(
                group=session.group, name=name, step_budgets=dict(session.step_budgets)
            )
        return session


class ComposerForm(forms.Form):
    """A form of the live page's composer. The page holds every step's pane
    (sessions/spec.py), so each form's fields get ids of their own
    (id_<form>_<field>): a question's text and a contribution's are two."""

    form_name = ""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", f"id_{self.form_name}_%s")
        super().__init__(*args, **kwargs)


class ExposeForm(ComposerForm):
    form_name = "expose"
    title = forms.CharField(label=_("Titre de la situation"), max_length=140)
    summary = forms.CharField(
        label=_("La situation en quelques lignes"),
        max_length=4000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
    )


class QuestionForm(ComposerForm):
    form_name = "question"

    kind = forms.ChoiceField(
        label=_("Type"),
        choices=Question.Kind.choices,
        initial=Question.Kind.FACT,
        widget=forms.RadioSelect,
    )
    text = forms.CharField(
        label=_("Votre question"), max_length=500, widget=forms.Textarea(attrs={"rows": 2})
    )


class DemandForm(ComposerForm):
    form_name = "demand"

    text = forms.CharField(
        label=_("Aidez-moi à …"), max_length=500, widget=forms.Textarea(attrs={"rows": 2})
    )


class ReformulationForm(ComposerForm):
    form_name = "reformulation"

    text = forms.CharField(
        label=_("Ce que j'ai compris :"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class DemandCheckForm(forms.Form):
    verdict = forms.ChoiceField(choices=DemandCheck.Verdict.choices)


class ContributionForm(ComposerForm):
    form_name = "contribution"

    kind = forms.ChoiceField(
        label=_("Type"),
        choices=Contribution.Kind.choices,
        initial=Contribution.Kind.SUGGESTION,
        widget=forms.RadioSelect,
    )
    text = forms.CharField(
        label=_("Votre contribution"), max_length=1000, widget=forms.Textarea(attrs={"rows": 3})
    )


class TagForm(forms.Form):
    tag = forms.ChoiceField(choices=[("", "—"), *ContributionTag.Tag.choices], required=False)


class TimerForm(forms.Form):
    timer = forms.ChoiceField(label=_("Compte à rebours"), choices=Session.Timer.choices)


class ThemeForm(forms.Form):
    """A theme's name, to create it or rename it (the board's forms, by hand)."""

    name = forms.CharField(label=_("Nom du thème"), max_length=80)


class PlaceForm(forms.Form):
    """Where a card goes: a theme of its session, by its code, or "" for « à classer »."""

    theme = forms.CharField(required=False, max_length=16)


class ActionForm(ComposerForm):
    form_name = "action"

    text = forms.CharField(label=_("Action"), max_length=300)
    due_date = forms.DateField(
        label=_("Pour le"),
        required=False,
        # A date input shows ISO dates only: the French format (14/05/2031)
        # would be dropped by the browser, and the default due date with it.
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )

    # The card an action comes from (« En faire une action »), by its code:
    # read through the form, so that a forged value is refused like any other.
    contribution = forms.CharField(required=False, max_length=16, widget=forms.HiddenInput)
    # Or the theme it comes from (« En faire une action », at a theme).
    theme = forms.CharField(required=False, max_length=16, widget=forms.HiddenInput)

    def clean_due_date(self):
        due_date = self.cleaned_data["due_date"]
        if due_date is not None:
            dates.validate_day(due_date)
        return due_date


class LearningForm(ComposerForm):
    form_name = "learning"

    text = forms.CharField(
        label=_("Ce que j'ai appris"), max_length=1000, widget=forms.Textarea(attrs={"rows": 3})
    )


class FeedbackForm(ComposerForm):
    form_name = "feedback"

    rating = forms.TypedChoiceField(
        label=_("Votre avis sur la séance"),
        coerce=int,
        choices=[(n, str(n)) for n in range(1, 6)],
        widget=forms.RadioSelect,
    )
    comment = forms.CharField(label=_("Commentaire"), max_length=500, required=False)


class KeptForm(ComposerForm):
    """What the group keeps of a session « sans trace »: the client's choice."""

    form_name = "kept"

    kept = forms.ChoiceField(
        label=_("Ce que le groupe garde de cette séance"),
        choices=Session.Kept.choices,
        widget=forms.RadioSelect,
        help_text=_(
            "À la clôture, tout le reste de ce qui a été écrit pendant la séance "
            "(l'exposé, les questions, les reformulations, les autres contributions) "
            "est effacé pour de bon. Chacun garde ses apprentissages et ses notes privées "
            "dans son carnet, et vous vos actions."
        ),
    )


class NoTraceForm(forms.Form):
    """Mark a session « sans trace » (1), or no longer (0): the wanted state,
    so that a double click or a resent form changes nothing more."""

    no_trace = forms.TypedChoiceField(
        choices=[("1", _("oui")), ("0", _("non"))], coerce=lambda value: value == "1"
    )


class NoteForm(forms.Form):
    text = forms.CharField(
        label=_("Note privée (vous seul la verrez)"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args, **kwargs):
        # The live page shows it beside the composer, whose forms have a `text`
        # field too: with the same id, the label « Note privée » focused the
        # public field. The POST's field name stays `text`.
        kwargs.setdefault("auto_id", "id_note_%s")
        super().__init__(*args, **kwargs)


class RolesForm(forms.Form):
    facilitator = forms.ModelChoiceField(label=_("Animateur"), queryset=User.objects.none())
    client = forms.ModelChoiceField(label=_("Client"), queryset=User.objects.none(), required=False)
    topic = forms.ModelChoiceField(
        label=_("Sujet choisi dans le stock"),
        queryset=Topic.objects.none(),
        required=False,
        to_field_name="code",
    )
    topic_title = forms.CharField(label=_("Ou sujet saisi"), max_length=140, required=False)
    consultants = forms.ModelMultipleChoiceField(
        label=_("Consultants présents"),
        queryset=User.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args, session, previous_client=None, members=None, topics=None, **kwargs):
        super().__init__(*args, **kwargs)
        group = session.group
        queryset = User.objects.filter(memberships__group=group).order_by("full_name")
        for name in ("facilitator", "client", "consultants"):
            self.fields[name].queryset = queryset
        # Open topics, and the one this session already took.
        self.fields["topic"].queryset = group.topics.filter(
            Q(status=Topic.Status.OPEN) | Q(pk=session.topic_id)
        )
        # Already read (the live state): drawn from these lists, not queried
        # once per field and per audience. Validation still uses the querysets.
        if members is not None:
            members = sorted(members, key=lambda user: user.full_name)
            for name in ("facilitator", "client", "consultants"):
                self.fields[name].choices = self._choices_of(self.fields[name], members)
        if topics is not None:
            self.fields["topic"].choices = self._choices_of(self.fields["topic"], topics)
        if previous_client is not None:
            self.fields["facilitator"].help_text = _(
                "Suggestion : %(name)s, client de la séance précédente, anime celle-ci."
            ) % {"name": previous_client}

    @staticmethod
    def _choices_of(field, objects):
        empty = [("", field.empty_label)] if getattr(field, "empty_label", None) is not None else []
        key = field.to_field_name or "pk"
        return empty + [(getattr(obj, key), field.label_from_instance(obj)) for obj in objects]

    def clean(self):
        cleaned = super().clean()
        topic, client = cleaned.get("topic"), cleaned.get("client")
        if topic and not client:
            # A topic from the backlog brings its author as the client.
            cleaned["client"] = client = topic.proposed_by
        if not client:
            self.add_error("client", _("Choisissez le client, ou un sujet du stock."))
        elif client == cleaned.get("facilitator"):
            self.add_error("client", _("Le client ne peut pas animer sa propre séance."))
        return cleaned


class LogbookNoteForm(forms.ModelForm):
    """A private note between sessions, optionally about one of my sessions."""

    class Meta:
        model = PrivateNote
        fields = ["text", "session"]
        widgets = {"text": forms.Textarea(attrs={"rows": 3})}
        labels = {"text": _("Note privée"), "session": _("À propos de la séance")}

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["session"].queryset = (
            Session.objects.filter(group__memberships__user=user)
            .exclude(status=Session.Status.PLANNED)
            .select_related("group")
            .order_by("-scheduled_at")
        )
        self.fields["session"].label_from_instance = lambda session: (
            f"{session.group.name} — {timezone.localtime(session.scheduled_at):%d/%m/%Y}"
        )


class ActionProgressForm(forms.Form):
    status = forms.ChoiceField(label=_("Statut"), choices=ActionItem.Status.choices)
    note = forms.CharField(label=_("Où j'en suis"), max_length=300, required=False)
