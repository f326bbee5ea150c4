"""The Content-Security-Policy, and pages that live within it.

The policy allows scripts and styles from our own static files only: no inline
<script>, no onclick=, no style=, no eval. So every template is read, and every
page of the app rendered for each role, and none may hold any of these.
htmx is configured to match (no eval, no scripts or styles of its own making).
"""

import datetime as dt
import json
import re
from html.parser import HTMLParser
from pathlib import Path
from types import SimpleNamespace

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.db import OperationalError
from django.test import Client
from django.urls import path as route
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from codev import urls as codev_urls
from groups.models import Invitation, Topic
from sessions.models import (
    ActionItem,
    Contribution,
    Feedback,
    HandRaise,
    Learning,
    Participation,
    PrivateNote,
    Question,
    Session,
)
from sessions.steps import Step
from tests.conftest import go_live

TEMPLATES = Path(settings.BASE_DIR) / "templates"
UNSAFE = ("'unsafe-inline'", "'unsafe-eval'", "'unsafe-hashes'", "'wasm-unsafe-eval'")


def policy(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    directives = {}
    for part in header.split(";"):
        name, *sources = part.split()
        directives[name] = sources
    return directives


def assert_strict_policy(response, where=""):
    directives = policy(response)
    assert not any(word in response["Content-Security-Policy"] for word in UNSAFE), where
    assert directives["default-src"] == ["'self'"], where
    assert directives["script-src"] == ["'self'"], where
    assert directives["style-src"] == ["'self'"], where
    assert directives["img-src"] == ["'self'", "data:"], where
    assert directives["connect-src"][0] == "'self'", where
    assert directives["object-src"] == ["'none'"], where
    assert directives["base-uri"] == ["'none'"], where
    assert directives["frame-ancestors"] == ["'none'"], where
    assert directives["form-action"] == ["'self'"], where


class Inline(HTMLParser):
    """What a strict policy would refuse in a page, and its htmx-config."""

    def __init__(self, content: str):
        super().__init__(convert_charrefs=True)
        self.refused: list[str] = []
        self.htmx_configs: list[dict] = []
        self.scripts: list[str] = []
        self._in_script = False
        self.feed(content)
        self.close()

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        for name, value in attrs.items():
            if name.startswith("on") or name.startswith("hx-on"):
                self.refused.append(f"<{tag} {name}={value!r}>")
            if name == "style":
                self.refused.append(f"<{tag} style={value!r}>")
            if (value or "").strip().lower().startswith("javascript:"):
                self.refused.append(f"<{tag} {name}={value!r}>")
        if tag == "style":
            self.refused.append("<style>")
        if tag == "script":
            self._in_script = True
            if not attrs.get("src"):
                self.refused.append(f"<script {attrs}> without src")
            else:
                self.scripts.append(attrs["src"])
        if tag == "meta" and attrs.get("name") == "htmx-config":
            self.htmx_configs.append(json.loads(attrs["content"]))

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = False

    def handle_data(self, data):
        if self._in_script and data.strip():
            self.refused.append(f"inline script {data.strip()[:60]!r}")


def assert_nothing_inline(response, where):
    assert response.status_code == 200, where
    assert response["Content-Type"].startswith("text/html"), where
    assert_strict_policy(response, where)
    page = Inline(response.content.decode())
    assert page.refused == [], where
    # One htmx-config (htmx reads the first only), always with the strict keys.
    assert len(page.htmx_configs) == 1, where
    config = page.htmx_configs[0]
    assert config["allowEval"] is False, where
    assert config["allowScriptTags"] is False, where
    assert config["includeIndicatorStyles"] is False, where
    assert any(src.endswith("js/page.js") for src in page.scripts), where
    return config


# Templates, read as files: what a page would only show in a rare state.
TEMPLATE_FILES = sorted(TEMPLATES.rglob("*.html"))
INLINE_PATTERNS = {
    "inline script": re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE),
    "event handler": re.compile(r"\s(?:on[a-z]+|hx-on[:\-][\w:-]*)\s*=", re.IGNORECASE),
    "style attribute": re.compile(r"\sstyle\s*=", re.IGNORECASE),
    "style element": re.compile(r"<style\b", re.IGNORECASE),
    "javascript: URL": re.compile(r"javascript:", re.IGNORECASE),
}


