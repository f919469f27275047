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

import hashlib
import re
import threading
import time
import weakref
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar, overload

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, NotSupportedError, connection, connections, models
from django.db.models import Field, Model
from django.db.models.signals import post_save, pre_save
from psycopg import ClientCursor
from psycopg.errors import InvalidSqlStatementName


def row_lock(clause: str) -> str:
    """A row-lock clause (`FOR SHARE`, `FOR UPDATE`…) to end a statement with, or nothing on a
    database without row locks: SQLite serialises its writes whole (the ORM's select_for_update
    leaves the clause out there too)."""
    return f" {clause}" if connection.features.has_select_for_update else ""


@dataclass(frozen=True)
class CompiledQuery:
    """SQL with `%s` placeholders; `{name}` in the text given to `compile` names a model's
    table.

    On PostgreSQL (with DATABASE_PREPARED_STATEMENTS, the default) it runs as a prepared
    statement: each connection PREPAREs it once (and again every
    DATABASE_PREPARED_PLAN_SECONDS, see _Prepares), then every call EXECUTEs it, so PostgreSQL
    parses and plans it once per connection instead of on every call (planning was most of the
    server's time for the hot statements). `prepared=False` for a statement PostgreSQL cannot
    prepare (a parameter whose type nothing around it says); a test prepares every one. A
    `label` goes into the statement's name (`gp_<label>_<hash>`), so what a session EXECUTEs
    says what it is in PostgreSQL's logs and in a test's captured queries."""

    sql: str
    prepared: bool = True
    label: str = ""
    statement: str = field(init=False)
    prepare_sql: str = field(init=False)
    execute_sql: str = field(init=False)

    def __post_init__(self) -> None:
        digest = hashlib.sha1(self.sql.encode(), usedforsecurity=False).hexdigest()
        # PostgreSQL keeps 63 bytes of a name; the hash part keeps distinct texts apart.
        name = f"gp_{self.label[:40]}_{digest[:16]}" if self.label else f"gp_{digest[:24]}"
        count = 0

        def numbered(match: re.Match[str]) -> str:
            nonlocal count
            if match.group(0) == "%%":
                return "%"  # PREPARE is sent as it is, with nothing to interpolate
            count += 1
            return f"${count}"

        body = _PLACEHOLDER.sub(numbered, self.sql)
        arguments = f"({', '.join(['%s'] * count)})" if count else ""
        object.__setattr__(self, "statement", name)
        object.__setattr__(self, "prepare_sql", f"PREPARE {name} AS {body}")
        object.__setattr__(self, "execute_sql", f"EXECUTE {name}{arguments}")

    @classmethod
    def compile(cls, text: str, **tables: type[Model]) -> CompiledQuery:
        quote = connection.ops.quote_name
        query = cls(
            text.format(**{name: quote(model._meta.db_table) for name, model in tables.items()})
        )
        return query.registered()

    def registered(self) -> CompiledQuery:
        """This statement, listed for the test that prepares every one (every_compiled_query)."""
        _every_query[self.statement] = self
        return self

    def unprepared(self) -> CompiledQuery:
        """The same statement, sent whole every time (see `prepared`)."""
        return CompiledQuery(self.sql, prepared=False, label=self.label)

    def rows(self, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with statement_cursor() as cursor:
            self._run(cursor, params)
            return cursor.fetchall()

    def row(self, params: Sequence[Any] = ()) -> tuple[Any, ...] | None:
        with statement_cursor() as cursor:
            self._run(cursor, params)
            return cursor.fetchone()

    def execute(self, params: Sequence[Any] = ()) -> int:
        """For a write: the number of rows it touched."""
        with statement_cursor() as cursor:
            self._run(cursor, params)
            return cursor.rowcount

    def _run(self, cursor: Any, params: Sequence[Any]) -> None:
        text, values = self._bound(cursor, params)
        try:
            cursor.execute(text, values)
        except NotSupportedError as error:
            if not (text == self.execute_sql and _stale_plans(cursor, [self], error)):
                raise
            if cursor.db.in_atomic_block:
                raise  # the transaction is aborted; the next call prepares it anew
            cursor.execute(*self._bound(cursor, params))

    def _bound(self, cursor: Any, params: Sequence[Any]) -> tuple[str, list[Any]]:
        """The text to send for this call and its values: EXECUTE of the prepared statement
        (preparing it first on a session that has not), else the statement whole."""
        if cursor.db.vendor == "sqlite":
            return self.sql, [_sqlite_number(value) for value in adapted(params)]
        if not (self.prepared and cursor.db.vendor == "postgresql" and PREPARES.enabled):
            return self.sql, adapted(params)
        # On the session's own connection (making the cursor opened it), not as one of the
        # request's queries: PostgreSQL keeps the statement for the session, whatever the
        # transaction around it does. Errors come out as Django's, as a cursor's would.
        session = cursor.db.connection
        prepared = PREPARES.on(session)
        now = time.monotonic()
        prepared_at = prepared.get(self.statement)
        if prepared_at is None or PREPARES.plan_is_old(prepared_at, now):
            with cursor.db.wrap_database_errors:
                if prepared_at is not None or PREPARES.discard_stale(session, self.statement):
                    try:
                        session.execute(f"DEALLOCATE {self.statement}")
                    except InvalidSqlStatementName:
                        prepared.pop(self.statement, None)  # gone already: PREPARE next time
                        raise
                    # Not prepared any more: a PREPARE that fails now is simply made again
                    # next time, instead of a DEALLOCATE of nothing at every call.
                    prepared.pop(self.statement, None)
                session.execute(self.prepare_sql)
                if self.statement not in PREPARES.integer_bounds:
                    PREPARES.learn_types(session, self.statement)
            prepared[self.statement] = now
        values = adapted(params)
        if PREPARES.fits(self.statement, values):
            return self.execute_sql, values
        # A whole number beyond what PostgreSQL typed its parameter (a player id past BIGINT,
        # say): sent whole, it is compared as the number it is and simply matches nothing, as
        # before statements were prepared, rather than failing the request.
        return self.sql, values


Statement = tuple[CompiledQuery, Sequence[Any]]
_SQLITE_INTEGERS = range(-(2**63), 2**63)


def _sqlite_number(value: Any) -> Any:
    """A whole number beyond SQLite's 64-bit INTEGER as the REAL SQLite itself reads such a
    literal as: compared as the number it is, it matches no stored id, where the driver refused
    to bind it (OverflowError, a 500)."""
    if type(value) is int and value not in _SQLITE_INTEGERS:
        return float(value)
    return value


def run_together(statements: Sequence[Statement]) -> list[list[tuple[Any, ...]]]:
    """Run compiled statements in order and answer each one's rows (empty for a statement that
    returns none): statements that need no answer from each other, such as the writes of one
    change or the reads of one answer.

    On PostgreSQL, through a cursor that binds values on the client (Django's default), they
    travel as one message and are answered in one round trip, psycopg keeping each statement's
    result (`nextset`); elsewhere, or with server-side binding, one after another. Either way
    they run in order, an error stops at its statement and raises as `execute` would, and the
    caller's transaction decides what stays (call writes inside one: alone, PostgreSQL runs one
    message as a transaction of its own, other databases each statement)."""
    results: list[list[tuple[Any, ...]]] = []
    if not statements:
        return results
    with statement_cursor() as cursor:
        if cursor.db.vendor != "postgresql" or not isinstance(cursor.cursor, ClientCursor):
            for query, params in statements:
                query._run(cursor, params)
                results.append(cursor.fetchall() if cursor.description else [])
            return results
        texts: list[str] = []
        values: list[Any] = []
        for query, params in statements:
            text, its_values = query._bound(cursor, params)
            texts.append(text)
            values.extend(its_values)
        try:
            cursor.execute(";\n".join(texts), values)
        except NotSupportedError as error:
            _stale_plans(cursor, [query for query, _params in statements], error)
            raise
        for index in range(len(statements)):
            if index:
                cursor.nextset()
            # Whether the statement answers rows, from libpq's result: psycopg builds
            # `description` anew, one Column object per column, on every read of it.
            result = cursor.cursor.pgresult
            results.append(cursor.fetchall() if result is not None and result.nfields else [])
    return results


class _HeldCursor(threading.local):
    """This thread's cursor for compiled statements, and the database session it belongs to."""

    session: Any = None
    cursor: Any = None


_held = _HeldCursor()


@contextmanager
def statement_cursor() -> Iterator[Any]:
    """The cursor compiled statements run through: one Django cursor per database session and
    thread, kept for every statement after the first, instead of a new cursor (and Django's
    wrapper around it) for each. Each execute still goes through Django's wrapper: execute
    wrappers, the broken-transaction check, Django's errors. Making them again was about a
    quarter of a one-row read's client CPU (103 against 77 us), paid by every statement of every
    request.

    While queries are being recorded (DEBUG, a test counting them) each statement gets a new
    cursor, as `connection.cursor()` gives it, so that it is recorded; so does each on SQLite
    (`make run`), whose cursors cannot say whether they were closed. A new session (after a
    close, a failed health check, CONN_MAX_AGE) gets a new cursor."""
    db = connections[DEFAULT_DB_ALIAS]
    if db.queries_logged or db.vendor != "postgresql":
        with db.cursor() as cursor:
            yield cursor
        return
    # What `connection.cursor()` does before making one: a failed health check
    # (CONN_HEALTH_CHECKS) closes the session, a closed one is opened.
    db.close_if_health_check_failed()
    db.ensure_connection()
    held = _held
    if held.session is not db.connection or held.cursor.cursor.closed:
        held.cursor = db.cursor()
        held.session = db.connection
    yield held.cursor


_PLACEHOLDER = re.compile(r"%%|%s")
_every_query: dict[str, CompiledQuery] = {}


STALE_PLAN = "cached plan must not change result type"


def _stale_plans(cursor: Any, queries: Sequence[CompiledQuery], error: Exception) -> bool:
    """After a migration changed a column a prepared statement returns (a type widened), each
    EXECUTE of it fails with STALE_PLAN until the session ends. Those statements are forgotten
    for this session and prepared again at their next call (DEALLOCATE first): one failure,
    not a minute of them. True when that was the error."""
    if STALE_PLAN not in str(error) or cursor.db.vendor != "postgresql":
        return False
    session = cursor.db.connection
    for query in queries:
        PREPARES.forget(session, query.statement)
    return True


class _Prepares:
    """Which statements each PostgreSQL session has prepared, and when: a new connection
    (after a restart, CONN_MAX_AGE, an error) is a new session that has none.

    A statement is prepared again once its plan is `plan_seconds` old. PostgreSQL plans a
    prepared statement for the tables as they are then, and keeps that plan until the session
    ends or an ANALYZE: a plan made while a table was small (a new game's first logins, a seeded
    demo) scans the whole table once it is large. Seen in the bench: a login's identity lookup
    kept scanning every identity of the game through the `game_id` index (1.7 ms at 20,000
    identities, 0.004 ms through the unique index a plan made then picks)."""

    def __init__(self) -> None:
        self._by_session: weakref.WeakKeyDictionary[Any, dict[str, float]] = (
            weakref.WeakKeyDictionary()
        )
        # Statements the session still holds but must prepare anew (their plan went stale).
        self._stale: weakref.WeakKeyDictionary[Any, set[str]] = weakref.WeakKeyDictionary()
        self._lock = threading.Lock()

        # statement -> per parameter, the range of the integer type PostgreSQL gave it (None
        # for any other type); the same in every session, as PostgreSQL infers it from the text
        self.integer_bounds: dict[str, tuple[tuple[int, int] | None, ...]] = {}

    @property
    def enabled(self) -> bool:
        return bool(settings.DATABASE_PREPARED_STATEMENTS)

    def plan_is_old(self, prepared_at: float, now: float) -> bool:
        """Whether a statement prepared at `prepared_at` is planned again now (0: never, its
        plan lives as long as its connection)."""
        seconds = settings.DATABASE_PREPARED_PLAN_SECONDS
        return bool(seconds) and now - prepared_at >= seconds

    def on(self, session: Any) -> dict[str, float]:
        """The session's prepared statements: name -> when (time.monotonic) it was prepared."""
        with self._lock:
            return self._by_session.setdefault(session, {})

    def forget(self, session: Any, statement: str) -> None:
        with self._lock:
            if self._by_session.get(session, {}).pop(statement, None) is not None:
                self._stale.setdefault(session, set()).add(statement)

    def discard_stale(self, session: Any, statement: str) -> bool:
        """Whether the session still holds this statement from before (DEALLOCATE it first)."""
        with self._lock:
            stale = self._stale.get(session, set())
            if statement in stale:
                stale.discard(statement)
                return True
            return False

    def learn_types(self, session: Any, statement: str) -> None:
        found = session.execute(
            "SELECT parameter_types::text[] FROM pg_prepared_statements WHERE name = %s",
            [statement],
        ).fetchone()
        types = found[0] if found else []
        self.integer_bounds[statement] = tuple(_INTEGER_RANGES.get(name) for name in types)

    def fits(self, statement: str, values: Sequence[Any]) -> bool:
        """Whether every whole number is within its parameter's integer type."""
        for bounds, value in zip(self.integer_bounds.get(statement, ()), values, strict=False):
            if bounds is not None and type(value) is int and not bounds[0] <= value <= bounds[1]:
                return False
        return True


_INTEGER_RANGES = {
    "smallint": (-(2**15), 2**15 - 1),
    "integer": (-(2**31), 2**31 - 1),
    "bigint": (-(2**63), 2**63 - 1),
}


PREPARES = _Prepares()


def every_compiled_query() -> list[CompiledQuery]:
    """Tests: each `compile`d so far (modules compile theirs when imported)."""
    return list(_every_query.values())


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
    # Per model, decided once: its fields' attnames, and which columns need loading (by position
    # in the model's part of the row) with what. Most columns are handed over as they come.
    attnames: tuple[tuple[str, ...], ...] = field(init=False)
    loaders: tuple[tuple[tuple[int, Loader], ...], ...] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(
            self, "attnames", tuple(tuple(f.attname for f in fields) for fields in self.fields)
        )
        object.__setattr__(
            self,
            "loaders",
            tuple(
                tuple(
                    (index, loader)
                    for index, its_field in enumerate(fields)
                    if (loader := _loader(its_field)) is not None
                )
                for fields in self.fields
            ),
        )

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
        for model, attnames, loaders in zip(self.models, self.attnames, self.loaders, strict=True):
            end = start + len(attnames)
            values = list(row[start:end])
            for index, load in loaders:
                if (value := values[index]) is not None:
                    values[index] = load(value, db)
            loaded.append(model.from_db(db.alias, attnames, values))
            start = end
        return (*loaded, *row[start : start + self.extra])


# For these kinds of field a raw row holds what the field holds, but for the cases _loader
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

Loader = Callable[[Any, Any], Any]


def _loader(its_field: Field) -> Loader | None:
    """How a column of this field becomes what the field holds (never called with None), or
    None when the value comes as it is."""
    if isinstance(its_field, models.DateTimeField):
        return _aware_loaded  # SQLite keeps them naive, in UTC
    if isinstance(its_field, models.BooleanField):
        return _bool_loaded  # SQLite keeps 0 and 1
    if hasattr(its_field, "from_db_value"):  # JSON (a string from either database), custom fields
        from_db_value = its_field.from_db_value
        return lambda value, db: from_db_value(value, None, db)
    return None


def _aware_loaded(value: datetime, db: Any) -> datetime:
    return aware(value)


def _bool_loaded(value: Any, db: Any) -> bool:
    return bool(value)


@dataclass(frozen=True)
class CompiledInsert:
    """One model's INSERT of every column (the auto primary key comes back), compiled once:
    `insert` stores an unsaved instance as `save()` would (the fields' own `pre_save`, such as
    `auto_now_add`, and their database preparation), without building the statement again.
    A model with a `pre_save` or `post_save` receiver is stored by `save()` instead, so its
    receivers still run."""

    sql: str
    fields: tuple[Field, ...]
    table: str
    query: CompiledQuery = field(init=False)

    def __post_init__(self) -> None:
        # Prepared like any compiled statement: parsing and analysing the INSERT was a good
        # share of PostgreSQL's time for a purchase or a save, on every call.
        query = CompiledQuery(self.sql, label=f"insert_{self.table}").registered()
        object.__setattr__(self, "query", query)

    @classmethod
    def compile(cls, model: type[Model]) -> CompiledInsert:
        meta = model._meta
        fields = tuple(field for field in meta.concrete_fields if field is not meta.auto_field)
        quote = connection.ops.quote_name
        table, columns = quote(meta.db_table), ", ".join(quote(field.column) for field in fields)
        values, returned = ", ".join(["%s"] * len(fields)), quote(meta.pk.column)
        # Only the model's own names are interpolated; every value is a parameter.
        sql = f"INSERT INTO {table} ({columns}) VALUES ({values}) RETURNING {returned}"  # noqa: S608
        return cls(sql, fields, meta.db_table)

    def insert(self, instance: Model) -> None:
        model = type(instance)
        if pre_save.has_listeners(model) or post_save.has_listeners(model):
            instance.save(force_insert=True)
            return
        db = connections[DEFAULT_DB_ALIAS]  # this thread's connection, looked up once
        inserted = self.query.row(self._values(instance, db))
        assert inserted is not None  # RETURNING answers the new row's key
        instance.pk = inserted[0]
        self._stored(instance, db)

    def insert_statement(self, instance: Model) -> Statement:
        """The insert of `instance` as one of `run_together`'s statements, for a row nothing
        reads back (its primary key is not set on the instance). Not for a model with save
        receivers, which `insert` leaves to `save()`."""
        model = type(instance)
        if pre_save.has_listeners(model) or post_save.has_listeners(model):
            raise TypeError(f"{model.__name__} has save receivers: insert it with insert()")
        db = connections[DEFAULT_DB_ALIAS]
        values = self._values(instance, db)
        self._stored(instance, db)
        return self.query, values

    def _values(self, instance: Model, db: Any) -> list[Any]:
        return [field.get_db_prep_save(field.pre_save(instance, True), db) for field in self.fields]

    @staticmethod
    def _stored(instance: Model, db: Any) -> None:
        # As `save()` leaves it (Django documents both flags on `Model._state`).
        instance._state.adding = False
        instance._state.db = db.alias
