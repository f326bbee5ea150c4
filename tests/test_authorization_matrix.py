"""Who may do what: every URL name of the URLconf, and the session's socket,
against six people, in one table.

The six people, all from the role fixtures of tests/conftest.py:

- anonymous: nobody signed in;
- stranger: signed in, member of no group (`outsider`);
- member: a member of the group with no participation in the session. The
  app counts such a member as a consultant (a late arrival, see
  `sessions.roles.role_map` and docs/decisions.md), so in the session this
  row must read like the consultant's; it is here to prove that a
  participation is not what opens the door, membership is;
- client, consultant, facilitator: the session's roles (the facilitator is
  also the group's animateur).

Each row says how to build the URL from the fixtures, the method a person
uses (GET for pages, POST for actions), the state the session must be in so
that the allowed people really succeed, and the status each person gets.
The expected statuses are the design's (DESIGN.md, « Rules that hold
everywhere »): a stranger gets 404, never a hint; the wrong role 403; a POST
refused by the step 400. Anonymous people are sent to the sign-in page, for
a POST too: nothing is done and nothing is shown.

A URL name added without a row fails `test_every_url_name_has_a_row`, which
names it. A name may have several rows (the `variant` tells them apart) when
the session's state or the posted data change who is allowed.

The admin: none of the six is staff, so every admin page sends them to the
admin's sign-in page. Its site-wide names have rows; the five names Django
makes for each registered model are generated from `admin.site._registry`
(the rule: a `ModelAdmin` adds no door of its own). A superuser reaches
every one of them, which proves the URLs are real and the 302 is the staff
gate. A custom admin view would need a row of its own.

The socket is the last row: anonymous people and strangers are refused
before they hear anything; every member hears the state of their own
audience. A socket opened while its person was a member is closed at the
next change once they have left the group or been removed.

Django's test client leaves the CSRF check out, so that the rows reach the
views; `test_a_post_without_its_csrf_token_is_refused` checks that the
middleware stands in front of them all the same.
"""

import dataclasses
import datetime as dt
from collections.abc import Callable

import pytest
from channels.db import database_sync_to_async
from django.conf import settings
from django.contrib import admin
from django.contrib.auth.models import Group as AuthGroup
from django.contrib.auth.tokens import default_token_generator
from django.contrib.contenttypes.models import ContentType
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

import codev.asgi
import codev.routing
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
from sessions.models import (
    ActionItem,
    Contribution,
    ContributionTag,
    DemandCheck,
    Feedback,
    HandRaise,
    Learning,
    PrivateNote,
    Question,
    Reformulation,
    Session,
    Theme,
)
from sessions.steps import Step
from tests.conftest import PASSWORD, add_member, go_live, make_user
from tests.sockets import Communicator, session_cookie

ROLES = ("anonymous", "stranger", "member", "client", "consultant", "facilitator")

GET, POST = "GET", "POST"

# A redirect to the sign-in page (site's or admin's) with ?next=.
LOGIN = "login"
ADMIN_LOGIN = "admin login"

# The session's state a row needs; any Step value means live at that step.
PLANNED = "planned"
CLOSED = "closed"
# Live at the last step, « sans trace »: its client chooses what the group keeps.
NO_TRACE = "no_trace"

DEMAND = "Aidez-moi à tenir mes délais sans m'épuiser."


@dataclasses.dataclass
class World:
    """Everything the rows build URLs from: one group, one session, its people."""

    group: Group
    session: Session
    users: dict[str, User | None]
    invitation: Invitation
    topic: Topic
    removable: Membership
    question: Question
    contribution: Contribution
    theme: Theme
    hand: HandRaise
    action: ActionItem
    note: PrivateNote
    feed: CalendarFeed
    # The group's cycle 1, its review decided: a new one may start.
    cycle: Cycle


# How each row builds its URL's kwargs from the world.


def no_kwargs(w):
    return {}


def group_code(w):
    return {"code": w.group.code}


def session_code(w):
    return {"code": w.session.code}


def item(attribute):
    def kwargs(w):
        return {"code": w.session.code, "item": getattr(w, attribute).code}

    return kwargs


def own_item(attribute):
    """A carnet URL: the object's code alone, the owner is the signed-in person."""

    def kwargs(w):
        return {"item": getattr(w, attribute).code}

    return kwargs


def cycle_number(w):
    return {"code": w.group.code, "number": w.cycle.number}


def cycle_fields(w):
    launch = timezone.localdate() + dt.timedelta(days=10)
    fields = {
        "planned_sessions": 2,
        "facilitation": "animateur",
        "launch_at": f"{launch:%Y-%m-%d}T18:00",
        "launch_place": "Salle 2",
    }
    for index in (1, 2):
        fields[f"date_{index}"] = f"{launch + dt.timedelta(days=30 * index):%Y-%m-%d}T18:00"
    return fields


def invitation_token(w):
    return {"code": w.group.code, "token": w.invitation.token}


def reset_link(w):
    consultant = w.users["consultant"]
    return {
        "uidb64": urlsafe_base64_encode(force_bytes(consultant.pk)),
        "token": default_token_generator.make_token(consultant),
    }


# What each POST row sends.


def nothing(w):
    return {}


