from django.contrib import admin

from sessions.models import Participation, Session


class ParticipationInline(admin.TabularInline):
    model = Participation
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Session)
class SessionAdmin(admin.ModelAdmin):
    list_display = ["group", "scheduled_at", "status", "format_minutes", "place"]
    list_filter = ["status", "format_minutes"]
    search_fields = ["group__name", "code", "place"]
    list_select_related = ["group"]
    date_hierarchy = "scheduled_at"
    readonly_fields = ["code", "created_at", "created_by"]
    inlines = [ParticipationInline]


@admin.register(Participation)
class ParticipationAdmin(admin.ModelAdmin):
    list_display = ["session", "user", "role"]
    list_filter = ["role"]
    search_fields = ["user__full_name", "session__group__name"]
    list_select_related = ["session__group", "user"]
