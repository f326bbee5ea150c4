from django.contrib import admin

from groups.admin import PrivateFieldsAdmin
from sessions.models import (
    ActionItem,
    ActionUpdate,
    Contribution,
    Feedback,
    Learning,
    Participation,
    PrivateNote,
    Question,
    Session,
)


class ParticipationInline(admin.TabularInline):
    model = Participation
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Session)
class SessionAdmin(PrivateFieldsAdmin):
    list_display = ["group", "scheduled_at", "status", "format_minutes", "place", "no_trace"]
    # A filter by date rather than date_hierarchy: the hierarchy has the
    # database truncate every date in the local time zone, which fails on a
    # row stored at the end of the calendar (groups/dates.py) and takes the
    # whole list down; the filter's ranges are worked out from today.
    list_filter = ["status", "no_trace", "scheduled_at", "format_minutes"]
    search_fields = ["group__name", "code", "place"]
    list_select_related = ["group"]
    # « Sans trace » is the group's and the client's decision, made in the
    # session; what it deleted at the closing is gone, and no admin undoes it.
    readonly_fields = ["code", "created_at", "created_by", "no_trace", "kept"]
    inlines = [ParticipationInline]


@admin.register(Participation)
class ParticipationAdmin(PrivateFieldsAdmin):
    list_display = ["session", "user", "role"]
    list_filter = ["role"]
    search_fields = ["user__full_name", "session__group__name"]
    list_select_related = ["session__group", "user"]


class AuthoredAdmin(PrivateFieldsAdmin):
    """What a participant wrote in a session: kept as written, so read mostly."""

    list_filter = ["created_at"]
    list_select_related = ["session__group", "author"]
    search_fields = ["session__group__name", "author__full_name", "author__email"]
    date_hierarchy = "created_at"
    readonly_fields = ["code", "session", "author", "created_at"]


@admin.register(Question)
class QuestionAdmin(AuthoredAdmin):
    list_display = ["text", "kind", "session", "author", "answered", "hidden", "created_at"]
    list_filter = ["kind", "answered", "hidden", "created_at"]
    search_fields = [*AuthoredAdmin.search_fields, "text"]


@admin.register(Contribution)
class ContributionAdmin(AuthoredAdmin):
    # How the client sorted a card (`ContributionTag`) is theirs alone: neither
    # a column, nor a filter, nor registered in the admin at all.
    list_display = ["text", "kind", "session", "author", "created_at"]
    list_filter = ["kind", "created_at"]
    search_fields = [*AuthoredAdmin.search_fields, "text"]


class ActionUpdateInline(admin.TabularInline):
    model = ActionUpdate
    extra = 0
    fields = ["status", "note", "created_at"]
    readonly_fields = ["created_at"]


@admin.register(ActionItem)
class ActionItemAdmin(AuthoredAdmin):
    list_display = ["text", "status", "due_date", "session", "author", "progress_at"]
    list_filter = ["status", "due_date", "created_at"]
    search_fields = [*AuthoredAdmin.search_fields, "text", "progress_note"]
    readonly_fields = [*AuthoredAdmin.readonly_fields, "contribution", "progress_at"]
    inlines = [ActionUpdateInline]


@admin.register(Learning)
class LearningAdmin(AuthoredAdmin):
    list_display = ["text", "session", "author", "created_at"]
    search_fields = [*AuthoredAdmin.search_fields, "text"]


@admin.register(Feedback)
class FeedbackAdmin(AuthoredAdmin):
    """The rating, never the comment: its author alone reads it (their carnet)."""

    list_display = ["session", "author", "rating", "created_at"]
    list_filter = ["rating", "created_at"]
    exclude = ["comment"]

    def get_queryset(self, request):
        return super().get_queryset(request).defer("comment")


@admin.register(PrivateNote)
class PrivateNoteAdmin(PrivateFieldsAdmin):
    """That a note exists, never what it says (DESIGN.md: not the admin).

    The text is out of every field list, column, search and filter, and the
    model's __str__ leaves it out of titles and delete pages. No add or change:
    a note is its author's alone. Delete stays allowed, or the admin could not
    delete a person (their notes cascade).
    """

    fields = ["author", "session", "created_at", "updated_at"]
    exclude = ["text"]
    readonly_fields = fields
    list_display = ["__str__", "author", "session", "created_at", "updated_at"]
    list_select_related = ["session__group", "author"]
    search_fields = ["author__full_name", "author__email", "session__group__name"]
    date_hierarchy = "created_at"

    def get_queryset(self, request):
        # The text never leaves the database for an admin page.
        return super().get_queryset(request).defer("text")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
