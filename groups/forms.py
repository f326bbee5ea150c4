import contextlib

from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import password_validation
from django.contrib.auth.forms import AuthenticationForm, PasswordChangeForm
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from groups import dates, throttle
from groups.models import (
    MAX_CYCLE_SESSIONS,
    MIN_CYCLE_SESSIONS,
    Cycle,
    Group,
    Invitation,
    Membership,
    SessionFormat,
    Topic,
    User,
)
from sessions.models import CycleReview


class ThrottledSignInMixin:
    """Refuse a sign-in that comes too soon after repeated failures (groups.throttle).

    Before the password is checked, so the early try neither succeeds nor counts.
    """

    def clean(self):
        email = self.cleaned_data.get("username")
        if email and self.cleaned_data.get("password"):
            email = throttle.attempted_email(self.request, {"username": email})
            throttle.refuse_early_try(self.request, email)
        return super().clean()


class SignInForm(ThrottledSignInMixin, AuthenticationForm):
    username = forms.EmailField(
        label=_("Adresse e-mail"),
        max_length=254,
        widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"}),
    )
    remember_me = forms.BooleanField(
        label=_("Rester connecté (30 jours)"), required=False, initial=True
    )

    error_messages = {
        "invalid_login": _("Adresse e-mail ou mot de passe incorrect."),
        "inactive": _("Ce compte est désactivé."),
    }


class AdminSignInForm(ThrottledSignInMixin, AdminAuthenticationForm):
    """The admin's sign-in, slowed down like ours (axes locks both)."""


class ThrottledPasswordChangeForm(PasswordChangeForm):
    """The current password, checked at the pace of a sign-in (groups.throttle)."""

    def __init__(self, user, *args, request, **kwargs):
        super().__init__(user, *args, **kwargs)
        self.request = request

    def clean_old_password(self):
        old_password = self.cleaned_data["old_password"]
        if not throttle.verify_password(self.request, self.user, old_password):
            raise forms.ValidationError(
                self.error_messages["password_incorrect"], code="password_incorrect"
            )
        return old_password


class GroupForm(forms.ModelForm):
    class Meta:
        model = Group
        fields = [
            "name",
            "description",
            "cadence_week",
            "cadence_weekday",
            "cadence_time",
            "default_format",
            "default_place",
            "charter",
        ]
        widgets = {
            "description": forms.Textarea(attrs={"rows": 3}),
            "cadence_time": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
            "charter": forms.Textarea(attrs={"rows": 6}),
        }


class GroupCreateForm(GroupForm):
    creator_role = forms.ChoiceField(
        label=_("Dans ce groupe, je suis"),
        choices=[
            (Membership.Role.FACILITATOR, _("l'animateur (je ne compte pas parmi les 5 à 8)")),
            (Membership.Role.MEMBER, _("un membre")),
        ],
        initial=Membership.Role.FACILITATOR,
        widget=forms.RadioSelect,
    )


