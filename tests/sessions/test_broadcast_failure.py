"""A channel layer that cannot be reached loses nothing: the POST succeeds, the
row is saved, the failure is logged (DESIGN.md, « How a change travels », 6).

In process, against the real Redis pub/sub layer pointed at a port where
nothing listens; tests/e2e/test_operations.py stops a real Redis under daphne.
"""

import socket

import pytest
from django.urls import reverse

from sessions.models import Contribution
from sessions.steps import Step
from tests.conftest import go_live


@pytest.fixture
def unreachable_layer(settings):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    # Closed again: connections to it are refused.
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {"hosts": [{"address": f"redis://127.0.0.1:{port}/0"}]},
        }
    }


def test_a_contribution_is_kept_when_the_layer_is_down(
    unreachable_layer,
    planned_session,
    member,
    login,
    caplog,
    django_capture_on_commit_callbacks,
):
    go_live(planned_session, Step.CONTRIBUTIONS)
    client = login(member)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client.post(
            reverse("contribution_post", args=[planned_session.code]),
            {"kind": "suggestion", "text": "Un point d'étape chaque lundi."},
            headers={"HX-Request": "true"},
        )
    assert response.status_code == 204
    assert callbacks, "the broadcast is registered on commit"
    assert Contribution.objects.filter(
        session=planned_session, author=member, text="Un point d'étape chaque lundi."
    ).exists()
    # Every screen, the poster's too, gets it from the full state when its
    # socket is back (sessions/layer_watch.py closes them meanwhile).
    failures = [r for r in caplog.records if r.name == "sessions.broadcast"]
    assert [r.getMessage() for r in failures] == [
        f"Broadcast failed for session {planned_session.pk}"
    ]
    assert failures[0].exc_info is not None
