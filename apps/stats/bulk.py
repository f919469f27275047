"""One `INSERT … ON CONFLICT DO UPDATE` for many rows: how stats and XP of a whole match are
written in a single statement (PostgreSQL, and SQLite ≥ 3.35 for RETURNING)."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

from django.db import connection
from django.db.models import Model

# PostgreSQL takes at most 65535 parameters per statement.
POSTGRES_MAX_PARAMS = 65535


def upsert(
    *,
    model: type[Model],
    columns: Sequence[str],
    rows: Sequence[tuple],
    conflict: Sequence[str],
    assignments: str,
    returning: Sequence[str] = (),
) -> list[tuple]:
    """`assignments` is the DO UPDATE SET clause; `{t}` in it names the stored row's table and
    `excluded` the proposed row. Callers pass rows sorted by the conflict columns, so two
    transactions lock shared rows in one order and never deadlock."""
    table = connection.ops.quote_name(model._meta.db_table)
    sql_head = f"INSERT INTO {table} ({', '.join(columns)}) VALUES "  # noqa: S608
    sql_tail = (
        f" ON CONFLICT ({', '.join(conflict)}) DO UPDATE SET {assignments.format(t=table)}"
        + (f" RETURNING {', '.join(returning)}" if returning else "")
    )
    placeholder = f"({', '.join(['%s'] * len(columns))})"
    per_statement = _max_params() // len(columns)
    returned: list[tuple] = []
    with connection.cursor() as cursor:
        for start in range(0, len(rows), per_statement):
            chunk = rows[start : start + per_statement]
            cursor.execute(
                sql_head + ", ".join([placeholder] * len(chunk)) + sql_tail,
                [value for row in chunk for value in row],
            )
            if returning:
                returned.extend(cursor.fetchall())
    return returned


def _max_params() -> int:
    if connection.vendor == "sqlite":  # Django assumes 999; ask the library (32766 since 3.32)
        connection.ensure_connection()
        return connection.connection.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
    return connection.features.max_query_params or POSTGRES_MAX_PARAMS