def roles_as_they_are(w):
    return {
        "facilitator": w.users["facilitator"].pk,
        "client": w.users["client"].pk,
        "consultants": [w.users["consultant"].pk],
    }


def group_fields(w):
    return {
        "name": "Groupe test renommé",
        "cadence_week": 2,
        "cadence_weekday": 1,
        "cadence_time": "18:00",
        "default_format": 120,
        "default_place": "Salle 2",
        "charter": "Confidentialité avant tout.",
    }


def plan_fields(w):
    day = timezone.localdate() + dt.timedelta(days=40)
    return {"scheduled_at": f"{day:%Y-%m-%d}T18:00", "place": "Salle 7", "format_minutes": 90}


def fixed(**data):
    def build(w):
        return data

    return build


@dataclasses.dataclass(frozen=True)
class Row:
    name: str
    method: str
    # The status per role, in the order of ROLES.
    expect: tuple
    kwargs: Callable[[World], dict] = no_kwargs
    data: Callable[[World], dict] = nothing
    # GET rows: the query string.
    query: dict = dataclasses.field(default_factory=dict)
    state: str = PLANNED
    # POST rows: what a GET answers to the first person the POST lets in.
    on_get: int | str | None = None
    variant: str = ""
    # The URL's token is the key (calendar, invitation, password reset):
    # whoever holds it may read what it opens, a stranger too.
    capability: bool = False

    @property
    def id(self):
        return f"{self.name}[{self.variant}]" if self.variant else self.name

    def status_for(self, role):
        return self.expect[ROLES.index(role)]


