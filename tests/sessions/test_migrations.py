"""Data migrations: what existed before keeps its meaning after."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE_TAGS = [("codev_sessions", "0010_scheduled_at_bounded")]
AFTER_TAGS = [("codev_sessions", "0012_remove_contribution_tag")]


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.fixture
def latest():
    yield
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())


@pytest.mark.django_db(transaction=True)
def test_a_cards_tag_moves_to_the_client_of_its_session(latest):
    apps = migrate(BEFORE_TAGS)
    User = apps.get_model("groups", "User")
    Group = apps.get_model("groups", "Group")
    Session = apps.get_model("codev_sessions", "Session")
    Participation = apps.get_model("codev_sessions", "Participation")
    Contribution = apps.get_model("codev_sessions", "Contribution")
    client = User.objects.create(email="camille@test.codev", full_name="Camille")
    author = User.objects.create(email="bruno@test.codev", full_name="Bruno")
    group = Group.objects.create(name="Groupe")
    session = Session.objects.create(group=group, scheduled_at="2026-11-10T18:00Z")
    without_client = Session.objects.create(group=group, scheduled_at="2026-10-10T18:00Z")
    Participation.objects.create(session=session, user=client, role="client")
    Participation.objects.create(session=session, user=author, role="consultant")
    kept = Contribution.objects.create(session=session, author=author, text="A", tag="keep")
    Contribution.objects.create(session=session, author=author, text="B", tag="")
    Contribution.objects.create(session=without_client, author=author, text="C", tag="explore")

    apps = migrate(AFTER_TAGS)

    ContributionTag = apps.get_model("codev_sessions", "ContributionTag")
    tags = list(ContributionTag.objects.values_list("contribution_id", "user_id", "tag"))
    assert tags == [(kept.pk, client.pk, "keep")]
