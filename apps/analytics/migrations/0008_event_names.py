"""The registry of each game's client event names (capped by ANALYTICS_MAX_EVENT_NAMES), filled
with every name the game already has: the aggregated ones from ClientEventDay, and every name of
its raw events (the aggregation may not have read them all yet). Those names keep working
whatever their number.

The raw events' names are read by a loose scan of the (game, name, day) index: one index lookup
per distinct name, not a read of the table, which on a big deployment holds hundreds of
millions of rows (the deploy waits for this migration)."""

import django.db.models.deletion
from django.db import migrations, models
from django.db.models import Min

CHUNK = 5_000
# The facts the panel records itself as this migration was written (never a client's name:
# services.SERVER_EVENT_NAMES refuses them from clients). Named here, as a migration does not
# import the code it migrates: the code may change after it.
SERVER_EVENT_NAMES = frozenset(
    {
        "session_start",
        "player_created",
        "purchase_completed",
        "purchase_refunded",
        "match_played",
        "event_reward_claimed",
        "battlepass_tier_claimed",
    }
)
# Each next name of a game after the last, then each name's first day: index lookups only.
RAW_NAMES = """
WITH RECURSIVE names(name) AS (
    SELECT (SELECT name FROM {raw} WHERE game_id = %s ORDER BY name LIMIT 1)
    UNION ALL
    SELECT (SELECT r.name FROM {raw} r WHERE r.game_id = %s AND r.name > names.name
            ORDER BY r.name LIMIT 1)
      FROM names WHERE names.name IS NOT NULL
)
SELECT names.name,
       (SELECT r.day FROM {raw} r WHERE r.game_id = %s AND r.name = names.name
         ORDER BY r.day LIMIT 1)
  FROM names WHERE names.name IS NOT NULL
"""


def register_existing_names(apps, schema_editor):
    EventName = apps.get_model("analytics", "EventName")
    ClientEventDay = apps.get_model("analytics", "ClientEventDay")
    RawEvent = apps.get_model("analytics", "RawEvent")
    Game = apps.get_model("accounts", "Game")
    connection = schema_editor.connection
    raw_names = RAW_NAMES.format(raw=connection.ops.quote_name(RawEvent._meta.db_table))
    for game_id in Game.objects.order_by("pk").values_list("pk", flat=True):
        first_seen = dict(
            ClientEventDay.objects.filter(game_id=game_id)
            .values("name")
            .annotate(first=Min("day"))
            .values_list("name", "first")
        )
        with connection.cursor() as cursor:
            cursor.execute(raw_names, [game_id, game_id, game_id])
            found = cursor.fetchall()
        for name, first in found:
            if name in SERVER_EVENT_NAMES:
                continue
            first = models.DateField().to_python(first)  # SQLite answers a string
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