# fmt: off
ROWS = [
    #   name, method, (anonymous, stranger, member, client, consultant, facilitator), …
    # Signing in and out, the language switch: open to everyone.
    Row("set_language", POST, (302, 302, 302, 302, 302, 302),
        data=fixed(language="fr", next="/"), on_get=302),
    Row("login", GET, (200, 302, 302, 302, 302, 302)),
    Row("logout", POST, (302, 302, 302, 302, 302, 302), on_get=405),
    Row("password_reset", GET, (200, 200, 200, 200, 200, 200)),
    Row("password_reset_done", GET, (200, 200, 200, 200, 200, 200)),
    Row("password_reset_confirm", GET, (302, 302, 302, 302, 302, 302),
        kwargs=reset_link, capability=True),
    Row("password_reset_complete", GET, (200, 200, 200, 200, 200, 200)),
    Row("password_change", GET, (LOGIN, 200, 200, 200, 200, 200)),
    Row("password_change_done", GET, (LOGIN, 200, 200, 200, 200, 200)),

    # A person's own pages: anyone signed in, about themselves only.
    Row("home", GET, (LOGIN, 200, 200, 200, 200, 200)),
    Row("account", GET, (LOGIN, 200, 200, 200, 200, 200)),
    Row("calendar_feed_revoke", POST, (LOGIN, 302, 302, 302, 302, 302), on_get=405),
    Row("account_data_json", GET, (LOGIN, 200, 200, 200, 200, 200)),
    Row("account_data_markdown", GET, (LOGIN, 200, 200, 200, 200, 200)),
    Row("account_delete", GET, (LOGIN, 200, 200, 200, 200, 200)),
    Row("account_delete", POST, (LOGIN, 302, 302, 302, 302, 302),
        data=fixed(password=PASSWORD), on_get=200, variant="confirmed"),
    Row("group_create", GET, (LOGIN, 200, 200, 200, 200, 200)),
    Row("logbook", GET, (LOGIN, 200, 200, 200, 200, 200)),
    Row("logbook_markdown", GET, (LOGIN, 200, 200, 200, 200, 200)),
    Row("note_create", POST, (LOGIN, 302, 302, 302, 302, 302),
        data=fixed(text="Relire mes notes."), on_get=405),
    # The consultant's own carnet note: a 404 for everybody else, the facilitator too.
    Row("note_edit", GET, (LOGIN, 404, 404, 404, 200, 404), kwargs=own_item("note")),
    Row("note_edit", POST, (LOGIN, 404, 404, 404, 302, 404), kwargs=own_item("note"),
        data=fixed(text="Autre chose."), on_get=200, variant="save"),
    Row("note_delete", POST, (LOGIN, 404, 404, 404, 302, 404), kwargs=own_item("note"),
        on_get=405),
    # The client's action: the group knows it exists (the report lists it), so
    # another member gets 403; only its author moves it.
    Row("action_progress", POST, (LOGIN, 404, 403, 302, 403, 403), kwargs=own_item("action"),
        data=fixed(status="doing"), on_get=405),

    # Token links: the token is the only key (a phone calendar has no cookie).
    Row("calendar_feed", GET, (200, 200, 200, 200, 200, 200),
        kwargs=lambda w: {"token": w.feed.token}, capability=True),
    Row("invitation_accept", GET, (200, 200, 200, 200, 200, 200),
        kwargs=lambda w: {"token": w.invitation.token}, capability=True),

    # The group: its members alike (no hierarchy); the animateur alone removes.
    Row("group_detail", GET, (LOGIN, 404, 200, 200, 200, 200), kwargs=group_code),
    Row("group_edit", GET, (LOGIN, 404, 200, 200, 200, 200), kwargs=group_code),
    Row("group_edit", POST, (LOGIN, 404, 302, 302, 302, 302), kwargs=group_code,
        data=group_fields, on_get=200, variant="save"),
    Row("group_leave", POST, (LOGIN, 404, 302, 302, 302, 302), kwargs=group_code,
        on_get=200),
    Row("invitation_create", POST, (LOGIN, 404, 302, 302, 302, 302), kwargs=group_code,
        data=fixed(email="", role="member"), on_get=405),
    Row("invitation_revoke", POST, (LOGIN, 404, 302, 302, 302, 302), kwargs=invitation_token,
        on_get=405),
    Row("membership_remove", POST, (LOGIN, 404, 403, 403, 403, 302),
        kwargs=lambda w: {"code": w.group.code, "membership_code": w.removable.code},
        on_get=200),
    Row("topic_list", GET, (LOGIN, 404, 200, 200, 200, 200), kwargs=group_code),
    Row("topic_list", POST, (LOGIN, 404, 302, 302, 302, 302), kwargs=group_code,
        data=fixed(title="Déléguer sans tout reprendre", context="", urgency=2), on_get=200,
        variant="propose"),
    # The client's topic: only its author withdraws it.
    Row("topic_withdraw", POST, (LOGIN, 404, 403, 302, 403, 403),
        kwargs=lambda w: {"code": w.group.code, "topic_code": w.topic.code}, on_get=405),
    Row("session_plan", GET, (LOGIN, 404, 200, 200, 200, 200), kwargs=group_code),
    Row("session_plan", POST, (LOGIN, 404, 302, 302, 302, 302), kwargs=group_code,
        data=plan_fields, on_get=200, variant="save"),
    Row("group_history", GET, (LOGIN, 404, 200, 200, 200, 200), kwargs=group_code),
    # The cycle: the animateur leads it (a group without one: any member), every
    # member adopts the charter and writes their review.
    Row("cycle_start", GET, (LOGIN, 404, 403, 403, 403, 200), kwargs=group_code),
    Row("cycle_start", POST, (LOGIN, 404, 403, 403, 403, 302), kwargs=group_code,
        data=cycle_fields, on_get=200, variant="save"),
    Row("cycle_launch", GET, (LOGIN, 404, 200, 200, 200, 200), kwargs=cycle_number),
    Row("charter_adopt", POST, (LOGIN, 404, 302, 302, 302, 302), kwargs=cycle_number,
        on_get=405),
    Row("charter_amend", POST, (LOGIN, 404, 403, 403, 403, 302), kwargs=cycle_number,
        data=fixed(charter="Confidentialité, bienveillance."), on_get=405),
    Row("cycle_settle", POST, (LOGIN, 404, 403, 403, 403, 302), kwargs=cycle_number,
        data=fixed(default_format=90, facilitation="rotating"), on_get=405),
    Row("charter_close", POST, (LOGIN, 404, 403, 403, 403, 302), kwargs=cycle_number,
        on_get=405),
    Row("cycle_review", GET, (LOGIN, 404, 200, 200, 200, 200), kwargs=cycle_number),
    # Refused by the state for the animateur: this cycle's decision is taken.
    Row("cycle_review", POST, (LOGIN, 404, 403, 403, 403, 400), kwargs=cycle_number,
        data=fixed(decision="same"), on_get=200, variant="decide"),
    Row("my_cycle_review", GET, (LOGIN, 404, 200, 200, 200, 200), kwargs=cycle_number),
    # Its sessions are not all held: the review is not open yet.
    Row("my_cycle_review", POST, (LOGIN, 404, 400, 400, 400, 400), kwargs=cycle_number,
        data=fixed(learnt="Écouter."), on_get=200, variant="save"),

    # The session's pages: every member of the group, whatever their role.
    Row("session_detail", GET, (LOGIN, 404, 200, 200, 200, 200), kwargs=session_code),
    Row("session_detail", GET, (LOGIN, 404, 200, 200, 200, 200), kwargs=session_code,
        state=Step.CLARIFICATION, variant="live"),
    Row("session_detail", GET, (LOGIN, 404, 200, 200, 200, 200), kwargs=session_code,
        state=CLOSED, variant="closed"),
    Row("session_qr", GET, (LOGIN, 404, 200, 200, 200, 200), kwargs=session_code),
    # The full state a page that missed a message asks for (static/js/live.js).
    Row("session_state", GET, (LOGIN, 404, 200, 200, 200, 200), kwargs=session_code),
    # Who sees the countdown: the facilitator's choice, live.
    Row("session_timer", POST, (LOGIN, 404, 403, 403, 403, 302), kwargs=session_code,
        data=fixed(timer="nowhere"), state=Step.EXPOSE, on_get=405),
    # The room screen: any member may put it on the projector.
    Row("session_room", GET, (LOGIN, 404, 200, 200, 200, 200), kwargs=session_code),
    Row("session_room", GET, (LOGIN, 404, 200, 200, 200, 200), kwargs=session_code,
        state=Step.CONTRIBUTIONS, variant="live"),
    # Before the start any member names the roles; then the facilitator alone.
    # The others' form is one drawn before the start: 409, the session moved on.
    Row("session_roles", POST, (LOGIN, 404, 302, 302, 302, 302), kwargs=session_code,
        data=roles_as_they_are, on_get=405, variant="planned"),
    Row("session_roles", POST, (LOGIN, 404, 409, 409, 409, 302), kwargs=session_code,
        data=roles_as_they_are, state=Step.EXPOSE, on_get=405, variant="live"),

    # Conducting: the facilitator alone.
    Row("session_start", POST, (LOGIN, 404, 403, 403, 403, 302), kwargs=session_code,
        on_get=405),
    Row("session_move", POST, (LOGIN, 404, 403, 403, 403, 302), kwargs=session_code,
        data=fixed(from_step=Step.EXPOSE, direction="next"), state=Step.EXPOSE, on_get=405),
    Row("session_add_time", POST, (LOGIN, 404, 403, 403, 403, 302), kwargs=session_code,
        state=Step.CONTRIBUTIONS, on_get=405),
    Row("session_close", POST, (LOGIN, 404, 403, 403, 403, 302), kwargs=session_code,
        state=Step.LEARNINGS, on_get=405),
    # « Sans trace »: before the start any member marks it, as for the roles;
    # then the facilitator or the client. The client alone chooses what stays.
    Row("session_no_trace", POST, (LOGIN, 404, 302, 302, 302, 302), kwargs=session_code,
        data=fixed(no_trace="1"), on_get=405, variant="planned"),
    Row("session_no_trace", POST, (LOGIN, 404, 403, 302, 403, 302), kwargs=session_code,
        data=fixed(no_trace="1"), state=Step.EXPOSE, on_get=405, variant="live"),
    Row("session_kept", POST, (LOGIN, 404, 403, 302, 403, 403), kwargs=session_code,
        data=fixed(kept="cards"), state=NO_TRACE, on_get=405),
    Row("hands_clear", POST, (LOGIN, 404, 403, 403, 403, 302), kwargs=session_code,
        state=Step.CONTRIBUTIONS, on_get=405),
    Row("floor_give", POST, (LOGIN, 404, 403, 403, 403, 302), kwargs=item("hand"),
        state=Step.CONTRIBUTIONS, on_get=405),
    Row("hand_clear", POST, (LOGIN, 404, 403, 403, 403, 302), kwargs=item("hand"),
        state=Step.CONTRIBUTIONS, on_get=405),
    Row("demand_validate", POST, (LOGIN, 404, 403, 403, 403, 302), kwargs=session_code,
        state=Step.DEMAND, on_get=405),
    Row("question_mark", POST, (LOGIN, 404, 403, 403, 403, 302), kwargs=item("question"),
        data=fixed(flag="hidden", value="on"), state=Step.CLARIFICATION, on_get=405,
        variant="hide"),

    # Each step's writing: the role the method gives it, at its step.
    Row("expose_save", POST, (LOGIN, 404, 403, 302, 403, 302), kwargs=session_code,
        data=fixed(title="Mes délais", summary=""), state=Step.EXPOSE, on_get=405),
    Row("question_post", POST, (LOGIN, 404, 302, 403, 302, 403), kwargs=session_code,
        data=fixed(kind="fact", text="Depuis quand ?"), state=Step.CLARIFICATION, on_get=405),
    Row("question_mark", POST, (LOGIN, 404, 403, 302, 403, 403), kwargs=item("question"),
        data=fixed(flag="answered", value="on"), state=Step.CLARIFICATION, on_get=405,
        variant="answer"),
    Row("demand_save", POST, (LOGIN, 404, 403, 302, 403, 403), kwargs=session_code,
        data=fixed(text=DEMAND), state=Step.DEMAND, on_get=405),
    Row("demand_check", POST, (LOGIN, 404, 302, 403, 302, 403), kwargs=session_code,
        data=fixed(verdict="understood"), state=Step.DEMAND, on_get=405),
    # At step 4 the facilitator reopens a validated demand (none here: 400 for
    # the facilitator, whom the step lets in; the others' role refuses first).
    Row("demand_reopen", POST, (LOGIN, 404, 403, 403, 403, 400), kwargs=session_code,
        state=Step.CONTRIBUTIONS, on_get=405),
    Row("reformulation_post", POST, (LOGIN, 404, 302, 403, 302, 403), kwargs=session_code,
        data=fixed(text="Tu veux tenir tes délais sans t'épuiser."), state=Step.DEMAND,
        on_get=405),
    Row("contribution_post", POST, (LOGIN, 404, 302, 403, 302, 403), kwargs=session_code,
        data=fixed(kind="experience", text="J'ai vécu la même chose."),
        state=Step.CONTRIBUTIONS, on_get=405),
    Row("contribution_tag", POST, (LOGIN, 404, 403, 302, 403, 403),
        kwargs=item("contribution"), data=fixed(tag="keep"), state=Step.CONTRIBUTIONS,
        on_get=405),
    # Themes (Metaplan): the facilitator clusters the cards at step 4; the
    # client keeps a whole theme, and makes one an action at step 5.
    Row("theme_create", POST, (LOGIN, 404, 403, 403, 403, 302), kwargs=session_code,
        data=fixed(name="Organisation"), state=Step.CONTRIBUTIONS, on_get=405),
    Row("theme_create", POST, (LOGIN, 404, 403, 403, 403, 400), kwargs=session_code,
        data=fixed(name="Organisation"), state=Step.ACTION_PLAN, on_get=405,
        variant="wrong step"),
    Row("theme_rename", POST, (LOGIN, 404, 403, 403, 403, 302), kwargs=item("theme"),
        data=fixed(name="Délais"), state=Step.CONTRIBUTIONS, on_get=405),
    Row("theme_remove", POST, (LOGIN, 404, 403, 403, 403, 302), kwargs=item("theme"),
        state=Step.CONTRIBUTIONS, on_get=405),
    Row("card_place", POST, (LOGIN, 404, 403, 403, 403, 302), kwargs=item("contribution"),
        data=lambda w: {"theme": w.theme.code}, state=Step.CONTRIBUTIONS, on_get=405),
    Row("theme_tag", POST, (LOGIN, 404, 403, 302, 403, 403), kwargs=item("theme"),
        data=fixed(tag="keep"), state=Step.CONTRIBUTIONS, on_get=405),
    Row("action_add", POST, (LOGIN, 404, 403, 302, 403, 403), kwargs=session_code,
        data=lambda w: {"text": "Mieux s'organiser", "theme": w.theme.code, "due_date": ""},
        state=Step.ACTION_PLAN, on_get=405, variant="theme"),
    Row("action_add", POST, (LOGIN, 404, 403, 302, 403, 403), kwargs=session_code,
        data=fixed(text="Bloquer deux matinées", due_date=""), state=Step.ACTION_PLAN,
        on_get=405),
    Row("learning_post", POST, (LOGIN, 404, 302, 302, 302, 302), kwargs=session_code,
        data=fixed(text="Écouter avant de répondre."), state=Step.LEARNINGS, on_get=405),
    Row("feedback_post", POST, (LOGIN, 404, 302, 302, 302, 302), kwargs=session_code,
        data=fixed(rating=4, comment=""), state=Step.LEARNINGS, on_get=405),
    # Everyone present: a raised hand, a private note.
    Row("hand_toggle", POST, (LOGIN, 404, 302, 302, 302, 302), kwargs=session_code,
        state=Step.CONTRIBUTIONS, on_get=405),
    Row("note_post", POST, (LOGIN, 404, 302, 302, 302, 302), kwargs=session_code,
        data=fixed(text="À relire."), state=Step.EXPOSE, on_get=405),
    # The step decides, whatever the role: the right people at the wrong step.
    Row("question_post", POST, (LOGIN, 404, 400, 403, 400, 403), kwargs=session_code,
        data=fixed(kind="fact", text="Depuis quand ?"), state=Step.CONTRIBUTIONS, on_get=405,
        variant="wrong step"),
    Row("note_post", POST, (LOGIN, 404, 400, 400, 400, 400), kwargs=session_code,
        data=fixed(text="À relire."), state=CLOSED, on_get=405, variant="closed"),

    # The written trace, once the session is closed; its client chooses what it shows.
    Row("session_report", GET, (LOGIN, 404, 200, 200, 200, 200), kwargs=session_code,
        state=CLOSED),
    Row("session_report", GET, (LOGIN, 404, 302, 302, 302, 302), kwargs=session_code,
        state=Step.LEARNINGS, variant="live"),
    Row("session_report_markdown", GET, (LOGIN, 404, 200, 200, 200, 200),
        kwargs=session_code, state=CLOSED),
    Row("session_report_markdown", GET, (LOGIN, 404, 404, 404, 404, 404),
        kwargs=session_code, state=Step.LEARNINGS, variant="live"),
    Row("report_cards_toggle", POST, (LOGIN, 404, 403, 302, 403, 403), kwargs=session_code,
        data=fixed(show_all="1"), state=CLOSED, on_get=405),

    # The admin's own pages: nobody here is staff.
    Row("admin:index", GET, (ADMIN_LOGIN,) * 6),
    Row("admin:login", GET, (200, 200, 200, 200, 200, 200)),
    Row("admin:logout", POST, (302, 302, 302, 302, 302, 302), on_get=302),
    Row("admin:password_change", GET, (ADMIN_LOGIN,) * 6),
    Row("admin:password_change_done", GET, (ADMIN_LOGIN,) * 6),
    Row("admin:autocomplete", GET, (ADMIN_LOGIN,) * 6,
        query={"app_label": "groups", "model_name": "membership", "field_name": "user"}),
    Row("admin:jsi18n", GET, (ADMIN_LOGIN,) * 6),
    Row("admin:app_list", GET, (ADMIN_LOGIN,) * 6, kwargs=fixed(app_label="groups")),
    Row("admin:view_on_site", GET, (ADMIN_LOGIN,) * 6,
        kwargs=lambda w: {
            "content_type_id": ContentType.objects.get_for_model(Group).pk,
            "object_id": w.group.pk,
        }),
    Row("admin:auth_user_password_change", GET, (ADMIN_LOGIN,) * 6,
        kwargs=lambda w: {"id": w.users["consultant"].pk}),
]
# fmt: on

