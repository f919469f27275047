"""The registry of each game's client event names (capped by ANALYTICS_MAX_EVENT_NAMES), filled
with every name the game already has: the aggregated ones from ClientEventDay, and those of the
raw events the aggregation may not have read yet (the recent days, dirty days, a game never
aggregated). Those names keep working whatever their number."""

from datetime import timedelta

import django.db.models.deletion
from django.db import migrations, models
from django.db.models import Min, Q
from django.utils import timezone

# The days every beat run recomputes (maintenance.RECOMPUTED_DAYS) and one more.
RECENT_DAYS = 4
CHUNK = 5_000


def register_existing_names(apps, schema_editor):
    EventName = apps.get_model("analytics", "EventName")
    ClientEventDay = apps.get_model("analytics", "ClientEventDay")
    RawEvent = apps.get_model("analytics", "RawEvent")
    RecentRun = apps.get_model("analytics", "RecentRun")
    DirtyDay = apps.get_model("analytics", "DirtyDay")
    Game = apps.get_model("accounts", "Game")
    today = timezone.now().date()
    last_runs = dict(RecentRun.objects.values_list("game_id", "day"))
    for game_id in Game.objects.order_by("pk").values_list("pk", flat=True):
        first_seen = dict(
            ClientEventDay.objects.filter(game_id=game_id)
            .values("name")
            .annotate(first=Min("day"))
            .values_list("name", "first")
        )
        raw = RawEvent.objects.filter(game_id=game_id, source="client")
        if (last := last_runs.get(game_id)) is not None:
            # Before the last run's recent days, only dirty days may hold unaggregated events.
            dirty = DirtyDay.objects.filter(game_id=game_id).values_list("day", flat=True)
            since = min(last, today) - timedelta(days=RECENT_DAYS)
            raw = raw.filter(Q(day__gte=since) | Q(day__in=list(dirty)))
        for name, first in (
            raw.values("name").annotate(first=Min("day")).values_list("name", "first")
        ):
            first_seen[name] = min(first, first_seen.get(name, first))
        rows = [EventName(game_id=game_id, name=n, first_seen=d) for n, d in first_seen.items()]
        for start in range(0, len(rows), CHUNK):
            EventName.objects.bulk_create(rows[start : start + CHUNK], ignore_conflicts=True)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0008_panel_search_indexes"),
        ("analytics", "0007_player_day_game_day_index"),
    ]

    operations = [
        migrations.CreateModel(
            name="EventName",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("name", models.CharField(max_length=64)),
                ("first_seen", models.DateField()),
                (
                    "game",
                    models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="accounts.game",
                    ),
                ),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(fields=("game", "name"), name="event_name_once")
                ],
            },
        ),
        migrations.RunPython(register_existing_names, migrations.RunPython.noop),
    ]
