from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("codev_sessions", "0011_contribution_tag_per_person")]

    operations = [migrations.RemoveField(model_name="contribution", name="tag")]
