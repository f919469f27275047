"""Upper-cased display names and platform ids per game, for the panel's whole-name and
whole-id searches (any case). Built without holding the tables' writes on PostgreSQL
(CREATE INDEX CONCURRENTLY, outside a transaction): both tables hold every player."""

from django.db import migrations, models
from django.db.models.functions import Upper

from gamingpanel.migration_operations import AddIndexConcurrentlyOnPostgres


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("accounts", "0007_revoke_reason_ban_ended"),
    ]

    operations = [
        AddIndexConcurrentlyOnPostgres(
            model_name="player",
            index=models.Index(Upper("display_name"), "game", name="player_upper_name_game"),
        ),
        AddIndexConcurrentlyOnPostgres(
            model_name="platformidentity",
            index=models.Index(Upper("platform_user_id"), "game", name="identity_upper_id_game"),
        ),
    ]
