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

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar, overload

from django.db import DEFAULT_DB_ALIAS, connection, connections, models
from django.db.models import Field, Model
from django.db.models.signals import post_save, pre_save


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


Row = TypeVar("Row", bound=Model)


@dataclass(frozen=True)
class CompiledInstances(Generic[Row]):
    """A compiled SELECT of every column of one model (or of several, joined), answered as
    instances of them. Each value is made what the model's field holds, through public field
    APIs only (`from_db_value` of JSON and custom fields, aware timestamps, booleans), for the
    kinds of field the compiled models have; `compile` refuses any other kind rather than guess.
    `{columns}` in the text given to `compile` is the models' column lists, in model and field
    order; `extra` more columns after them come back as they are."""

    query: CompiledQuery
    models: tuple[type[Model], ...]
    fields: tuple[tuple[Field, ...], ...]
    extra: int

    @classmethod
    def compile(cls, text: str, model: type[Row], **tables: type[Model]) -> CompiledInstances[Row]:
        return cls.compile_joined(text, (model,), extra=0, tables=tables)

    @classmethod
    def compile_joined(
        cls,
        text: str,
        models: tuple[type[Model], ...],
        *,
        extra: int,
        tables: Mapping[str, type[Model]],
    ) -> CompiledInstances[Any]:
        fields = tuple(tuple(model._meta.concrete_fields) for model in models)
        for model, its_fields in zip(models, fields, strict=True):
            unknown = [field.name for field in its_fields if not isinstance(field, LOADABLE)]
            if unknown:
                raise TypeError(f"{model.__name__}.{unknown}: no compiled load for these fields")
        quote = connection.ops.quote_name
        columns = ", ".join(
            f"{quote(model._meta.db_table)}.{quote(field.column)}"
            for model, its_fields in zip(models, fields, strict=True)
            for field in its_fields
        )
        query = CompiledQuery.compile(text.replace("{columns}", columns), **tables)
        return cls(query, models, fields, extra)

    def first(self, params: Sequence[Any] = ()) -> Row | None:
        row = self.query.row(params)
        return None if row is None else self._loaded(row)[0]

    def rows(self, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Each row as (an instance per model..., the extra columns...)."""
        return [self._loaded(row) for row in self.query.rows(params)]

    def _loaded(self, row: tuple[Any, ...]) -> tuple[Any, ...]:
        db = connections[DEFAULT_DB_ALIAS]  # this thread's connection, looked up once
        loaded: list[Any] = []
        start = 0
        for model, fields in zip(self.models, self.fields, strict=True):
            values = [_loaded(f, v, db) for f, v in zip(fields, row[start:], strict=False)]
            loaded.append(model.from_db(db.alias, [f.attname for f in fields], values))
            start += len(fields)
        return (*loaded, *row[start : start + self.extra])


# For these kinds of field a raw row holds what the field holds, but for the cases _loaded
# handles; any other kind (a decimal, a UUID on SQLite...) needs thought before it is added.
LOADABLE = (
    models.AutoField,
    models.BigAutoField,
    models.IntegerField,
    models.CharField,
    models.TextField,
    models.BooleanField,
    models.DateTimeField,
    models.JSONField,
    models.ForeignKey,
)


def _loaded(field: Field, value: Any, db: Any) -> Any:
    if value is None:
        return None
    if isinstance(field, models.DateTimeField):
        return aware(value)  # SQLite keeps them naive, in UTC
    if isinstance(field, models.BooleanField):
        return bool(value)  # SQLite keeps 0 and 1
    if hasattr(field, "from_db_value"):  # JSON (a string from either database), custom fields
        return field.from_db_value(value, None, db)
    return value


@dataclass(frozen=True)
class CompiledInsert:
    """One model's INSERT of every column (the auto primary key comes back), compiled once:
    `insert` stores an unsaved instance as `save()` would (the fields' own `pre_save`, such as
    `auto_now_add`, and their database preparation), without building the statement again.
    A model with a `pre_save` or `post_save` receiver is stored by `save()` instead, so its
    receivers still run."""

    sql: str
    fields: tuple[Field, ...]

    @classmethod
    def compile(cls, model: type[Model]) -> CompiledInsert:
        meta = model._meta
        fields = tuple(field for field in meta.concrete_fields if field is not meta.auto_field)
        quote = connection.ops.quote_name
        table, columns = quote(meta.db_table), ", ".join(quote(field.column) for field in fields)
        values, returned = ", ".join(["%s"] * len(fields)), quote(meta.pk.column)
        # Only the model's own names are interpolated; every value is a parameter.
        sql = f"INSERT INTO {table} ({columns}) VALUES ({values}) RETURNING {returned}"  # noqa: S608
        return cls(sql, fields)

    def insert(self, instance: Model) -> None:
        model = type(instance)
        if pre_save.has_listeners(model) or post_save.has_listeners(model):
            instance.save(force_insert=True)
            return
        db = connections[DEFAULT_DB_ALIAS]  # this thread's connection, looked up once
        values = [
            field.get_db_prep_save(field.pre_save(instance, True), db) for field in self.fields
        ]
        with db.cursor() as cursor:
            cursor.execute(self.sql, values)
            instance.pk = cursor.fetchone()[0]
        # As `save()` leaves it (Django documents both flags on `Model._state`).
        instance._state.adding = False
        instance._state.db = db.alias
