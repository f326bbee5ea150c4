from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.core import checks
from django.core.exceptions import FieldDoesNotExist
from django.db.models.constants import LOOKUP_SEP
from django.utils.translation import gettext_lazy as _

from groups.forms import AdminSignInForm
from groups.models import (
    CalendarFeed,
    CharterAdoption,
    Cycle,
    Group,
    Invitation,
    Membership,
    Topic,
    User,
)

# The admin's sign-in is slowed down like ours; axes's backend locks both.
admin.site.login_form = AdminSignInForm


def reaches_private_field(model, path: str) -> bool:
    """Whether the lookup `path` (`session__privatenotes__text__startswith`)
    reads, on its way, a field that a model lists in `private_fields`.

    Models declare their own (`PrivateNote.private_fields = ("text",)`), so
    that this lower app needs to know nothing of `sessions`.
    """
    for part in path.split(LOOKUP_SEP):
        if part == "pk":
            part = model._meta.pk.name
        try:
            field = model._meta.get_field(part)
        except FieldDoesNotExist:
            # A lookup or a transform (`startswith`, `year`): the path ends here.
            return False
        if field.auto_created and not field.concrete:
            # A reverse relation (`contribution.tags`): private if the other
            # side's key is, since even `tags__isnull` tells something.
            private = field.field.name in _private_fields(field.related_model)
        else:
            private = field.name in _private_fields(model)
        if private:
            return True
        if not field.is_relation:
            return False
        model = field.related_model
    return False


def _private_fields(model) -> tuple:
    return getattr(model, "private_fields", ())


class PrivateFieldsAdmin(admin.ModelAdmin):
    """Every ModelAdmin of the project: no lookup, search or column on a private field.

    Django allows `?field__startswith=…` on any field of the model itself, and
    so would read a private note's text one prefix at a time. A refused
    lookup is Django's own 400 (DisallowedModelAdminLookup), before any query.
    `check()` refuses a private field in `search_fields`, `list_display`,
    `list_filter` or `date_hierarchy` at start-up.
    """

    def lookup_allowed(self, lookup, value, request=None):
        if reaches_private_field(self.model, lookup):
            return False
        return super().lookup_allowed(lookup, value, request)

    def check(self, **kwargs):
        errors = super().check(**kwargs)
        declared = [
            *(name.lstrip("^=@") for name in self.search_fields),
            *(name for name in self.list_display if isinstance(name, str)),
            *(name for name in self.list_filter if isinstance(name, str)),
            *([self.date_hierarchy] if self.date_hierarchy else []),
        ]
        for name in declared:
            if reaches_private_field(self.model, name):
                errors.append(
                    checks.Error(
                        f"{name!r} reaches a private field: the admin must not show, "
                        "search or filter it.",
                        obj=self.__class__,
                        id="codev.E001",
                    )
                )
        return errors


@admin.register(User)
class UserAdmin(PrivateFieldsAdmin, BaseUserAdmin):
    ordering = ["full_name"]
    list_display = ["full_name", "email", "is_active", "is_staff", "date_joined", "last_login"]
    list_filter = ["is_active", "is_staff", "is_superuser"]
    search_fields = ["full_name", "email"]
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        (_("Identité"), {"fields": ["full_name"]}),
        (
            _("Droits"),
            {"fields": ["is_active", "is_staff", "is_superuser", "groups", "user_permissions"]},
        ),
        (_("Dates"), {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [
        (None, {"classes": ["wide"], "fields": ["email", "full_name", "password1", "password2"]}),
    ]


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]
    readonly_fields = ["joined_at", "charter_accepted_at"]


@admin.register(Group)
class GroupAdmin(PrivateFieldsAdmin):
    list_display = ["name", "code", "cadence_label", "default_format", "created_at"]
    search_fields = ["name", "code", "description"]
    readonly_fields = ["code", "created_at", "created_by"]
    inlines = [MembershipInline]


@admin.register(Membership)
class MembershipAdmin(PrivateFieldsAdmin):
    list_display = ["user", "group", "role", "joined_at", "charter_accepted_at"]
    list_filter = ["role"]
    search_fields = ["user__full_name", "user__email", "group__name"]
    list_select_related = ["user", "group"]
    autocomplete_fields = ["user", "group"]


@admin.register(Invitation)
class InvitationAdmin(PrivateFieldsAdmin):
    list_display = [
        "group",
        "email",
        "role",
        "invited_by",
        "created_at",
        "expires_at",
        "accepted_at",
    ]
    list_filter = ["role"]
    search_fields = ["email", "group__name"]
    list_select_related = ["group", "invited_by"]
    # The token is a key to the group: never shown, not even to staff.
    exclude = ["token"]
    readonly_fields = ["accepted_at", "accepted_by", "invited_by"]


@admin.register(Topic)
class TopicAdmin(PrivateFieldsAdmin):
    list_display = ["title", "group", "proposed_by", "urgency", "status", "created_at"]
    list_filter = ["status", "urgency"]
    search_fields = ["title", "group__name", "proposed_by__full_name"]
    list_select_related = ["group", "proposed_by"]


@admin.register(CalendarFeed)
class CalendarFeedAdmin(PrivateFieldsAdmin):
    list_display = ["user", "created_at"]
    search_fields = ["user__full_name", "user__email"]
    list_select_related = ["user"]
    exclude = ["token"]


class CharterAdoptionInline(admin.TabularInline):
    model = CharterAdoption
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Cycle)
class CycleAdmin(PrivateFieldsAdmin):
    """A group's cycles; the members' reviews are their own (not listed here)."""

    list_display = ["group", "number", "planned_sessions", "facilitation", "launch_at", "ended_at"]
    list_filter = ["facilitation", "decision"]
    search_fields = ["group__name"]
    autocomplete_fields = ["group", "started_by"]
    inlines = [CharterAdoptionInline]
