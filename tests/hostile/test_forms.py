"""Every text a person types, posted by the right person at the right moment.

For each text field of each form (the live composer, the carnet, the group,
its topics, invitations, planning, roles, joining), hypothesis types any
text: unicode, NUL, HTML, `<script>`, hx- attributes, template syntax,
Markdown links, numbers, 10 k to 200 k characters, exactly the limit and one
past it. The form itself is the oracle for "valid" (its limits are the ones
the interface announces); what is tested is what the app does with it:

- valid: a success, and exactly the cleaned text stored, once;
  every page that shows it is inert and shows it as typed;
- invalid: a refusal that says why in French, hands the typed text back,
  and writes nothing at all.
"""

import dataclasses
import re
from collections.abc import Callable

import pytest
from django.template.loader import render_to_string
from django.urls import reverse
from hypothesis import given
from hypothesis import strategies as st

from groups.forms import GroupCreateForm, GroupForm, InvitationForm, JoinForm, TopicForm
from groups.models import Group, Invitation, Topic, User
from sessions import forms as session_forms
from sessions.models import ActionItem, Contribution, Feedback, Learning, PrivateNote, Question
from sessions.models import Session as LiveSession
from sessions.roles import AUDIENCES
from tests.hostile.conftest import examples, one_example, set_stage, snapshot
from tests.hostile.payloads import (
    FUTURE,
    HOSTILE_TEXT,
    NEW_PASSWORD,
    Page,
    assert_french_refusal,
    assert_inert,
)

pytestmark = pytest.mark.django_db

GROUP_FIELDS = {
    "name": "Groupe du jeudi",
    "description": "Entre pairs",
    "cadence_week": "2",
    "cadence_weekday": "3",
    "cadence_time": "18:30",
    "default_format": "120",
    "default_place": "Salle 4",
    "charter": "Ce qui se dit ici reste ici.",
}


@dataclasses.dataclass(frozen=True)
class TextInput:
    url: str
    args: tuple
    person: str
    stage: str
    base: dict
    field: str
    # (world, data) -> the bound form the view validates: the oracle.
    form: Callable
    # world -> the stored text after a success
    stored: Callable
    # the model a success adds one row to; None: an update
    creates: type | None = None
    # (url name, world keys, person): the pages that show the text
    shown_on: tuple = ()
    htmx: bool = False
    # the session's stage when those pages are read, if not `stage`
    shown_at: str | None = None


def _session_page(*audiences):
    return tuple(("session_detail", ("session",), person) for person in audiences)


def _latest(model, **filters):
    return lambda world: model.objects.filter(**filters).latest("pk")


def _pk(world, person):
    return str(world["users"][person].pk)