ADMIN_MODEL_VIEWS = ("changelist", "add", "history", "delete", "change")


def admin_object_id(model):
    def kwargs(w):
        # The gate stops the six before any object is read; a superuser gets
        # the admin's own answer for a missing one (a redirect to the list).
        first = model._default_manager.order_by("pk").first()
        return {"object_id": first.pk if first is not None else 0}

    return kwargs


def admin_model_rows():
    """The five URLs Django's admin makes for each registered model: staff only."""
    rows = []
    for model in admin.site._registry:
        prefix = f"admin:{model._meta.app_label}_{model._meta.model_name}"
        for view in ADMIN_MODEL_VIEWS:
            by_object = view in ("history", "delete", "change")
            rows.append(
                Row(
                    f"{prefix}_{view}",
                    GET,
                    (ADMIN_LOGIN,) * 6,
                    kwargs=admin_object_id(model) if by_object else no_kwargs,
                )
            )
    return rows


ALL_ROWS = ROWS + admin_model_rows()

# The session's socket, the matrix's last row: only its group's members hear it.
REFUSED, ACCEPTED = "refused", "accepted"
SOCKET = Row(
    "^ws/sessions/(?P<code>[A-Za-z0-9_-]{1,16})/$",
    GET,
    (REFUSED, REFUSED, ACCEPTED, ACCEPTED, ACCEPTED, ACCEPTED),
)
# The room screen's socket: the same door, the ROOM audience behind it.
ROOM_SOCKET = Row(
    "^ws/sessions/(?P<code>[A-Za-z0-9_-]{1,16})/salle/$",
    GET,
    (REFUSED, REFUSED, ACCEPTED, ACCEPTED, ACCEPTED, ACCEPTED),
)
# Every other websocket path: refused for everyone (codev.websocket.refuse).
UNROUTED_SOCKET = Row("", GET, (REFUSED,) * 6)


