from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from sessions.models import Session


class SessionPlanForm(forms.ModelForm):
    class Meta:
        model = Session
        fields = ["scheduled_at", "place", "format_minutes"]
        widgets = {
            "scheduled_at": forms.DateTimeInput(
                attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"
            ),
        }

    def clean_scheduled_at(self):
        scheduled_at = self.cleaned_data["scheduled_at"]
        if scheduled_at <= timezone.now():
            raise forms.ValidationError(
                _("Choisissez une date à venir."), code="past"
            )
        return scheduled_at
