"""The few spots where PostgreSQL and SQLite spell SQL differently, so aggregation is one set of
statements on both (PostgreSQL in production, SQLite for `make run`)."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import connection

MAX_18_DIGITS = 10**18 - 1


@dataclass(frozen=True)
class Dialect:
    postgres: bool

    def add_days(self, expr: str, days: str) -> str:
        """`expr` (a date) plus `days` (an integer expression)."""
        if self.postgres:
            return f"({expr} + ({days}))"
        return f"date(julianday({expr}) + ({days}))"

    def json_text(self, column: str, key: str) -> str:
        if self.postgres:
            return f"({column} ->> '{key}')"
        return f"CAST(json_extract({column}, '$.{key}') AS TEXT)"

    def json_int(self, column: str, key: str) -> str:
        """An integer property of at most 18 digits, 0 when missing, not an integer or longer
        (never a failed cast; the same numbers on both databases)."""
        if self.postgres:
            text = self.json_text(column, key)
            return f"(CASE WHEN {text} ~ '^-?[0-9]{{1,18}}$' THEN {text}::bigint ELSE 0 END)"
        value = f"json_extract({column}, '$.{key}')"
        return (
            f"(CASE WHEN json_type({column}, '$.{key}') = 'integer'"
            f" AND {value} BETWEEN -{MAX_18_DIGITS} AND {MAX_18_DIGITS} THEN {value} ELSE 0 END)"
        )

    def json_true(self, column: str, key: str) -> str:
        """A condition: the property is JSON true."""
        if self.postgres:
            return f"(({column} -> '{key}') = 'true'::jsonb)"
        return f"(json_type({column}, '$.{key}') = 'true')"


def dialect() -> Dialect:
    return Dialect(postgres=connection.vendor == "postgresql")