# The URLconf, walked


def url_names(patterns=None, namespace=""):
    """Every name of the URLconf, with its namespace (`admin:index`)."""
    if patterns is None:
        patterns = get_resolver().url_patterns
    names = set()
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            inner = pattern.namespace
            prefix = f"{namespace}:{inner}" if namespace and inner else inner or namespace
            names |= url_names(pattern.url_patterns, prefix)
        elif isinstance(pattern, URLPattern) and pattern.name:
            names.add(f"{namespace}:{pattern.name}" if namespace else pattern.name)
    return names


def socket_routes(patterns=codev.routing.websocket_urlpatterns, prefix=""):
    routes = set()
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            routes |= socket_routes(pattern.url_patterns, prefix + str(pattern.pattern))
        else:
            routes.add(prefix + str(pattern.pattern))
    return routes


def test_every_url_name_has_a_row():
    rows = {row.name for row in ALL_ROWS}
    urls = url_names()

    assert not urls - rows, f"URL names without a row in the matrix: {sorted(urls - rows)}"
    assert not rows - urls, f"rows for URL names that no longer exist: {sorted(rows - urls)}"


def test_the_project_urls_and_set_language_have_their_own_rows():
    # Not generated, not covered by a rule: written by hand, one by one.
    project = {name for name in url_names() if not name.startswith("admin:")}
    by_hand = {row.name for row in ROWS}

    assert "set_language" in project
    assert project <= by_hand, f"without a written row: {sorted(project - by_hand)}"


