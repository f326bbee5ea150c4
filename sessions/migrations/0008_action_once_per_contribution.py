from django.db import migrations, models


def unlink_duplicates(apps, schema_editor):
    """Before the constraint: where a card was turned into several actions (a
    double tap), the first keeps the link; the others stay, unlinked."""
    ActionItem = apps.get_model("codev_sessions", "ActionItem")
    seen = set()
    duplicates = []
    for pk, contribution_id in (
        ActionItem.objects.filter(contribution__isnull=False)
        .order_by("created_at", "pk")
        .values_list("pk", "contribution_id")
    ):
        if contribution_id in seen:
            duplicates.append(pk)
        seen.add(contribution_id)
    ActionItem.objects.filter(pk__in=duplicates).update(contribution=None)


class Migration(migrations.Migration):
    dependencies = [
        ("codev_sessions", "0007_presence_language"),
    ]

    operations = [
        migrations.RunPython(unlink_duplicates, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="actionitem",
            constraint=models.UniqueConstraint(
                fields=("contribution",), name="action_once_per_contribution"
            ),
        ),
    ]