INPUTS = [
    # The live composer: posted with htmx, as the page does.
    TextInput(
        "expose_save",
        ("session",),
        "client",
        "expose",
        {"summary": "La situation"},
        "title",
        lambda w, d: session_forms.ExposeForm(d),
        lambda w: LiveSession.objects.get(pk=w["session"].pk).expose_title,
        shown_on=_session_page(*AUDIENCES),
        htmx=True,
    ),
    TextInput(
        "expose_save",
        ("session",),
        "facilitator",
        "expose",
        {"title": "Un titre"},
        "summary",
        lambda w, d: session_forms.ExposeForm(d),
        lambda w: LiveSession.objects.get(pk=w["session"].pk).expose_summary,
        shown_on=_session_page(*AUDIENCES),
        htmx=True,
    ),
    TextInput(
        "question_post",
        ("session",),
        "consultant",
        "clarification",
        {"kind": "fact"},
        "text",
        lambda w, d: session_forms.QuestionForm(d),
        lambda w: Question.objects.latest("pk").text,
        creates=Question,
        shown_on=_session_page(*AUDIENCES),
        htmx=True,
    ),
    TextInput(
        "demand_save",
        ("session",),
        "client",
        "demand",
        {},
        "text",
        lambda w, d: session_forms.DemandForm(d),
        lambda w: LiveSession.objects.get(pk=w["session"].pk).demand_text,
        shown_on=_session_page(*AUDIENCES),
        htmx=True,
    ),
    TextInput(
        "contribution_post",
        ("session",),
        "consultant",
        "contributions",
        {"kind": "mirror"},
        "text",
        lambda w, d: session_forms.ContributionForm(d),
        lambda w: Contribution.objects.latest("pk").text,
        creates=Contribution,
        shown_on=_session_page(*AUDIENCES),
        htmx=True,
    ),
    TextInput(
        "action_add",
        ("session",),
        "client",
        "action_plan",
        {"due_date": "2031-05-14"},
        "text",
        lambda w, d: session_forms.ActionForm(d),
        lambda w: ActionItem.objects.latest("pk").text,
        creates=ActionItem,
        shown_on=(*_session_page("client"), ("logbook", (), "client"), ("home", (), "client")),
        htmx=True,
    ),
    TextInput(
        "learning_post",
        ("session",),
        "consultant",
        "learnings",
        {},
        "text",
        lambda w, d: session_forms.LearningForm(d),
        lambda w: Learning.objects.latest("pk").text,
        creates=Learning,
        shown_on=_session_page(*AUDIENCES),
        htmx=True,
    ),
    TextInput(
        "feedback_post",
        ("session",),
        "consultant",
        "learnings",
        {"rating": "4"},
        "comment",
        lambda w, d: session_forms.FeedbackForm(d),
        lambda w: Feedback.objects.latest("pk").comment,
        creates=Feedback,
        htmx=True,
    ),
    # The same composer without JavaScript: a page, not regions.
    TextInput(
        "question_post",
        ("session",),
        "consultant",
        "clarification",
        {"kind": "feeling"},
        "text",
        lambda w, d: session_forms.QuestionForm(d),
        lambda w: Question.objects.latest("pk").text,
        creates=Question,
    ),
    TextInput(
        "note_post",
        ("session",),
        "consultant",
        "expose",
        {},
        "text",
        lambda w, d: session_forms.NoteForm(d),
        lambda w: PrivateNote.objects.latest("pk").text,
        creates=PrivateNote,
        shown_on=(*_session_page("consultant"), ("logbook", (), "consultant")),
        htmx=True,
    ),
    TextInput(
        "session_roles",
        ("session",),
        "facilitator",
        "planned",
        {"facilitator": "@facilitator", "client": "@client"},
        "topic_title",
        lambda w, d: session_forms.RolesForm(d, session=w["session"]),
        lambda w: LiveSession.objects.get(pk=w["session"].pk).expose_title,
        # The title shows once the session is live, as the exposé's.
        shown_on=_session_page(*AUDIENCES),
        shown_at="expose",
    ),
    # Between sessions.
    TextInput(
        "session_plan",
        ("group",),
        "consultant",
        "planned",
        {"scheduled_at": FUTURE, "format_minutes": "120"},
        "place",
        lambda w, d: session_forms.SessionPlanForm(d),
        lambda w: LiveSession.objects.latest("pk").place,
        creates=LiveSession,
        shown_on=(("group_detail", ("group",), "consultant"),),
    ),
    TextInput(
        "note_create",
        (),
        "client",
        "planned",
        {},
        "text",
        lambda w, d: session_forms.LogbookNoteForm(d, user=w["users"]["client"]),
        lambda w: PrivateNote.objects.latest("pk").text,
        creates=PrivateNote,
        shown_on=(("logbook", (), "client"),),
    ),
    TextInput(
        "note_edit",
        ("note",),
        "client",
        "planned",
        {},
        "text",
        lambda w, d: session_forms.LogbookNoteForm(
            d, instance=w["note"], user=w["users"]["client"]
        ),
        lambda w: PrivateNote.objects.get(pk=w["note"].pk).text,
        shown_on=(("logbook", (), "client"),),
    ),
    TextInput(
        "topic_list",
        ("group",),
        "consultant",
        "planned",
        {"urgency": "3", "context": "Le contexte"},
        "title",
        lambda w, d: TopicForm(d),
        lambda w: Topic.objects.latest("pk").title,
        creates=Topic,
        shown_on=(("topic_list", ("group",), "client"), ("group_detail", ("group",), "client")),
    ),
    TextInput(
        "topic_list",
        ("group",),
        "consultant",
        "planned",
        {"urgency": "1", "title": "Un titre"},
        "context",
        lambda w, d: TopicForm(d),
        lambda w: Topic.objects.latest("pk").context,
        creates=Topic,
        shown_on=(("topic_list", ("group",), "client"),),
    ),
    *(
        TextInput(
            "group_edit",
            ("group",),
            "facilitator",
            "planned",
            {k: v for k, v in GROUP_FIELDS.items() if k != field},
            field,
            lambda w, d: GroupForm(d, instance=Group.objects.get(pk=w["group"].pk)),
            lambda w, field=field: getattr(Group.objects.get(pk=w["group"].pk), field),
            shown_on=shown_on,
        )
        for field, shown_on in (
            ("name", (("group_detail", ("group",), "client"), ("home", (), "client"))),
            ("description", (("invitation_accept", ("invitation",), "anonymous"),)),
            ("default_place", (("group_detail", ("group",), "client"),)),
            ("charter", (("group_detail", ("group",), "client"),)),
        )
    ),
    TextInput(
        "group_create",
        (),
        "outsider",
        "planned",
        {**GROUP_FIELDS, "creator_role": "member"},
        "name",
        lambda w, d: GroupCreateForm(d),
        lambda w: Group.objects.latest("pk").name,
        creates=Group,
        shown_on=(("home", (), "outsider"),),
    ),
    TextInput(
        "invitation_create",
        ("group",),
        "facilitator",
        "planned",
        {"role": "member"},
        "email",
        lambda w, d: InvitationForm(d, group=w["group"]),
        lambda w: Invitation.objects.latest("pk").email,
        creates=Invitation,
        shown_on=(("group_detail", ("group",), "facilitator"),),
    ),
    TextInput(
        "invitation_accept",
        ("invitation",),
        "anonymous",
        "planned",
        {
            "email": "nina@test.codev",
            "password1": NEW_PASSWORD,
            "password2": NEW_PASSWORD,
            "accept_charter": "on",
        },
        "full_name",
        lambda w, d: JoinForm(d),
        lambda w: User.objects.latest("pk").full_name,
        creates=User,
        shown_on=(("group_detail", ("group",), "client"),),
    ),
]