class InvitationForm(forms.ModelForm):
    class Meta:
        model = Invitation
        fields = ["email", "role"]
        help_texts = {
            "email": _("Sans adresse, partagez vous-même le lien créé (SMS, messagerie…)."),
        }

    def __init__(self, *args, group: Group, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["email"].required = False
        has_facilitator = group.memberships.filter(role=Membership.Role.FACILITATOR).exists()
        if has_facilitator:
            # Only one animateur per group: nothing left to choose.
            self.fields["role"].choices = [(Membership.Role.MEMBER, Membership.Role.MEMBER.label)]
            self.fields["role"].widget = forms.HiddenInput()
            self.initial.setdefault("role", Membership.Role.MEMBER)


class CharterForm(forms.Form):
    accept_charter = forms.BooleanField(
        label=_("J'ai lu la charte du groupe et je m'engage à la respecter."),
        error_messages={"required": _("Pour rejoindre le groupe, acceptez sa charte.")},
    )


class JoinForm(CharterForm):
    """A new account, created from an invitation."""

    full_name = forms.CharField(label=_("Prénom et nom"), max_length=120)
    email = forms.EmailField(label=_("Adresse e-mail"), max_length=254)
    password1 = forms.CharField(
        label=_("Mot de passe"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        # Plain text: form.html escapes every help text.
        help_text=" ".join(password_validation.password_validators_help_texts()),
    )
    password2 = forms.CharField(
        label=_("Mot de passe (confirmation)"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    field_order = ["full_name", "email", "password1", "password2", "accept_charter"]

    def clean_email(self):
        email = self.cleaned_data["email"].lower()
        if User.objects.filter(email__iexact=email).exists():
            raise forms.ValidationError(
                _(
                    "Un compte existe déjà avec cette adresse : "
                    "connectez-vous pour rejoindre le groupe."
                ),
                code="email_taken",
            )
        return email

    def clean(self):
        cleaned = super().clean()
        password1, password2 = cleaned.get("password1"), cleaned.get("password2")
        if password1 and password2 and password1 != password2:
            self.add_error("password2", _("Les deux mots de passe ne correspondent pas."))
        elif password1:
            candidate = User(email=cleaned.get("email", ""), full_name=cleaned.get("full_name", ""))
            try:
                password_validation.validate_password(password1, candidate)
            except forms.ValidationError as error:
                self.add_error("password1", error)
        return cleaned

    def keep_passwords_if_valid(self) -> None:
        """After a refusal, show the passwords again when they were not the
        problem (mostly the charter left unchecked): typing two long passwords
        again for a checkbox is how people give up. A wrong password still
        comes back empty, as Django does by default."""
        if not self.errors or self.has_error("password1") or self.has_error("password2"):
            return
        for name in ("password1", "password2"):
            self.fields[name].widget.render_value = True


class TopicForm(forms.ModelForm):
    class Meta:
        model = Topic
        fields = ["title", "context", "urgency"]
        widgets = {"context": forms.Textarea(attrs={"rows": 3})}
        help_texts = {"context": _("Quelques lignes : la situation, ce qui vous préoccupe.")}


DATETIME_INPUT = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


class CycleStartForm(forms.Form):
    """A cycle: how many sessions, who facilitates, the launch session, and
    one date per session (from the cadence, as the group edits them).

    The number of date fields follows the number of sessions posted: the
    « Recalculer les dates » button redraws them from the cadence."""

    planned_sessions = forms.IntegerField(
        label=_("Nombre de séances"),
        min_value=MIN_CYCLE_SESSIONS,
        max_value=MAX_CYCLE_SESSIONS,
        help_text=_("Autant que de membres : chacun est client une fois."),
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )
    facilitation = forms.ChoiceField(
        label=_("Qui anime les séances"),
        choices=Cycle.Facilitation.choices,
        widget=forms.RadioSelect,
    )
    repeat_clients = forms.BooleanField(
        label=_("Un membre peut être client deux fois dans le cycle"), required=False
    )
    launch_at = forms.DateTimeField(
        label=_("Séance de lancement"),
        widget=DATETIME_INPUT,
        validators=[dates.validate_planned],
        help_text=_("Le groupe y relit et adopte sa charte, choisit son format et qui anime."),
    )
    launch_place = forms.CharField(
        label=_("Lieu ou lien de visio du lancement"), max_length=300, required=False
    )

    def __init__(self, *args, dates_initial=(), **kwargs):
        super().__init__(*args, **kwargs)
        count = self.initial.get("planned_sessions") or MIN_CYCLE_SESSIONS
        if self.is_bound:
            with contextlib.suppress(TypeError, ValueError):
                count = int(self.data.get("planned_sessions", count))
        self.count = min(max(count, MIN_CYCLE_SESSIONS), MAX_CYCLE_SESSIONS)
        for index in range(1, self.count + 1):
            self.fields[f"date_{index}"] = forms.DateTimeField(
                label=_("Séance %(number)d") % {"number": index},
                widget=DATETIME_INPUT,
                validators=[dates.validate_planned],
                initial=dates_initial[index - 1] if index <= len(dates_initial) else None,
                error_messages={"required": _("Indiquez la date de cette séance.")},
            )

    @property
    def main_fields(self):
        return [self[name] for name in self.fields if not name.startswith("date_")]

    @property
    def date_fields(self):
        return [self[f"date_{index}"] for index in range(1, self.count + 1)]

    def clean_launch_at(self):
        launch_at = self.cleaned_data["launch_at"]
        if launch_at <= timezone.now():
            raise forms.ValidationError(_("Choisissez une date à venir."), code="past")
        return launch_at

    def clean(self):
        cleaned = super().clean()
        launch_at = cleaned.get("launch_at")
        starts = [cleaned.get(f"date_{index}") for index in range(1, self.count + 1)]
        for index, start in enumerate(starts, start=1):
            if start is not None and launch_at is not None and start <= launch_at:
                self.add_error(
                    f"date_{index}",
                    _("Choisissez une date après la séance de lancement."),
                )
        known = [start for start in starts if start is not None]
        if len(set(known)) != len(known):
            raise forms.ValidationError(
                _("Deux séances tombent à la même date et à la même heure."), code="same_date"
            )
        if cleaned.get("planned_sessions") is not None and cleaned["planned_sessions"] != (
            self.count
        ):
            raise forms.ValidationError(_("Recalculez les dates."), code="count")
        cleaned["session_dates"] = known
        return cleaned


class CharterTextForm(forms.Form):
    charter = forms.CharField(
        label=_("Charte du groupe"),
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 8}),
        error_messages={"required": _("La charte ne peut pas être vide.")},
    )


class CycleSettingsForm(forms.Form):
    default_format = forms.TypedChoiceField(
        label=_("Format des séances du cycle"), choices=SessionFormat.choices, coerce=int
    )
    facilitation = forms.ChoiceField(
        label=_("Qui anime les séances"),
        choices=Cycle.Facilitation.choices,
        widget=forms.RadioSelect,
    )
    repeat_clients = forms.BooleanField(
        label=_("Un membre peut être client deux fois dans le cycle"), required=False
    )


class CycleDecisionForm(forms.Form):
    decision = forms.ChoiceField(
        label=_("La suite"), choices=Cycle.Decision.choices, widget=forms.RadioSelect
    )


class CycleReviewForm(forms.ModelForm):
    class Meta:
        model = CycleReview
        fields = ["learnt", "practice", "shared"]
        widgets = {
            "learnt": forms.Textarea(attrs={"rows": 4}),
            "practice": forms.Textarea(attrs={"rows": 4}),
            "shared": forms.Textarea(attrs={"rows": 3}),
        }
        help_texts = {
            "learnt": _("Pour vous seul."),
            "practice": _("Pour vous seul."),
            "shared": _(
                "Lu par les membres du groupe sur la page du bilan. Laissez vide pour ne rien "
                "partager."
            ),
        }

    def clean(self):
        cleaned = super().clean()
        if not any(cleaned.get(name, "").strip() for name in self.Meta.fields):
            raise forms.ValidationError(
                _("Écrivez au moins une partie de votre bilan."), code="empty"
            )
        return cleaned
