"""PostgreSQL only: NOTIFY gp_profile_changes when a column of a public profile changes, for the
per-process profile mirror (apps/multiplayer/profiles.py). Other databases have no LISTEN.

A later migration that alters the type of a column named here (display_name, banned_until,
game_id, xp, player_id) must drop these triggers first and create them again after."""

from django.db import migrations

CHANNEL = "gp_profile_changes"

FUNCTIONS = f"""
CREATE OR REPLACE FUNCTION gp_profile_player_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('{CHANNEL}', (CASE WHEN TG_OP = 'DELETE' THEN OLD.id ELSE NEW.id END)::text);
  RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION gp_profile_progress_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP IN ('UPDATE', 'DELETE') THEN
    PERFORM pg_notify('{CHANNEL}', OLD.player_id::text);
  END IF;
  IF TG_OP IN ('UPDATE', 'INSERT') THEN
    PERFORM pg_notify('{CHANNEL}', NEW.player_id::text);
  END IF;
  RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION gp_profile_everyone_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('{CHANNEL}', '*');
  RETURN NULL;
END $$;
"""


def triggers(player: str, progress: str, curve: str) -> str:
    return f"""
CREATE TRIGGER gp_profile_player_update AFTER UPDATE OF display_name, banned_until, game_id
  ON {player} FOR EACH ROW
  WHEN (OLD.display_name IS DISTINCT FROM NEW.display_name
        OR OLD.banned_until IS DISTINCT FROM NEW.banned_until
        OR OLD.game_id IS DISTINCT FROM NEW.game_id)
  EXECUTE FUNCTION gp_profile_player_changed();
CREATE TRIGGER gp_profile_player_delete AFTER DELETE
  ON {player} FOR EACH ROW EXECUTE FUNCTION gp_profile_player_changed();
CREATE TRIGGER gp_profile_progress_update AFTER UPDATE OF xp, player_id
  ON {progress} FOR EACH ROW
  WHEN (OLD.xp IS DISTINCT FROM NEW.xp OR OLD.player_id IS DISTINCT FROM NEW.player_id)
  EXECUTE FUNCTION gp_profile_progress_changed();
CREATE TRIGGER gp_profile_progress_insert_delete AFTER INSERT OR DELETE
  ON {progress} FOR EACH ROW EXECUTE FUNCTION gp_profile_progress_changed();
CREATE TRIGGER gp_profile_curve_change AFTER INSERT OR UPDATE OR DELETE
  ON {curve} FOR EACH STATEMENT EXECUTE FUNCTION gp_profile_everyone_changed();
CREATE TRIGGER gp_profile_player_truncate AFTER TRUNCATE
  ON {player} FOR EACH STATEMENT EXECUTE FUNCTION gp_profile_everyone_changed();
CREATE TRIGGER gp_profile_progress_truncate AFTER TRUNCATE
  ON {progress} FOR EACH STATEMENT EXECUTE FUNCTION gp_profile_everyone_changed();
CREATE TRIGGER gp_profile_curve_truncate AFTER TRUNCATE
  ON {curve} FOR EACH STATEMENT EXECUTE FUNCTION gp_profile_everyone_changed();
"""


def drop_triggers(player: str, progress: str, curve: str) -> str:
    names = {
        player: ["gp_profile_player_update", "gp_profile_player_delete", "gp_profile_player_truncate"],
        progress: [
            "gp_profile_progress_update",
            "gp_profile_progress_insert_delete",
            "gp_profile_progress_truncate",
        ],
        curve: ["gp_profile_curve_change", "gp_profile_curve_truncate"],
    }
    drops = [f"DROP TRIGGER IF EXISTS {name} ON {table};" for table, ns in names.items() for name in ns]
    return "\n".join(
        [
            *drops,
            "DROP FUNCTION IF EXISTS gp_profile_player_changed();",
            "DROP FUNCTION IF EXISTS gp_profile_progress_changed();",
            "DROP FUNCTION IF EXISTS gp_profile_everyone_changed();",
        ]
    )


def tables(apps, schema_editor) -> tuple[str, str, str]:
    quote = schema_editor.quote_name
    return tuple(
        quote(apps.get_model(label)._meta.db_table)
        for label in ("accounts.Player", "stats.PlayerProgress", "stats.LevelCurve")
    )


def install(apps, schema_editor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(FUNCTIONS)
    schema_editor.execute(triggers(*tables(apps, schema_editor)))


def uninstall(apps, schema_editor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(drop_triggers(*tables(apps, schema_editor)))


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_auth_sessions"),
        ("stats", "0002_progress_level_from_curve"),
        ("multiplayer", "0001_initial"),
    ]

    operations = [migrations.RunPython(install, uninstall)]
