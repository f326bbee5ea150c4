"""`make run` loads demo data; running it twice adds nothing."""

import io

from django.core.management import call_command

from groups.models import Group, Membership, Topic
from sessions.models import ActionItem, Feedback, Session


def run():
    call_command("seed_demo", stdout=io.StringIO())


def counts():
    return (
        Group.objects.count(),
        Membership.objects.count(),
        Topic.objects.count(),
        Session.objects.count(),
        ActionItem.objects.count(),
        Feedback.objects.count(),
    )


def test_seed_demo_makes_the_pilot_group(db):
    run()

    group = Group.objects.get(name="Groupe pilote")
    assert group.memberships.filter(role="facilitator").count() == 1
    assert group.memberships.filter(role="member").count() == 6
    assert all(m.user.email.endswith("@demo.codev") for m in group.memberships.all())
    assert group.topics.filter(status="open").count() == 3
    assert group.sessions.filter(status="closed").count() == 3
    assert group.sessions.filter(status="planned").count() == 1
    dates = list(group.sessions.values_list("scheduled_at", flat=True))
    assert len({d.date() for d in dates}) == 4


def test_seed_demo_is_idempotent(db):
    run()
    first = counts()
    run()
    assert counts() == first
