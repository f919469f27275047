"""The database defaults of offerday.real_money and dirtyday.version for databases that applied
analytics 0005 and 0006 before they carried them (the others have them already): what the
previous release's INSERTs store while it serves during an upgrade (docs/operations.md,
"Upgrading on live data")."""

from django.db import migrations

from gamingpanel.migration_operations import EnsureDatabaseDefault


class Migration(migrations.Migration):
    dependencies = [
        ("analytics", "0008_event_names"),
    ]

    operations = [
        EnsureDatabaseDefault(model_name="offerday", name="real_money"),
        EnsureDatabaseDefault(model_name="dirtyday", name="version"),
    ]