def test_every_socket_route_is_in_the_matrix():
    assert socket_routes() == {SOCKET.name, ROOM_SOCKET.name, UNROUTED_SOCKET.name}


def test_rows_are_not_written_twice():
    ids = [row.id for row in ALL_ROWS]
    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)


# The world


@pytest.fixture
def world(group, planned_session, facilitator, client_user, consultants, outsider):
    consultant = consultants[0]
    member = make_user("Nina Sansrôle")
    add_member(group, member)
    session = planned_session
    question = Question.objects.create(session=session, author=consultant, text="Depuis quand ?")
    contribution = Contribution.objects.create(
        session=session, author=consultant, text="Une expérience proche."
    )
    # Rows of the admin need one of everything it lists.
    AuthGroup.objects.create(name="Équipe support")
    Learning.objects.create(session=session, author=consultants[2], text="Écouter.")
    Feedback.objects.create(session=session, author=consultants[2], rating=5)
    return World(
        group=group,
        session=session,
        users={
            "anonymous": None,
            "stranger": outsider,
            "member": member,
            "client": client_user,
            "consultant": consultant,
            "facilitator": facilitator,
        },
        invitation=Invitation.objects.create(group=group, invited_by=facilitator),
        topic=Topic.objects.create(group=group, proposed_by=client_user, title="Mes délais"),
        removable=Membership.objects.get(group=group, user=consultants[3]),
        question=question,
        contribution=contribution,
        theme=Theme.objects.create(session=session, author=facilitator, name="Délais"),
        hand=HandRaise.objects.create(session=session, author=consultants[1]),
        action=ActionItem.objects.create(session=session, author=client_user, text="Déléguer"),
        note=PrivateNote.objects.create(author=consultant, text="Pour moi seul."),
        feed=CalendarFeed.objects.create(user=consultant),
        cycle=Cycle.objects.create(
            group=group,
            number=1,
            planned_sessions=5,
            launch_at=timezone.now() - dt.timedelta(days=60),
            ended_at=timezone.now() - dt.timedelta(days=1),
            decision=Cycle.Decision.SAME,
        ),
    )


