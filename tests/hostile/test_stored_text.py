"""What is stored renders inert, on every page and in every export that shows it.

Each example writes one hostile text into every text a person can store (the
group, a member's name, a whole session and what it produced, the carnet, the
topics), straight into the database: whatever a form lets through today, an
older version or the admin may have let through. Then it reads every page
and file that shows them, as each person who may:

- HTML pages: no script, handler, hx- attribute or foreign element from the
  text, and the text shown as typed;
- the compte rendu and the carnet in Markdown: no raw HTML and no link that
  the text could open in a Markdown reader (sessions.markdown); my own data in
  Markdown gives my text back as typed but makes a group's name literal;
- JSON: the text exactly, in a JSON document;
- the calendar feed: one event per session whatever the place says.
"""

import datetime as dt
import json
import re

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone
from hypothesis import example, given
from hypothesis import strategies as st
from icalendar import Calendar

from groups.models import Group, Invitation, Topic, User
from sessions.markdown import markdown_literal
from sessions.models import (
    ActionItem,
    ActionUpdate,
    Contribution,
    ContributionTag,
    DemandCheck,
    Feedback,
    Learning,
    PrivateNote,
    Question,
    Session,
)
from tests.hostile.conftest import STAGES, examples, one_example, set_stage
from tests.hostile.payloads import ATTACKS, assert_inert

pytestmark = pytest.mark.django_db

# What a form could have stored: no NUL (refused by every form, and PostgreSQL
# cannot store it), not blank. Hand-written attacks, and mixtures of them.
STORABLE = (
    st.one_of(
        st.sampled_from([a for a in ATTACKS if a.strip() and "\x00" not in a]),
        st.lists(
            st.one_of(
                st.sampled_from(ATTACKS),
                st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00")),
            ),
            min_size=2,
            max_size=4,
        ).map("".join),
    )
    .map(lambda text: text.replace("\x00", ""))
    .filter(lambda text: text.strip())
)

AUDIENCES = ("facilitator", "client", "consultant")


def _fit(model, field, text):
    """The text cut to the column's length, stripped as a form strips it."""
    limit = model._meta.get_field(field).max_length
    return text[:limit].strip() or "x"


def store_everywhere(world, text):
    """`text` in every text field a person fills, across the world's objects."""
    group, session, closed = world["group"], world["session"], world["closed_session"]
    client, consultant = world["users"]["client"], world["users"]["consultant"]
    fit = lambda model, field: _fit(model, field, text)  # noqa: E731
    Group.objects.filter(pk=group.pk).update(
        name=fit(Group, "name"),
        description=fit(Group, "description"),
        default_place=fit(Group, "default_place"),
        charter=fit(Group, "charter"),
    )
    User.objects.filter(pk=consultant.pk).update(full_name=fit(User, "full_name"))
    Invitation.objects.filter(pk=world["invitation"].pk).update(email=fit(Invitation, "email"))
    Topic.objects.filter(pk=world["topic"].pk).update(
        title=fit(Topic, "title"), context=fit(Topic, "context")
    )
    for target in (session, closed):
        Session.objects.filter(pk=target.pk).update(
            place=fit(Session, "place"),
            expose_title=fit(Session, "expose_title"),
            expose_summary=fit(Session, "expose_summary"),
            demand_text=fit(Session, "demand_text"),
            demand_validated_at=timezone.now(),
            report_all_cards=True,
        )
        Question.objects.create(session=target, author=consultant, text=fit(Question, "text"))
        DemandCheck.objects.create(session=target, author=consultant, verdict="rephrase")
        for tag in ("keep", "explore"):
            card = Contribution.objects.create(
                session=target, author=consultant, text=fit(Contribution, "text")
            )
            ContributionTag.objects.create(contribution=card, user=client, tag=tag)
        action = ActionItem.objects.create(
            session=target,
            author=client,
            text=fit(ActionItem, "text"),
            progress_note=fit(ActionItem, "progress_note"),
            progress_at=timezone.now(),
            due_date=dt.date(2031, 5, 14),
        )
        ActionUpdate.objects.create(action=action, status="doing", note=fit(ActionUpdate, "note"))
        for author in (client, consultant):
            Learning.objects.create(session=target, author=author, text=fit(Learning, "text"))
            Feedback.objects.create(
                session=target, author=author, rating=4, comment=fit(Feedback, "comment")
            )
            PrivateNote.objects.create(session=target, author=author, text=fit(PrivateNote, "text"))
    PrivateNote.objects.create(author=client, text=fit(PrivateNote, "text"))
    Question.objects.filter(session=session).update(hidden=False)
    return {
        "group": fit(Group, "name"),
        "card": fit(Contribution, "text"),
        "note": fit(PrivateNote, "text"),
        "place": fit(Session, "place"),
    }


