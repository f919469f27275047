"""The audit log by target (the player page's trail, the admin's search by id) and by actor,
built without holding the table's writes on PostgreSQL (CREATE INDEX CONCURRENTLY, outside a
transaction): a studio's log holds every operator action and failed sign-in."""

from django.db import migrations, models

from gamingpanel.migration_operations import AddIndexConcurrentlyOnPostgres


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("audit", "0002_deleted_games_keep_their_audit_log"),
    ]

    operations = [
        AddIndexConcurrentlyOnPostgres(
            model_name="auditlogentry",
            index=models.Index(
                fields=["target_id", "target_type", "game", "-created_at"],
                name="audit_target_trail",
            ),
        ),
        AddIndexConcurrentlyOnPostgres(
            model_name="auditlogentry",
            index=models.Index(fields=["actor_name", "-created_at"], name="audit_actor_recent"),
        ),
    ]
