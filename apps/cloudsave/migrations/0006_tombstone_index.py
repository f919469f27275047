"""The tombstones by id, for the daily prune (services.prune_tombstones), built without holding
the documents' writes on PostgreSQL (CREATE INDEX CONCURRENTLY, outside a transaction): the
table holds every document of every player. Partial: the index holds the tombstones only."""

from django.db import migrations, models

from gamingpanel.migration_operations import AddIndexConcurrentlyOnPostgres


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("cloudsave", "0005_pruned_tombstones"),
    ]

    operations = [
        AddIndexConcurrentlyOnPostgres(
            model_name="document",
            index=models.Index(
                fields=["id"], condition=models.Q(deleted=True), name="save_tombstones"
            ),
        ),
    ]