def put_session_in(session, state):
    if state == PLANNED:
        return
    # A closed session was walked to its last step first.
    go_live(session, Step.LEARNINGS if state in (CLOSED, NO_TRACE) else state)
    if state == CLOSED:
        fields = {"status": Session.Status.CLOSED, "closed_at": timezone.now()}
    elif state == NO_TRACE:
        fields = {"no_trace": True}
    elif state == Step.DEMAND:
        # The client has worded the demand: the consultants can check it.
        fields = {"demand_text": DEMAND}
    else:
        return
    Session.objects.filter(pk=session.pk).update(**fields)
    session.refresh_from_db()


def fingerprint(world):
    """What a refused request must leave as it was."""
    session = Session.objects.get(pk=world.session.pk)
    return {
        "session": (
            session.version,
            session.status,
            session.step,
            session.report_all_cards,
            session.timer,
        ),
        "users": User.objects.count(),
        "memberships": Membership.objects.count(),
        "invitations": Invitation.objects.count(),
        "topics": list(Topic.objects.values_list("status", flat=True)),
        "sessions": Session.objects.count(),
        "questions": list(Question.objects.values_list("answered", "hidden")),
        "contributions": list(Contribution.objects.values_list("theme", flat=True)),
        "themes": list(Theme.objects.values_list("name", flat=True)),
        "tags": list(ContributionTag.objects.values_list("contribution", "user", "tag")),
        "demand_checks": DemandCheck.objects.count(),
        "reformulations": Reformulation.objects.count(),
        "hands": list(HandRaise.objects.values_list("speaking", flat=True)),
        "actions": list(ActionItem.objects.values_list("status", flat=True)),
        "notes": list(PrivateNote.objects.values_list("text", flat=True)),
        "learnings": Learning.objects.count(),
        "feedbacks": Feedback.objects.count(),
        "feed": CalendarFeed.objects.get(pk=world.feed.pk).token,
        "cycles": list(Cycle.objects.values_list("number", "ended_at", "charter_adopted_at")),
        "adoptions": CharterAdoption.objects.count(),
        "charter": Group.objects.get(pk=world.group.pk).charter,
    }


def is_refusal(expected):
    return expected in (LOGIN, ADMIN_LOGIN) or (isinstance(expected, int) and expected >= 400)


def request_as(client, world, row, role, method=None):
    user = world.users[role]
    if user is not None:
        client.force_login(user)
    url = reverse(row.name, kwargs=row.kwargs(world))
    if (method or row.method) == POST:
        return client.post(url, row.data(world))
    return client.get(url, row.query)


def assert_status(response, expected, where):
    status = response.status_code
    if expected in (LOGIN, ADMIN_LOGIN):
        sign_in = reverse("login" if expected == LOGIN else "admin:login")
        assert status == 302, f"{where}: {status}, expected a redirect to {sign_in}"
        assert response.url.startswith(f"{sign_in}?next="), f"{where}: sent to {response.url}"
        return
    assert status == expected, f"{where}: {status}, expected {expected}"
    if status == 302:
        # Let in means let in: not a detour through a sign-in page.
        for sign_in in (reverse("login"), reverse("admin:login")):
            assert not response.url.startswith(f"{sign_in}?"), f"{where}: sent to {response.url}"


CASES = [pytest.param(row, role, id=f"{row.id}-{role}") for row in ALL_ROWS for role in ROLES]


@pytest.mark.parametrize(("row", "role"), CASES)
def test_matrix(client, world, row, role):
    expected = row.status_for(role)
    put_session_in(world.session, row.state)
    before = fingerprint(world)

    response = request_as(client, world, row, role)

    assert_status(response, expected, f"{row.method} {row.id} as {role}")
    if is_refusal(expected) and row.method == POST:
        assert fingerprint(world) == before, f"{row.id} refused to {role} yet changed something"
    if role in ("anonymous", "stranger") and not row.capability:
        content = response.content.decode(errors="replace")
        for secret in (world.group.name, world.users["client"].full_name):
            assert secret not in content, f"{row.id} shows {secret!r} to the {role}"


POST_ROWS = [pytest.param(row, id=row.id) for row in ALL_ROWS if row.method == POST]


def first_let_in(row):
    """The first person past the door (a step may still refuse what they post)."""
    for role in ("facilitator", "client", "consultant", "member", "stranger", "anonymous"):
        if row.status_for(role) not in (LOGIN, ADMIN_LOGIN, 403, 404):
            return role
    raise AssertionError(f"{row.id} lets nobody in")


@pytest.mark.parametrize("row", POST_ROWS)
def test_what_a_get_answers_on_a_post_url(client, world, row):
    role = first_let_in(row)
    put_session_in(world.session, row.state)
    before = fingerprint(world)

    response = request_as(client, world, row, role, method=GET)

    assert_status(response, row.on_get, f"GET {row.id} as {role}")
    assert fingerprint(world) == before, f"a GET on {row.id} changed something"


def test_every_post_row_says_what_a_get_answers():
    assert [row.id for row in ALL_ROWS if row.method == POST and row.on_get is None] == []