def test_the_template_files_are_found():
    names = {path.relative_to(TEMPLATES).as_posix() for path in TEMPLATE_FILES}
    assert {"base.html", "sessions/live.html", "sessions/report.html"} <= names


@pytest.mark.parametrize("path", TEMPLATE_FILES, ids=lambda p: p.relative_to(TEMPLATES).as_posix())
def test_no_template_holds_inline_script_handler_or_style(path):
    # Without Django's comments: they may name what they forbid.
    source = re.sub(
        r"\{#.*?#\}|\{% comment %\}.*?\{% endcomment %\}", "", path.read_text(), flags=re.DOTALL
    )
    for what, pattern in INLINE_PATTERNS.items():
        assert not pattern.search(source), f"{what}: {pattern.search(source).group(0)!r}"


def test_the_scanner_sees_what_it_looks_for():
    for sample in [
        '<button onclick="window.print()">',
        "<script>alert(1)</script>",
        '<svg style="max-width: 28rem">',
        '<div hx-on:click="alert(1)">',
        "<style>p { color: red }</style>",
    ]:
        assert any(p.search(sample) for p in INLINE_PATTERNS.values()), sample
        assert Inline(sample).refused, sample
    assert not any(
        p.search('<script src="/static/js/page.js" defer></script>')
        for p in INLINE_PATTERNS.values()
    )


# Every page, rendered for who sees it.


@pytest.fixture
def world(group, planned_session, facilitator, client_user, consultants):
    """A group with a past session (two rated ones for the history's chart),
    a planned one, a topic, an invitation, carnet notes and actions."""
    past = []
    for days in (40, 70):
        session = Session.objects.create(
            group=group,
            scheduled_at=timezone.now() - dt.timedelta(days=days),
            created_by=facilitator,
            status=Session.Status.CLOSED,
            step=Step.LEARNINGS,
            started_at=timezone.now() - dt.timedelta(days=days),
            closed_at=timezone.now() - dt.timedelta(days=days),
        )
        Participation.objects.create(
            session=session, user=facilitator, role=Participation.Role.FACILITATOR
        )
        Participation.objects.create(
            session=session, user=client_user, role=Participation.Role.CLIENT
        )
        for user in consultants:
            Participation.objects.create(
                session=session, user=user, role=Participation.Role.CONSULTANT
            )
        card = Contribution.objects.create(session=session, author=consultants[0], text="Essayez")
        ActionItem.objects.create(
            session=session, author=client_user, text="Parler à l'équipe", contribution=card
        )
        Learning.objects.create(session=session, author=consultants[1], text="Écouter")
        Feedback.objects.create(session=session, author=consultants[2], rating=4)
        past.append(session)
    PrivateNote.objects.create(author=client_user, session=past[0], text="Pour moi seule")
    Topic.objects.create(group=group, title="Déléguer", proposed_by=consultants[0])
    Invitation.objects.create(group=group, email="nouveau@test.codev", invited_by=facilitator)
    return {"past": past, "planned": planned_session}


def member_pages(world, member, group) -> list[str]:
    """Every page a member of `group` reads, in `world` (also tests/test_unique_ids.py)."""
    past = world["past"][0]
    note = PrivateNote.objects.get(author=member)
    # The carnet shows the member's open action: `world` gave them one.
    assert ActionItem.objects.filter(author=member).exists()
    return [
        reverse("home"),
        reverse("account"),
        reverse("password_change"),
        reverse("password_change_done"),
        reverse("account_delete"),
        reverse("logbook"),
        reverse("note_edit", args=[note.code]),
        reverse("group_detail", args=[group.code]),
        reverse("topic_list", args=[group.code]),
        reverse("group_history", args=[group.code]),
        reverse("group_create"),
        reverse("session_plan", args=[group.code]),
        reverse("session_detail", args=[past.code]),
        reverse("session_report", args=[past.code]),
        reverse("session_detail", args=[world["planned"].code]),
    ]


