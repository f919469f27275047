"""Two indexes on big tables, built without holding their writes on PostgreSQL (CREATE INDEX
CONCURRENTLY, outside a transaction): the submissions by when they were made, for the daily
prune of those past LEADERBOARD_SUBMISSION_RETENTION_DAYS (services.retention), and the unpaid
payouts, for the 10-minute sweep (services.payouts.periods_to_pay), which read every payout ever
written. Partial: the payout index holds only the unpaid rows the sweep may queue."""

from django.db import migrations, models

from gamingpanel.migration_operations import AddIndexConcurrentlyOnPostgres


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("leaderboards", "0005_rank_index_drops"),
    ]

    operations = [
        AddIndexConcurrentlyOnPostgres(
            model_name="submission",
            index=models.Index(fields=["created_at"], name="submission_created"),
        ),
        AddIndexConcurrentlyOnPostgres(
            model_name="payout",
            index=models.Index(
                fields=["period"],
                condition=models.Q(paid_at=None, needs_attention=False),
                name="payout_unpaid",
            ),
        ),
    ]
