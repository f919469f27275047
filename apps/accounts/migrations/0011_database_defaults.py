"""The database default of authsession.platform_user_id for databases that applied accounts 0006
before it carried one (the others have it already): what the previous release's INSERTs store
while it serves during an upgrade (docs/operations.md, "Upgrading on live data")."""

from django.db import migrations

from gamingpanel.migration_operations import EnsureDatabaseDefault


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0010_player_last_seen_index"),
    ]

    operations = [
        EnsureDatabaseDefault(model_name="authsession", name="platform_user_id"),
    ]