def test_a_post_without_its_csrf_token_is_refused(world):
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.users["facilitator"])
    put_session_in(world.session, Step.EXPOSE)
    before = fingerprint(world)

    response = client.post(
        reverse("session_move", kwargs={"code": world.session.code}), {"from_step": Step.EXPOSE}
    )

    assert response.status_code == 403
    assert fingerprint(world) == before


# The admin rule holds only if the staff gate is what stops them.


@pytest.mark.parametrize(
    "row",
    [pytest.param(row, id=row.id) for row in ALL_ROWS if row.name.startswith("admin:")],
)
def test_a_superuser_passes_where_the_six_are_sent_to_sign_in(client, world, row):
    if set(row.expect) != {ADMIN_LOGIN}:
        # login and logout answer everyone; their rows say how.
        assert row.name in ("admin:login", "admin:logout")
        return
    superuser = User.objects.create_superuser(email="root@test.codev", password=PASSWORD)
    client.force_login(superuser)

    response = client.get(reverse(row.name, kwargs=row.kwargs(world)), row.query)

    # Past the gate, the page is the admin's business: mostly 200, but 403
    # where a ModelAdmin forbids adding (private notes), 404 for view_on_site
    # (no model has a page on the site), a redirect for a missing object.
    assert response.status_code < 500, row.id
    if response.status_code == 302:
        assert not response.url.startswith(reverse("admin:login")), row.id
    if row.name in ("admin:index", "admin:app_list") or row.name.endswith("_changelist"):
        assert response.status_code == 200, row.id


# The socket


ORIGIN = b"http://testserver"


async def socket_as(asgi_application, path: str, user) -> tuple[Communicator, bool]:
    """A socket to `path` from our own page, signed in as `user` (None: anonymous)."""
    headers = [(b"origin", ORIGIN), (b"host", b"testserver")]
    if user is not None:
        cookie = f"{settings.SESSION_COOKIE_NAME}={await session_cookie(user)}"
        headers.append((b"cookie", cookie.encode()))
    communicator = Communicator(asgi_application, path, headers=headers)
    connected, _subprotocol = await communicator.connect()
    return communicator, connected


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("role", ROLES)
async def test_socket(world, asgi_application, empty_channel_layer, role):
    await database_sync_to_async(go_live)(world.session, Step.CLARIFICATION)

    communicator, connected = await socket_as(
        asgi_application, f"/ws/sessions/{world.session.code}/", world.users[role]
    )

    try:
        if SOCKET.status_for(role) == REFUSED:
            assert connected is False
            assert await communicator.receive_nothing()
        else:
            assert connected is True
            state = await communicator.receive_from()
            assert 'id="live-header"' in state and 'id="live-board"' in state
            assert '<span class="step-number">2</span> Clarification' in state
            # The state of the person's own audience: controls for the facilitator alone.
            assert ('data-testid="next-step"' in state) is (role == "facilitator")
    finally:
        await communicator.disconnect()


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("role", ROLES)
async def test_room_socket(world, asgi_application, empty_channel_layer, role):
    await database_sync_to_async(go_live)(world.session, Step.CLARIFICATION)

    communicator, connected = await socket_as(
        asgi_application, f"/ws/sessions/{world.session.code}/salle/", world.users[role]
    )

    try:
        if ROOM_SOCKET.status_for(role) == REFUSED:
            assert connected is False
            assert await communicator.receive_nothing()
        else:
            assert connected is True
            state = await communicator.receive_from()
            assert '<span class="step-number">2</span> Clarification' in state
            # The room's regions, whoever opened it: no composer, no control.
            assert 'id="live-composer"' not in state and 'id="live-presence"' not in state
            assert "<form" not in state and "<button" not in state
    finally:
        await communicator.disconnect()


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("role", ROLES)
async def test_an_unrouted_socket(world, asgi_application, empty_channel_layer, role):
    assert UNROUTED_SOCKET.status_for(role) == REFUSED

    communicator, connected = await socket_as(
        asgi_application, f"/ws/groups/{world.group.code}/", world.users[role]
    )

    assert connected is False
    await communicator.disconnect()


@database_sync_to_async
def remove_from_group(world, role):
    Membership.objects.filter(group=world.group, user=world.users[role]).delete()


@database_sync_to_async
def facilitator_moves(world, from_step):
    client = Client()
    client.force_login(world.users["facilitator"])
    url = reverse("session_move", kwargs={"code": world.session.code})
    return client.post(url, {"from_step": from_step, "direction": "next"}).status_code


@pytest.mark.asyncio
@pytest.mark.django_db(transaction=True)
async def test_a_socket_stops_hearing_once_its_member_left_the_group(
    world, asgi_application, empty_channel_layer
):
    await database_sync_to_async(go_live)(world.session, Step.CLARIFICATION)
    communicator, connected = await socket_as(
        asgi_application, f"/ws/sessions/{world.session.code}/", world.users["member"]
    )
    assert connected is True
    while not await communicator.receive_nothing(timeout=0.3):
        await communicator.receive_from()
    await remove_from_group(world, "member")

    assert await facilitator_moves(world, Step.CLARIFICATION) == 302

    try:
        while True:
            message = await communicator.receive_output()
            if message["type"] == "websocket.close":
                break
            assert "Demande" not in message.get("text", ""), "a former member hears the session"
    finally:
        await communicator.disconnect()
