"""The topic backlog (stock de sujets): propose, list the open ones, withdraw one's own."""

import html

import pytest
from django.urls import reverse

from groups.models import Topic


def text(response):
    return html.unescape(response.content.decode())


def list_url(group):
    return reverse("topic_list", args=[group.code])


def withdraw_url(topic):
    return reverse("topic_withdraw", args=[topic.group.code, topic.code])


def topic_data(**overrides):
    data = {
        "title": "Recadrer un collaborateur plus âgé",
        "context": "Il conteste mes décisions en réunion depuis six mois.",
        "urgency": Topic.Urgency.HIGH,
    }
    data.update(overrides)
    return data


@pytest.fixture
def open_topic(group, client_user):
    return Topic.objects.create(
        group=group, proposed_by=client_user, title="Dire non à ma direction"
    )


def test_member_proposes_a_topic(login, member, group):
    response = login(member).post(list_url(group), topic_data())

    assert response.status_code == 302
    assert response.url == list_url(group)
    topic = Topic.objects.get(group=group)
    assert topic.proposed_by == member
    assert topic.title == "Recadrer un collaborateur plus âgé"
    assert topic.context == "Il conteste mes décisions en réunion depuis six mois."
    assert topic.urgency == Topic.Urgency.HIGH
    assert topic.status == Topic.Status.OPEN


def test_list_shows_only_open_topics(login, member, group, client_user):
    Topic.objects.create(group=group, proposed_by=client_user, title="Sujet ouvert")
    Topic.objects.create(
        group=group, proposed_by=client_user, title="Sujet retiré", status=Topic.Status.WITHDRAWN
    )
    Topic.objects.create(
        group=group, proposed_by=client_user, title="Sujet traité", status=Topic.Status.TAKEN
    )

    response = login(member).get(list_url(group))

    assert response.status_code == 200
    content = text(response)
    assert "Sujet ouvert" in content
    assert "Sujet retiré" not in content
    assert "Sujet traité" not in content


def test_list_shows_the_topics_of_this_group_only(login, member, group, outsider):
    other = group.__class__.objects.create(name="Autre groupe", created_by=outsider)
    Topic.objects.create(group=other, proposed_by=outsider, title="Sujet d'ailleurs")

    response = login(member).get(list_url(group))

    assert "Sujet d'ailleurs" not in text(response)


def test_member_withdraws_their_own_topic(login, client_user, group, open_topic):
    client = login(client_user)

    response = client.post(withdraw_url(open_topic))

    assert response.status_code == 302
    assert response.url == list_url(group)
    open_topic.refresh_from_db()
    assert open_topic.status == Topic.Status.WITHDRAWN
    assert "Dire non à ma direction" not in text(client.get(list_url(group)))


def test_member_cannot_withdraw_someone_elses_topic(login, member, open_topic):
    response = login(member).post(withdraw_url(open_topic))

    assert response.status_code == 403
    open_topic.refresh_from_db()
    assert open_topic.status == Topic.Status.OPEN


def test_withdraw_button_shows_on_ones_own_topics_only(login, member, client_user, open_topic):
    url = withdraw_url(open_topic)
    group_url = list_url(open_topic.group)

    assert url in login(client_user).get(group_url).content.decode()
    assert url not in login(member).get(group_url).content.decode()


def test_a_topic_taken_in_session_cannot_be_withdrawn(login, client_user, open_topic):
    open_topic.status = Topic.Status.TAKEN
    open_topic.save()

    response = login(client_user).post(withdraw_url(open_topic), follow=True)

    assert "Ce sujet a déjà été traité en séance." in text(response)
    open_topic.refresh_from_db()
    assert open_topic.status == Topic.Status.TAKEN


def test_withdrawing_needs_a_post(login, client_user, open_topic):
    assert login(client_user).get(withdraw_url(open_topic)).status_code == 405
    open_topic.refresh_from_db()
    assert open_topic.status == Topic.Status.OPEN


def test_over_long_title_gives_a_french_error_and_keeps_the_context(login, member, group):
    response = login(member).post(list_url(group), topic_data(title="x" * 141))

    assert response.status_code == 400
    assert "au plus 140 caractères (actuellement 141)" in text(response)
    assert "Il conteste mes décisions en réunion depuis six mois." in text(response)
    assert not Topic.objects.exists()


def test_over_long_context_gives_a_french_error(login, member, group):
    response = login(member).post(list_url(group), topic_data(context="x" * 1001))

    assert response.status_code == 400
    assert "au plus 1000 caractères" in text(response)
    assert not Topic.objects.exists()


def test_empty_title_gives_a_french_error(login, member, group):
    response = login(member).post(list_url(group), topic_data(title=""))

    assert response.status_code == 400
    assert "Ce champ est obligatoire." in text(response)


def test_topic_text_is_escaped(login, member, group):
    script = "<script>alert(1)</script>"
    client = login(member)
    client.post(list_url(group), topic_data(title=script, context=script))

    content = client.get(list_url(group)).content.decode()

    assert script not in content
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in content


def test_stranger_gets_404_on_the_topics(login, outsider, group, open_topic):
    client = login(outsider)

    assert client.get(list_url(group)).status_code == 404
    assert client.post(list_url(group), topic_data()).status_code == 404
    assert client.post(withdraw_url(open_topic)).status_code == 404
    assert Topic.objects.count() == 1
    open_topic.refresh_from_db()
    assert open_topic.status == Topic.Status.OPEN


def test_anonymous_topics_redirect_to_sign_in(client, group, open_topic):
    for response in [
        client.get(list_url(group)),
        client.post(list_url(group), topic_data()),
        client.post(withdraw_url(open_topic)),
    ]:
        assert response.status_code == 302
        assert response.url.startswith(reverse("login") + "?next=")
    assert Topic.objects.count() == 1