def _squash(text):
    return re.sub(r"\s+", "", text)


def assert_markdown_inert(markdown, where):
    """Nothing a Markdown reader would turn into HTML or a link.

    CommonMark reads raw HTML at a `<` followed by a tag name, `/`, `!` or
    `?`, and a link or image at `](`; a backslash before the `<` or `]` (an
    odd number of them) makes it a literal character. Our templates write
    neither.
    """
    for match in re.finditer(r"<[A-Za-z/!?]|\]\(", markdown):
        backslashes = len(markdown[: match.start()]) - len(markdown[: match.start()].rstrip("\\"))
        assert backslashes % 2 == 1, f"{where}: {markdown[max(0, match.start() - 40) :][:80]!r}"


def get(client, user, name, *args, query=None):
    if user is None:
        client.logout()
    else:
        client.force_login(user)
    response = client.get(reverse(name, args=args), query)
    assert response.status_code == 200, f"{name}: {response.status_code}"
    return response


@examples(15)
@given(text=STORABLE, stage=st.sampled_from(STAGES[1:-1]))
@example(text="0\r<script>alert(1)</script>", stage="retour")
@example(text="Groupe\ndu jeudi", stage="expose")
def test_stored_text_renders_inert_everywhere(text, stage, world, hostile_client):
    with one_example():
        hostile_client.cookies.clear()
        shown = store_everywhere(world, text)
        set_stage(world["session"], stage)
        session, closed, group = world["session"], world["closed_session"], world["group"]
        users = world["users"]
        client, consultant, facilitator = users["client"], users["consultant"], users["facilitator"]

        pages = [
            *((users[a], "session_detail", session.code) for a in AUDIENCES),
            (client, "session_detail", closed.code),
            (consultant, "session_report", closed.code),
            (client, "group_detail", group.code),
            (facilitator, "group_history", group.code),
            (consultant, "topic_list", group.code),
            (client, "home"),
            (client, "logbook"),
            (client, "account"),
            (None, "invitation_accept", world["invitation"].token),
        ]
        for user, name, *args in pages:
            where = f"{name} for {user} ({stage})"
            page = assert_inert(get(hostile_client, user, name, *args).content.decode(), where)
            if name != "account":
                assert _squash(shown["group"]) in _squash(page.text), where
            if name == "session_report":
                assert _squash(shown["card"]) in _squash(page.text), where
        # The carnet's search box gives the term back, and lists what matches.
        search = get(hostile_client, client, "logbook", query={"q": text[:100]})
        assert_inert(search.content.decode(), "logbook search")

        for user, name, *args in [
            (consultant, "session_report_markdown", closed.code),
            (client, "logbook_markdown"),
        ]:
            response = get(hostile_client, user, name, *args)
            assert response["Content-Type"] == "text/markdown; charset=utf-8"
            assert response["Content-Disposition"].startswith("attachment;")
            assert response["X-Content-Type-Options"] == "nosniff"
            markdown = response.content.decode()
            assert_markdown_inert(markdown, name)
            assert markdown_literal(shown["card"]) in markdown, name

        # My data: my own words as I typed them; the group's name made literal.
        response = get(hostile_client, consultant, "account_data_markdown")
        assert response["Content-Disposition"].startswith("attachment;")
        markdown = response.content.decode()
        assert markdown_literal(shown["group"]) in markdown
        assert shown["card"] in markdown
        response = get(hostile_client, consultant, "account_data_json")
        assert response["Content-Type"] == "application/json"
        data = json.loads(response.content)
        assert shown["card"] in [c["text"] for c in data["contributions"]]

        # The group's name goes into the invitation's subject: still one line.
        hostile_client.force_login(facilitator)
        mail.outbox.clear()
        invite = hostile_client.post(
            reverse("invitation_create", args=[group.code]),
            {"email": "nina@test.codev", "role": "member"},
        )
        assert invite.status_code == 302
        assert [len(m.subject.splitlines()) for m in mail.outbox] == [1]

        feed = hostile_client.get(reverse("calendar_feed", args=[world["feed_token"]]))
        events = [
            event
            for event in Calendar.from_ical(feed.content).walk("VEVENT")
            # The world's cycle has its launch session in the feed too.
            if not str(event["UID"]).startswith("cycle-")
        ]
        assert len(events) == Session.objects.filter(group=group).count()
        # A line break in the place is escaped in the feed (read back as "\n").
        lines = re.compile(r"\r\n?")
        locations = {lines.sub("\n", str(event["LOCATION"])) for event in events}
        assert locations == {lines.sub("\n", shown["place"])}