def test_every_page_of_a_member_is_free_of_inline_code(world, login, client_user, group):
    client = login(client_user)
    for path in member_pages(world, client_user, group):
        assert_nothing_inline(client.get(path), path)


def test_the_facilitators_pages_are_free_of_inline_code(world, login, facilitator, group):
    client = login(facilitator)
    for path in [
        reverse("group_detail", args=[group.code]),
        reverse("group_edit", args=[group.code]),
        reverse("session_detail", args=[world["planned"].code]),
    ]:
        assert_nothing_inline(client.get(path), path)


def test_the_live_page_at_every_step_for_every_role(
    world, login, facilitator, client_user, consultants
):
    session = world["planned"]
    Question.objects.create(session=session, author=consultants[0], text="Depuis quand ?")
    Contribution.objects.create(session=session, author=consultants[1], text="Un point lundi")
    HandRaise.objects.create(session=session, author=consultants[2])
    PrivateNote.objects.create(session=session, author=consultants[0], text="À creuser")
    path = reverse("session_detail", args=[session.code])
    for step in Step:
        # With the retour, so that every step of the loop is one the session can be at.
        go_live(session, step, include_retour=True)
        for user in (facilitator, client_user, consultants[0]):
            config = assert_nothing_inline(login(user).get(path), f"{step} as {user}")
            # The live page's own keys come after the strict ones, in the same meta.
            assert config["responseHandling"][0] == {"code": "204", "swap": False}
    Session.objects.filter(pk=session.pk).update(status=Session.Status.CLOSED)
    assert_nothing_inline(login(facilitator).get(path), "closed, as facilitator")


def test_pages_of_someone_signed_out_are_free_of_inline_code(client, world, client_user):
    invitation = Invitation.objects.get()
    uid = urlsafe_base64_encode(force_bytes(client_user.pk))
    token = default_token_generator.make_token(client_user)
    reset_form = client.get(reverse("password_reset_confirm", args=[uid, token])).url
    for path in [
        reverse("login"),
        reverse("password_reset"),
        reverse("password_reset_done"),
        reset_form,
        reverse("password_reset_complete"),
        reverse("invitation_accept", args=[invitation.token]),
    ]:
        assert_nothing_inline(client.get(path), path)


def test_the_lockout_page_is_free_of_inline_code(client, member):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(reverse("login"), {"username": member.email, "password": "faux"})
        # Skip the slow-down's waits: this test is about the page.
        AccessAttempt.objects.update(attempt_time=timezone.now() - dt.timedelta(minutes=10))
    response = client.post(reverse("login"), {"username": member.email, "password": "faux"})

    assert response.status_code == 429
    assert_strict_policy(response)
    assert Inline(response.content.decode()).refused == []


def test_the_qr_code_is_an_svg_of_ours_without_script(login, facilitator, planned_session):
    response = login(facilitator).get(reverse("session_qr", args=[planned_session.code]))

    assert response.status_code == 200
    assert response["Content-Type"].startswith("image/svg+xml")
    assert Inline(response.content.decode()).refused == []


def test_admin_pages_carry_the_policy_too(client, member):
    response = client.get(reverse("admin:login"))

    assert response.status_code == 200
    assert_strict_policy(response)
    assert Inline(response.content.decode()).refused == []


# Every answer carries the same headers as a page: a refusal too, whichever
# layer gives it (a middleware, a view, django-axes, the CSRF check, a crash).

HEADERS = ["X-Frame-Options", "X-Content-Type-Options", "Referrer-Policy"]
HEADERS += ["Cross-Origin-Opener-Policy", "Strict-Transport-Security"]


