"""The database defaults of matchresult.ignored_stats and counted and of match.lines_digest for
databases that applied multiplayer 0004-0006 before they carried them (the others have them
already): what the previous release's INSERTs store while it serves during an upgrade
(docs/operations.md, "Upgrading on live data")."""

from django.db import migrations

from gamingpanel.migration_operations import EnsureDatabaseDefault


class Migration(migrations.Migration):
    dependencies = [
        ("multiplayer", "0006_match_lines_digest"),
    ]

    operations = [
        EnsureDatabaseDefault(model_name="matchresult", name="ignored_stats"),
        EnsureDatabaseDefault(model_name="matchresult", name="counted"),
        EnsureDatabaseDefault(model_name="match", name="lines_digest"),
    ]
