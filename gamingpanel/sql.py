"""Compiled queries: the SQL of a hot read or write, written once beside the selector or service
that owns it, and run through Django's connection.

Building a query with the ORM costs more than running it (half of a player's GET went to query
compilation), and Django has no public way to keep a compiled query. So the few queries every
request runs are written as SQL here, once each: the selector or service stays the only place
its rule lives; the SQL is that rule's one implementation, not a copy of an ORM one. Table and
column names come from the models (`Model._meta.db_table`), so a renamed table cannot drift.
Every query here runs on PostgreSQL and SQLite (`make run`'s database) alike.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, overload

from django.db import connection
from django.db.models import Model


@dataclass(frozen=True)
class CompiledQuery:
    """SQL with `%s` placeholders; `{name}` in the text given to `compile` names a model's
    table."""

    sql: str

    @classmethod
    def compile(cls, text: str, **tables: type[Model]) -> CompiledQuery:
        quote = connection.ops.quote_name
        return cls(
            text.format(**{name: quote(model._meta.db_table) for name, model in tables.items()})
        )

    def rows(self, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with connection.cursor() as cursor:
            cursor.execute(self.sql, adapted(params))
            return cursor.fetchall()

    def row(self, params: Sequence[Any] = ()) -> tuple[Any, ...] | None:
        with connection.cursor() as cursor:
            cursor.execute(self.sql, adapted(params))
            return cursor.fetchone()

    def execute(self, params: Sequence[Any] = ()) -> int:
        """For a write: the number of rows it touched."""
        with connection.cursor() as cursor:
            cursor.execute(self.sql, adapted(params))
            return cursor.rowcount


def adapted(params: Sequence[Any]) -> list[Any]:
    """Timestamps passed as the ORM passes a DateTimeField's: SQLite compares them as text, and
    an aware one would carry a '+00:00' that the stored values lack (so `>=` missed an equal
    one)."""
    adapt = connection.ops.adapt_datetimefield_value
    return [adapt(value) if isinstance(value, datetime) else value for value in params]


@overload
def aware(moment: datetime) -> datetime: ...
@overload
def aware(moment: None) -> None: ...
def aware(moment: datetime | None) -> datetime | None:
    """A timestamp from a raw row, aware: SQLite hands back naive UTC, PostgreSQL aware."""
    if moment is not None and moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment
