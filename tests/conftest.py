"""Role fixtures shared by every test file.

A group « Groupe test » with its facilitator (animateur) and five members, one
of whom is the client of a planned session; an outsider belongs to no group.
"""

import datetime as dt
import os
import tempfile
import unicodedata
import zoneinfo
from pathlib import Path

import pytest
import time_machine
from django.db import connections
from django.utils import timezone

from groups.models import Group, Membership, User
from sessions.models import ContributionTag, Participation, Session
from sessions.steps import Step

PASSWORD = "un mot de passe solide"

# The instant every test starts at, whatever today is: a Wednesday in June,
# in no special week. `CODEV_TEST_NOW=2028-02-29T23:30+01:00 make test` runs
# the suite at another one, to find a test that still leans on the calendar.
FIXED_NOW = dt.datetime(2026, 6, 10, 10, 0, tzinfo=zoneinfo.ZoneInfo("Europe/Paris"))

# The websocket tests' fixtures: asgi_application, empty_channel_layer.
pytest_plugins = ["tests.sockets"]


@pytest.hookimpl(trylast=True)  # after `-m` / `-k` have deselected
def pytest_collection_modifyitems(config, items):
    """Give SQLite a file test database when a test needs a second connection.

    Django tests SQLite in memory: the daphne process of the browser tests
    cannot see it, and two threads writing at once are refused outright
    instead of waiting their turn. Only runs that hold such tests (markers
    `e2e` and `concurrent`) pay for a file: the rest keeps the in-memory one.
    The name carries the process id, so that two runs at once never share a
    file; Django deletes it at the end of the run.
    """
    if not any(item.get_closest_marker(m) for item in items for m in ("e2e", "concurrent")):
        return
    for alias in connections:
        settings_dict = connections[alias].settings_dict
        sqlite = settings_dict["ENGINE"] == "django.db.backends.sqlite3"
        if sqlite and not settings_dict["TEST"].get("NAME"):
            name = f"codev-test-{alias}-{os.getpid()}.sqlite3"
            settings_dict["TEST"]["NAME"] = str(Path(tempfile.gettempdir()) / name)


def make_user(name: str) -> User:
    # ASCII addresses: « Chloé » signs in as chloe.deux@test.codev.
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    email = f"{ascii_name.lower().replace(' ', '.')}@test.codev"
    return User.objects.create_user(email=email, password=PASSWORD, full_name=name)


def add_member(group: Group, user: User, role: str = Membership.Role.MEMBER) -> Membership:
    return Membership.objects.create(
        group=group, user=user, role=role, charter_accepted_at=timezone.now()
    )


def go_live(session: Session, step: str = Step.EXPOSE, *, include_retour: bool = False) -> Session:
    """Put `session` live at `step`, as if the facilitator had walked it there."""
    now = timezone.now()
    Session.objects.filter(pk=session.pk).update(
        status=Session.Status.LIVE,
        step=step,
        include_retour=include_retour,
        started_at=now,
        step_started_at=now,
    )
    session.refresh_from_db()
    return session


def tag_card(card, user: User, tag: str) -> ContributionTag:
    """`user`, client of the card's session, sorts it (services.contribution_tag)."""
    return ContributionTag.objects.create(contribution=card, user=user, tag=tag)


def tag_of(card, user: User) -> str:
    """How `user` sorted `card`, "" if they did not."""
    found = ContributionTag.objects.filter(contribution=card, user=user).first()
    return found.tag if found else ""


def clock_start() -> dt.datetime:
    chosen = os.environ.get("CODEV_TEST_NOW")
    return dt.datetime.fromisoformat(chosen) if chosen else FIXED_NOW


@pytest.fixture(autouse=True)
def fixed_clock(request):
    """Nothing depends on today's date: every test runs from FIXED_NOW.

    The clock still moves (`tick`), so that what a test times, waits for or
    orders by creation goes on as usual; only its start is fixed. The browser
    tests are left on the real clock: the daphne they drive is another process,
    which no patch reaches, and a page and its server must agree on the time.
    Their data is built relative to now, and holds on any day.
    """
    if request.node.get_closest_marker("e2e"):
        yield None
        return
    with time_machine.travel(clock_start(), tick=True) as traveller:
        yield traveller


@pytest.fixture(autouse=True)
def fast_password_hasher(settings):
    # PBKDF2 at full strength costs about 0.25 s a user and the role fixtures
    # make seven: a fast hasher keeps the suite quick. Never in settings.py.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def facilitator(db):
    return make_user("Fanny Animatrice")


@pytest.fixture
def client_user(db):
    # Not `client`: pytest-django's test client already has that name.
    return make_user("Camille Cliente")


@pytest.fixture
def consultants(db):
    return [make_user(name) for name in ["Bruno Un", "Chloé Deux", "David Trois", "Eva Quatre"]]


@pytest.fixture
def member(consultants):
    return consultants[0]


@pytest.fixture
def outsider(db):
    return make_user("Oscar Inconnu")


@pytest.fixture
def group(facilitator, client_user, consultants):
    group = Group.objects.create(name="Groupe test", created_by=facilitator)
    add_member(group, facilitator, Membership.Role.FACILITATOR)
    for user in [client_user, *consultants]:
        add_member(group, user)
    return group


@pytest.fixture
def planned_session(group, facilitator, client_user, consultants):
    session = Session.objects.create(
        group=group,
        scheduled_at=timezone.now() + dt.timedelta(days=14),
        place="Salle 2",
        created_by=facilitator,
    )
    Participation.objects.create(
        session=session, user=facilitator, role=Participation.Role.FACILITATOR
    )
    Participation.objects.create(session=session, user=client_user, role=Participation.Role.CLIENT)
    for user in consultants:
        Participation.objects.create(session=session, user=user, role=Participation.Role.CONSULTANT)
    return session


@pytest.fixture
def login(client):
    """Sign `user` in on the test client and return the client."""

    def _login(user):
        client.force_login(user)
        return client

    return _login
