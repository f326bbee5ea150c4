from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.utils.translation import gettext_lazy as _

from groups.forms import AdminSignInForm
from groups.models import CalendarFeed, Group, Invitation, Membership, Topic, User

# The admin's sign-in is slowed down like ours; axes's backend locks both.
admin.site.login_form = AdminSignInForm


@admin.register(User)
class UserAdmin(BaseUserAdmin):
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
class GroupAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "cadence_label", "default_format", "created_at"]
    search_fields = ["name", "code", "description"]
    readonly_fields = ["code", "created_at", "created_by"]
    inlines = [MembershipInline]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "group", "role", "joined_at", "charter_accepted_at"]
    list_filter = ["role"]
    search_fields = ["user__full_name", "user__email", "group__name"]
    list_select_related = ["user", "group"]
    autocomplete_fields = ["user", "group"]


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
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
class TopicAdmin(admin.ModelAdmin):
    list_display = ["title", "group", "proposed_by", "urgency", "status", "created_at"]
    list_filter = ["status", "urgency"]
    search_fields = ["title", "group__name", "proposed_by__full_name"]
    list_select_related = ["group", "proposed_by"]


@admin.register(CalendarFeed)
class CalendarFeedAdmin(admin.ModelAdmin):
    list_display = ["user", "created_at"]
    search_fields = ["user__full_name", "user__email"]
    list_select_related = ["user"]
    exclude = ["token"]