def boom(request):
    raise RuntimeError("a bug")


urlpatterns = [route("boom/", boom), *codev_urls.urlpatterns]


def _failed_sign_ins(member, count):
    client = Client()
    for _ in range(count):
        client.post(reverse("login"), {"username": member.email, "password": "faux"}, secure=True)
        # Past the slow-down's wait: the next one is counted.
        AccessAttempt.objects.update(attempt_time=timezone.now() - dt.timedelta(minutes=10))
    return client


def _slowed_down(world):
    client = _failed_sign_ins(world.member, 3)
    AccessAttempt.objects.update(attempt_time=timezone.now())
    return client.post(
        reverse("login"), {"username": world.member.email, "password": "faux"}, secure=True
    )


def _locked_out(world):
    client = _failed_sign_ins(world.member, settings.AXES_FAILURE_LIMIT)
    return client.post(
        reverse("login"), {"username": world.member.email, "password": "faux"}, secure=True
    )


def _database_down(world):
    class Down:
        def cursor(self):
            raise OperationalError("no database")

    world.monkeypatch.setattr("codev.health.connection", Down())
    return world.consultant.get("/healthz", secure=True)


def _session_url(name, world):
    return reverse(name, args=[world.session.code])


REFUSALS = {
    # Not a refusal, but the first answer a browser typing the address gets.
    "https redirect": (301, lambda w: w.consultant.get("/")),
    "nul in the path": (400, lambda w: w.consultant.get("/s/%00/", secure=True)),
    "nul in the query": (400, lambda w: w.consultant.get("/?q=%00", secure=True)),
    "unknown host": (400, lambda w: w.consultant.get("/", secure=True, headers={"host": "x.test"})),
    "body too large": (
        400,
        lambda w: w.consultant.post(
            reverse("login"),
            {"username": "x" * settings.DATA_UPLOAD_MAX_MEMORY_SIZE},
            secure=True,
        ),
    ),
    "wrong role": (
        403,
        lambda w: w.consultant.post(_session_url("session_add_time", w), secure=True),
    ),
    "csrf failure": (
        403,
        lambda w: Client(enforce_csrf_checks=True).post(reverse("login"), {}, secure=True),
    ),
    "not found": (404, lambda w: w.consultant.get("/s/nothing-here/", secure=True)),
    "method not allowed": (
        405,
        lambda w: w.consultant.get(_session_url("session_add_time", w), secure=True),
    ),
    "step conflict": (
        409,
        lambda w: w.facilitator.post(
            _session_url("session_start", w), secure=True, headers={"HX-Request": "true"}
        ),
    ),
    "sign-in slowed down": (429, _slowed_down),
    "sign-in locked": (429, _locked_out),
    "server error": (500, lambda w: w.consultant.get("/boom/", secure=True)),
    "health check failing": (503, _database_down),
}


@pytest.mark.parametrize("case", REFUSALS)
def test_every_refusal_carries_the_security_headers_of_a_page(
    case, settings, monkeypatch, member, facilitator, planned_session
):
    settings.ROOT_URLCONF = __name__
    settings.SECURE_HSTS_SECONDS = 3600
    settings.ALLOWED_HOSTS = ["testserver"]
    settings.SECURE_SSL_REDIRECT = True
    page = Client().get(reverse("login"), secure=True)
    world = SimpleNamespace(
        member=member,
        session=go_live(planned_session, Step.EXPOSE),
        monkeypatch=monkeypatch,
        consultant=Client(raise_request_exception=False),
        facilitator=Client(raise_request_exception=False),
    )
    world.consultant.force_login(member)
    world.facilitator.force_login(facilitator)
    status, send = REFUSALS[case]

    response = send(world)

    assert response.status_code == status
    for header in HEADERS:
        if header == "Strict-Transport-Security" and case == "https redirect":
            # Sent over https only: a browser ignores it over http.
            continue
        assert response.get(header) == page[header], header
    assert_strict_policy(response, case)