def _id(spec: TextInput) -> str:
    return f"{spec.url}-{spec.field}{'-htmx' if spec.htmx else ''}"


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def texts_for(limit: int):
    """Hostile text, and exactly the form's limit and one character past it."""
    at_limit = st.sampled_from(["é", "x", "<", "🎉"]).map(lambda c: c * limit)
    return st.one_of(HOSTILE_TEXT, at_limit, at_limit.map(lambda text: text + "x"))


def _resolve(value, world):
    if isinstance(value, str) and value.startswith("@"):
        return str(world["users"][value[1:]].pk)
    return value


def _path(name, args, world):
    values = []
    for key in args:
        value = world[key]
        values.append(getattr(value, "token", None) or value.code)
    return reverse(name, args=values)


def given_back(page: Page, field: str, typed: str) -> bool:
    """The typed text is on the page, ready to copy or to fix: in its own
    field, or in the live flash's copy of what was sent."""
    if typed in page.fields.get(field, []):
        return True
    return any(typed in kept for kept in page.fields.get("kept-text", []))


@pytest.mark.parametrize("spec", INPUTS, ids=_id)
@examples(12)
@given(data=st.data())
def test_typed_text_is_kept_exactly_or_refused_in_french(
    spec, data, world, hostile_client, server_errors
):
    limit = spec.form(world, {}).fields[spec.field].max_length
    typed = data.draw(texts_for(limit), label="typed")
    with one_example():
        server_errors.clear()
        hostile_client.cookies.clear()
        set_stage(world["session"], spec.stage)
        if spec.person != "anonymous":
            hostile_client.force_login(world["users"][spec.person])
        post = {k: _resolve(v, world) for k, v in spec.base.items()} | {spec.field: typed}
        oracle = spec.form(world, post)
        valid = oracle.is_valid()
        headers = {"HX-Request": "true"} if spec.htmx else {}
        before = snapshot()
        response = hostile_client.post(_path(spec.url, spec.args, world), post, headers=headers)
        where = f"{_id(spec)} ({len(typed)} characters)"

        assert response.status_code < 500, where
        assert not server_errors(), where
        if valid:
            assert response.status_code in (200, 204, 302), where
            expected = oracle.cleaned_data[spec.field]
            assert spec.stored(world) == expected, where
            if spec.creates is not None:
                label = spec.creates._meta.label
                assert len(snapshot()[label]) == len(before[label]) + 1, where
            if response.status_code == 200:
                assert_inert(response.content.decode(), where)
            if spec.shown_at:
                set_stage(world["session"], spec.shown_at)
            for name, args, person in spec.shown_on:
                if person == "anonymous":
                    hostile_client.logout()
                else:
                    hostile_client.force_login(world["users"][person])
                page = assert_inert(
                    hostile_client.get(_path(name, args, world)).content.decode(),
                    f"{where}, {name} for {person}",
                )
                assert _squash(expected) in _squash(page.text), f"{where}, {name} for {person}"
        else:
            assert response.status_code in (200, 400), where
            page = assert_inert(response.content.decode(), where)
            assert_french_refusal(page, [typed], where)
            assert given_back(page, spec.field, typed), f"{where}: the text is not given back"
            assert snapshot() == before, f"{where}: refused but wrote"


def test_the_flash_template_hands_back_what_it_is_given():
    # given_back() reads the flash's textarea: check the hook it relies on.
    html = render_to_string(
        "sessions/live.html#flash",
        {"flash": {"message": "Refusé", "text": "<b>x</b>"}, "session": {"version": 1}},
    )
    assert Page(html).fields["kept-text"] == ["<b>x</b>"]
