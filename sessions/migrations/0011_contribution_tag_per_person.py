import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def tags_to_the_client(apps, schema_editor):
    """Each card's tag becomes the tag of the session's client at the time.

    A tag could only be set by the client (services.contribution_tag), and the
    one client a session has now is the best knowledge of who that was. A
    tagged card of a session without a client has no owner to give it to: the
    tag is dropped rather than handed to someone who did not make it.
    """
    Contribution = apps.get_model("codev_sessions", "Contribution")
    ContributionTag = apps.get_model("codev_sessions", "ContributionTag")
    Participation = apps.get_model("codev_sessions", "Participation")
    clients = dict(Participation.objects.filter(role="client").values_list("session_id", "user_id"))
    tagged = Contribution.objects.exclude(tag="").values_list("pk", "session_id", "tag")
    ContributionTag.objects.bulk_create(
        ContributionTag(contribution_id=pk, user_id=clients[session_id], tag=tag)
        for pk, session_id, tag in tagged.iterator()
        if session_id in clients
    )


def tags_back_on_the_cards(apps, schema_editor):
    # Backwards: the current client's tag goes back on the card; other
    # people's tags have no place there and are lost.
    Contribution = apps.get_model("codev_sessions", "Contribution")
    ContributionTag = apps.get_model("codev_sessions", "ContributionTag")
    Participation = apps.get_model("codev_sessions", "Participation")
    clients = dict(Participation.objects.filter(role="client").values_list("session_id", "user_id"))
    for tag in ContributionTag.objects.select_related("contribution"):
        if clients.get(tag.contribution.session_id) == tag.user_id:
            Contribution.objects.filter(pk=tag.contribution_id).update(tag=tag.tag)


class Migration(migrations.Migration):
    dependencies = [
        ("codev_sessions", "0010_scheduled_at_bounded"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="ContributionTag",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "tag",
                    models.CharField(
                        choices=[
                            ("keep", "je retiens"),
                            ("explore", "à explorer"),
                            ("not_now", "pas maintenant"),
                        ],
                        max_length=16,
                    ),
                ),
                (
                    "contribution",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="tags",
                        to="codev_sessions.contribution",
                    ),
                ),
                (
                    "user",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "verbose_name": "classement d'une contribution",
                "verbose_name_plural": "classements des contributions",
                "constraints": [
                    models.UniqueConstraint(
                        fields=("contribution", "user"), name="contribution_tag_once"
                    )
                ],
            },
        ),
        # The column goes in the next migration: on PostgreSQL a table cannot
        # be altered in the transaction that just inserted rows pointing at it
        # ("pending trigger events").
        migrations.RunPython(tags_to_the_client, tags_back_on_the_cards),
    ]
