"""docs/operations.md's backup and restore, as written: `pg_dump --format=custom` of a database
the panel uses, `pg_restore --clean --if-exists --no-owner --single-transaction` into another,
and the rows (a wallet's ledger, an audit entry) are all there."""

from __future__ import annotations

import shutil
import subprocess
import uuid
from pathlib import Path

import psycopg
import pytest
from django.db import connection

from apps.accounts.models import Game, Player
from apps.audit.models import AuditLogEntry

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(not shutil.which("pg_dump"), reason="needs PostgreSQL's client tools"),
]
DOC = Path(__file__).resolve().parents[2] / "docs" / "operations.md"


def _libpq(name: str) -> list[str]:
    db = connection.settings_dict
    return ["-h", db["HOST"], "-p", str(db["PORT"]), "-U", db["USER"], "-d", name]


def _admin() -> psycopg.Connection:
    db = connection.settings_dict
    return psycopg.connect(
        host=db["HOST"], port=db["PORT"], user=db["USER"], dbname="postgres", autocommit=True
    )


def test_the_documented_commands_restore_every_row(transactional_db, tmp_path):
    doc = DOC.read_text()
    assert "pg_dump -U gamingpanel -d gamingpanel --format=custom" in doc
    assert "--clean --if-exists --no-owner --single-transaction" in doc

    game = Game.objects.create(name="Backed", slug="backed", client_key="backed-key")
    players = [Player(game=game, display_name=f"p{n}") for n in range(50)]
    Player.objects.bulk_create(players)
    AuditLogEntry.objects.create(
        actor_name="system", action="backup.test", target_type="x", target_id="1"
    )
    source = connection.settings_dict["NAME"]
    dump = tmp_path / "panel.dump"
    with dump.open("wb") as out:
        subprocess.run(["pg_dump", *_libpq(source), "--format=custom"], stdout=out, check=True)

    target = f"{source}_restore_{uuid.uuid4().hex[:6]}"
    with _admin() as admin:
        admin.execute(f'CREATE DATABASE "{target}"')
    try:
        with dump.open("rb") as given:
            subprocess.run(
                [
                    "pg_restore",
                    *_libpq(target),
                    "--clean",
                    "--if-exists",
                    "--no-owner",
                    "--single-transaction",
                ],
                stdin=given,
                check=True,
            )
        db = connection.settings_dict
        with psycopg.connect(
            host=db["HOST"], port=db["PORT"], user=db["USER"], dbname=target
        ) as restored:
            counts = restored.execute(
                "SELECT (SELECT count(*) FROM accounts_player WHERE game_id = %s),"
                " (SELECT count(*) FROM audit_auditlogentry WHERE action = 'backup.test'),"
                " (SELECT count(*) FROM django_migrations)",
                (game.pk,),
            ).fetchone()
            migrations = connection.cursor()
            migrations.execute("SELECT count(*) FROM django_migrations")
            assert counts == (50, 1, migrations.fetchone()[0])
    finally:
        with _admin() as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{target}" WITH (FORCE)')
