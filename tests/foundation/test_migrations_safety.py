"""Migrations run on a studio's live data while the previous release still serves: Compose's
`migrate` runs before the web and worker containers are replaced, and a rolling deploy runs old
and new processes side by side for minutes. This walks every migration of the project's apps, in
the order `migrate` applies them, and refuses an operation that holds a big table for a time that
grows with its rows, or that breaks the previous release's code, unless KNOWN lists it with the
reason it stays. docs/operations.md ("Upgrading on live data") says what to write instead.

What each rule measured (PostgreSQL 15, ~1M rows, docs/operations.md has the table):
- `index`: CREATE INDEX (AddIndex, a unique AddConstraint, a field with db_index or unique or a
  foreign key) holds the table's writes while it builds, all of it inside an atomic migration's
  ALTER TABLE lock.
- `scan`: a CHECK (a check AddConstraint, a Positive*Field added) is checked against every row
  holding the table's reads and writes.
- `type`: changing a column's type rewrites the table (int -> bigint) or at least holds it, and
  makes the running processes' prepared statements fail once.
- `not_null`: SET NOT NULL scans the table holding it, and the previous release may write NULL.
- `no_db_default`: a NOT NULL column without a database default fails every INSERT of the
  previous release, which does not name the column (Django's `default` is Python-side only).
- `drop`: a column or table removed or renamed is still read and written by the previous release.
- `data_under_lock`: a data migration (RunPython, RunSQL) in an atomic migration that also
  alters a big table runs while the ALTER's ACCESS EXCLUSIVE lock is held: reads and writes of
  the table wait for the whole backfill.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache
from importlib import import_module

import pytest
from django.apps import apps
from django.contrib.postgres.operations import AddConstraintNotValid, AddIndexConcurrently
from django.db import connection, migrations, models
from django.db.backends.postgresql.base import DatabaseWrapper as PostgreSQL
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.operations.base import Operation
from django.db.migrations.state import ModelState, ProjectState
from django.db.models.fields import NOT_PROVIDED
from django.utils import timezone

from apps.accounts.models import AuthSession, Game, Player
from apps.analytics.models import DirtyDay, OfferDay
from apps.cloudsave.models import Document, SaveUsage
from apps.multiplayer.models import Match, MatchResult
from gamingpanel.migration_operations import AddIndexConcurrentlyOnPostgres

OUR_APPS = frozenset(
    config.label for config in apps.get_app_configs() if config.name.startswith("apps.")
)

# Tables that grow with players, matches, purchases or time: an operation that reads every row
# under a lock is an outage there. Every model of the project is in one of the two sets.
BIG_TABLES = frozenset(
    {
        "accounts.player",
        "accounts.platformidentity",
        "accounts.authsession",
        "accounts.sessionrefreshtoken",
        "analytics.rawevent",
        "analytics.playerday",
        "analytics.offerday",
        "analytics.economyday",
        "analytics.clienteventday",
        "audit.auditlogentry",
        "battlepass.seasonpass",
        "battlepass.tierclaim",
        "cloudsave.document",
        "cloudsave.documentversion",
        "cloudsave.saveusage",
        "cloudsave.savereceipt",
        "events.eventrewardclaim",
        "inventory.wallet",
        "inventory.playeritem",
        "inventory.ledgerentry",
        "leaderboards.entry",
        "leaderboards.submission",
        "leaderboards.payout",
        "multiplayer.match",
        "multiplayer.matchresult",
        "panel.segmentmember",
        "payments.payment",
        "payments.providerevent",
        "payments.sandboxcallback",
        "shop.purchase",
        "shop.offerpurchasecount",
        "stats.playerstat",
        "stats.playerprogress",
    }
)
# Tables an operator fills by hand, one row per game or per day, or capped.
SMALL_TABLES = frozenset(
    {
        "accounts.game",
        "accounts.serverkey",
        "accounts.gameaccess",
        "analytics.dirtyday",
        "analytics.recentrun",
        "analytics.dailymetrics",
        "analytics.retentioncell",
        "analytics.revenueday",
        "analytics.eventname",
        "battlepass.season",
        "battlepass.tier",
        "cloudsave.savesettings",
        "cloudsave.savekey",
        "events.event",
        "events.eventreward",
        "inventory.currency",
        "inventory.itemdefinition",
        "leaderboards.board",
        "leaderboards.period",
        "leaderboards.bracketreward",
        "leaderboards.rankindexdrop",
        "multiplayer.xprule",
        "multiplayer.matchsettings",
        "multiplayer.registeredserver",
        "panel.segmentaction",
        "panel.operatorkey",
        "payments.provideraccount",
        "platforms.platformcredential",
        "remoteconfig.configkey",
        "remoteconfig.configoverride",
        "remoteconfig.configrelease",
        "shop.category",
        "shop.offer",
        "stats.statdefinition",
        "stats.levelcurve",
    }
)

# Findings that stay, by migration and rule, with why. The release before the rule (2026-11-26)
# had applied the first group everywhere. The tables of the second group came in the same
# release as the finding (cloudsave 0001, leaderboards 0001, panel 0001): a deployment upgrading
# from the November release has no rows in them, and no code of its own writing them.
NOVEMBER = "in the November release: every deployment that upgrades has applied it"
EMPTY = "table new in this release: empty when upgrading from the November release"
KNOWN: dict[str, dict[str, str]] = {
    "analytics.0002_daily_aggregates": {"index": NOVEMBER},
    "inventory.0002_ledgerentry_operation_key_and_more": {
        "no_db_default": NOVEMBER,
        "index": NOVEMBER,
    },
    "payments.0003_store_transaction_once": {"index": NOVEMBER},
    "stats.0002_progress_level_from_curve": {"drop": NOVEMBER},
    "cloudsave.0004_save_documents_limit": {"no_db_default": EMPTY, "scan": EMPTY},
    "cloudsave.0005_pruned_tombstones": {"scan": EMPTY + " (0.4 s at 1M players otherwise)"},
    "leaderboards.0002_submission_ids_per_submitter": {"index": EMPTY + " (2.4 s at 1M)"},
    "leaderboards.0003_submission_id_fits_match_ids": {
        # A wider varchar rewrites no row, but PostgreSQL rebuilds the partial indexes over it.
        "type": EMPTY + " (1.5 s at 1M)"
    },
    "leaderboards.0004_payout_attempts": {"no_db_default": EMPTY, "index": EMPTY, "scan": EMPTY},
    "panel.0002_segment_members": {"no_db_default": EMPTY},
    "panel.0003_segment_action_failure": {"no_db_default": EMPTY},
    "panel.0004_segment_member_bans": {"no_db_default": EMPTY},
    "panel.0006_segment_auto_resume": {"no_db_default": EMPTY},
    # A game or an event is created by an operator, rarely: an admin page still on the previous
    # release fails to create one for the minutes of the deploy.
    "accounts.0003_game_cors_allowed_origins": {"no_db_default": "accounts.game, by operators"},
    "accounts.0004_game_require_operator_otp": {"no_db_default": "accounts.game, by operators"},
    "events.0002_repeating_events": {"no_db_default": "events.event, by operators"},
    "events.0003_occurrences_active_protect_claims": {
        "no_db_default": "events.event, by operators"
    },
    # payments and shop: reported to their owner (docs/operations.md has what each does).
    "payments.0004_sweeper_and_public_tokens": {
        "no_db_default": "payments: reported",
        "index": "payments: reported",
        "scan": "payments: reported",
        "data_under_lock": "payments: reported (39 s at 1M payments, in batches; was 19 min)",
    },
    "payments.0005_payment_needs_attention": {"no_db_default": "payments: reported"},
    "payments.0006_unmatched_reversals": {
        "no_db_default": "payments: reported",
        "index": "payments: reported",
    },
    "payments.0007_store_finish_owed": {"index": "payments: reported"},
    # A wider varchar rewrites no row; PostgreSQL rebuilds the two partial unique indexes over
    # it while it holds the table (5.9 s at 1M payments, on 2 busy cores): docs/operations.md.
    "payments.0012_payment_external_id_255": {"type": "payments: 5.9 s at 1M, documented"},
    # A wider varchar rewrites no row, and the unique index over it is no partial one: kept as
    # it is (2 to 5 ms at 1M events): docs/operations.md.
    "payments.0013_provider_event_id_255": {"type": "payments: 5 ms at 1M, documented"},
    "shop.0004_purchase_bought_and_reserved": {
        "no_db_default": "shop: reported",
        "scan": "shop: reported",
        "data_under_lock": "shop: reported (23 s at 1M purchases, in batches; was 19 min)",
    },
}


@dataclass(frozen=True)
class Finding:
    migration: str
    rule: str
    detail: str

    def __str__(self) -> str:
        return f"{self.migration}: [{self.rule}] {self.detail}"


def has_check(field: models.Field) -> bool:
    """A CHECK that PostgreSQL adds with the column (Positive*Field)."""
    return field.get_internal_type() in PostgreSQL.data_type_check_constraints


def alters_table(old: models.Field, new: models.Field) -> bool:
    """Whether changing `old` into `new` sends SQL (not only choices, on_delete, help texts)."""

    def in_database(field: models.Field) -> dict[str, object]:
        kwargs = field.deconstruct()[3]
        return {key: value for key, value in kwargs.items() if key not in field.non_db_attrs}

    return type(old) is not type(new) or in_database(old) != in_database(new)


def builds_index(field: models.Field) -> bool:
    return bool(field.db_index or field.unique or field.is_relation)


def takes_table_lock(operation: Operation, model: ModelState) -> bool:
    """Whether `operation` locks its table until the migration's transaction ends."""
    if isinstance(operation, AddIndexConcurrently | AddConstraintNotValid):
        return False
    if isinstance(operation, migrations.AlterField):
        return alters_table(model.fields[operation.name], operation.field)
    return not isinstance(operation, migrations.AlterModelOptions | migrations.AlterModelManagers)


def operation_findings(migration: migrations.Migration, state: ProjectState) -> Iterator[Finding]:
    """Each rule `migration` breaks, its operations applied to `state` as they are checked."""
    app_label, name = migration.app_label, f"{migration.app_label}.{migration.name}"
    # An initial migration (several when an app's tables refer to each other) makes its app's
    # tables: it runs when the app is installed, on no rows.
    created: set[str] = (
        {f"{app_label}.{model}" for (label, model) in state.models if label == app_label}
        if migration.initial
        else set()
    )
    big_altered: list[str] = []
    data_operations = 0

    def check(operation: Operation, state: ProjectState) -> Iterator[tuple[str, str]]:
        nonlocal data_operations
        if isinstance(operation, migrations.SeparateDatabaseAndState):
            on_database = state.clone()
            for inner in operation.database_operations:
                yield from check(inner, on_database)
                inner.state_forwards(app_label, on_database)
            return
        if isinstance(operation, migrations.RunPython | migrations.RunSQL):
            data_operations += 1
            return
        model = getattr(operation, "model_name_lower", None) or getattr(
            operation, "name_lower", None
        )
        label = f"{app_label}.{model}"
        if isinstance(operation, migrations.CreateModel):
            created.add(label)
            return
        if model is None or label in created:
            return
        big = label in BIG_TABLES
        if big and takes_table_lock(operation, state.models[app_label, model]):
            big_altered.append(label)
        if isinstance(operation, migrations.AddIndex):
            if big and not isinstance(operation, AddIndexConcurrently):
                yield "index", f"AddIndex {operation.index.name} on {label} (not concurrent)"
        elif isinstance(operation, migrations.AddConstraint):
            if big and isinstance(operation.constraint, models.CheckConstraint):
                if not isinstance(operation, AddConstraintNotValid):
                    yield "scan", f"AddConstraint {operation.constraint.name} on {label}"
            elif big:
                yield "index", f"AddConstraint {operation.constraint.name} on {label}"
        elif isinstance(operation, migrations.AlterUniqueTogether | migrations.AlterIndexTogether):
            if big and operation.option_value:
                yield "index", f"{type(operation).__name__} on {label}"
        elif isinstance(operation, migrations.AddField):
            field = operation.field
            if field.many_to_many:
                return
            if not field.null and field.db_default is NOT_PROVIDED:
                yield "no_db_default", f"AddField {label}.{operation.name}: NOT NULL, no db_default"
            if big and builds_index(field):
                yield "index", f"AddField {label}.{operation.name} builds an index or a foreign key"
            if big and has_check(field):
                yield "scan", f"AddField {label}.{operation.name} adds a CHECK"
        elif isinstance(operation, migrations.AlterField):
            old = state.models[app_label, model].fields[operation.name]
            new = operation.field
            relation = old.is_relation or new.is_relation
            if not relation and old.db_type(connection) != new.db_type(connection):
                yield (
                    "type",
                    (
                        f"AlterField {label}.{operation.name}: "
                        f"{old.db_type(connection)} -> {new.db_type(connection)}"
                    ),
                )
            if old.null and not new.null:
                yield "not_null", f"AlterField {label}.{operation.name}: NULL -> NOT NULL"
            if big and (new.db_index and not old.db_index or new.unique and not old.unique):
                yield "index", f"AlterField {label}.{operation.name} builds an index"
        elif isinstance(
            operation,
            migrations.RemoveField
            | migrations.RenameField
            | migrations.DeleteModel
            | migrations.RenameModel
            | migrations.AlterModelTable,
        ):
            yield "drop", f"{type(operation).__name__} on {label}"

    for operation in migration.operations:
        for rule, detail in check(operation, state):
            yield Finding(name, rule, detail)
        operation.state_forwards(app_label, state)
    if migration.atomic and data_operations and big_altered:
        tables = ", ".join(sorted(set(big_altered)))
        yield Finding(
            name, "data_under_lock", f"RunPython/RunSQL in the transaction that alters {tables}"
        )


def migrate_plan(loader: MigrationLoader) -> Iterator[migrations.Migration]:
    """Every migration in the order `migrate` applies them to an empty database."""
    seen: set[tuple[str, str]] = set()
    for leaf in loader.graph.leaf_nodes():
        for node in loader.graph.forwards_plan(leaf):
            if node not in seen:
                seen.add(node)
                yield loader.graph.nodes[node]


def all_findings() -> list[Finding]:
    loader = MigrationLoader(None, ignore_no_migrations=True)
    state = ProjectState(real_apps=loader.unmigrated_apps)
    found: list[Finding] = []
    for migration in migrate_plan(loader):
        if migration.app_label in OUR_APPS:
            found += operation_findings(migration, state)
        else:
            state = migration.mutate_state(state, preserve=False)
    return found


def excused(finding: Finding) -> bool:
    return finding.rule in KNOWN.get(finding.migration, {})


def test_no_migration_holds_a_big_table_or_breaks_the_previous_release() -> None:
    refused = [str(finding) for finding in all_findings() if not excused(finding)]

    assert refused == [], "\n".join(["Unsafe on live data (docs/operations.md):", *refused])


def test_every_known_finding_is_still_there() -> None:
    found = {(finding.migration, finding.rule) for finding in all_findings()}
    listed = {(migration, rule) for migration, rules in KNOWN.items() for rule in rules}

    assert sorted(listed - found) == []


def test_every_model_is_sized() -> None:
    models_here = {
        model._meta.label_lower for model in apps.get_models() if model._meta.app_label in OUR_APPS
    }

    assert sorted(models_here - BIG_TABLES - SMALL_TABLES) == []
    assert sorted((BIG_TABLES | SMALL_TABLES) - models_here) == []
    assert not BIG_TABLES & SMALL_TABLES


def new_migration(operations: Iterable[Operation], *, atomic: bool = True) -> migrations.Migration:
    migration = migrations.Migration("9999_new", "accounts")
    migration.operations = list(operations)
    migration.atomic = atomic
    return migration


@cache
def final_state() -> ProjectState:
    return MigrationLoader(None, ignore_no_migrations=True).project_state()


def rules_of(operations: Iterable[Operation], *, atomic: bool = True) -> list[str]:
    migration = new_migration(operations, atomic=atomic)
    return sorted(finding.rule for finding in operation_findings(migration, final_state().clone()))


INDEX = models.Index(fields=["game", "created_at"], name="player_game_created")


@pytest.mark.parametrize(
    ("operations", "atomic", "rules"),
    [
        ([migrations.AddIndex("player", INDEX)], True, ["index"]),
        ([AddIndexConcurrentlyOnPostgres("player", INDEX)], False, []),
        ([migrations.AddIndex("game", INDEX)], True, []),  # a small table
        (
            [
                migrations.AddConstraint(
                    "player",
                    models.UniqueConstraint(
                        fields=["game", "display_name"], name="player_name_once"
                    ),
                )
            ],
            True,
            ["index"],
        ),
        (
            [
                migrations.AddConstraint(
                    "player",
                    models.CheckConstraint(condition=~models.Q(display_name="x"), name="not_x"),
                )
            ],
            True,
            ["scan"],
        ),
        (
            [
                AddConstraintNotValid(
                    "player",
                    models.CheckConstraint(condition=~models.Q(display_name="x"), name="not_x"),
                )
            ],
            True,
            [],
        ),
        (
            [migrations.AlterField("player", "ban_reason", models.TextField(blank=True))],
            True,
            ["type"],
        ),
        (
            [
                migrations.AlterField(
                    "game", "rate_limit_per_hour", models.PositiveBigIntegerField(null=True)
                )
            ],
            True,
            ["type"],
        ),
        (
            [migrations.AlterField("player", "last_login_at", models.DateTimeField())],
            True,
            ["not_null"],
        ),
        (
            [migrations.AddField("game", "note", models.TextField(default=""))],
            True,
            ["no_db_default"],
        ),
        (
            [migrations.AddField("game", "note", models.TextField(default="", db_default=""))],
            True,
            [],
        ),
        ([migrations.AddField("player", "note", models.TextField(null=True))], True, []),
        (
            [
                migrations.AddField(
                    "player", "tries", models.PositiveIntegerField(default=0, db_default=0)
                )
            ],
            True,
            ["scan"],
        ),
        (
            [
                migrations.AddField(
                    "player", "code", models.CharField(max_length=9, null=True, db_index=True)
                )
            ],
            True,
            ["index"],
        ),
        ([migrations.RemoveField("player", "ban_reason")], True, ["drop"]),
        ([migrations.RenameField("player", "ban_reason", "why")], True, ["drop"]),
        (
            [
                migrations.AddField("player", "note", models.TextField(null=True)),
                migrations.RunPython(migrations.RunPython.noop),
            ],
            True,
            ["data_under_lock"],
        ),
        (
            [
                migrations.AddField("player", "note", models.TextField(null=True)),
                migrations.RunPython(migrations.RunPython.noop),
            ],
            False,
            [],
        ),
        (
            [
                migrations.CreateModel("Note", [("id", models.BigAutoField(primary_key=True))]),
                migrations.AddField("note", "text", models.TextField(default="")),
                migrations.AddIndex("note", models.Index(fields=["text"], name="note_text")),
            ],
            True,
            [],
        ),
    ],
)
def test_each_rule_refuses_what_it_names(
    operations: list[Operation], atomic: bool, rules: list[str]
) -> None:
    assert rules_of(operations, atomic=atomic) == rules


# Columns the November release's code does not know, on tables it writes: its INSERTs leave
# them out, and the database default must fill them in while it serves during the upgrade.
NEWER_COLUMNS: dict[type[models.Model], dict[str, object]] = {
    AuthSession: {"platform_user_id": ""},
    Match: {"lines_digest": ""},
    MatchResult: {"ignored_stats": [], "counted": True},
    DirtyDay: {"version": 1},
    OfferDay: {"real_money": False},
}


def insert_as_previous_release(instance: models.Model) -> int:
    """INSERT `instance` naming only the columns the previous release knew; the new row's id."""
    meta, left_out = instance._meta, NEWER_COLUMNS[type(instance)]
    fields = [
        field
        for field in meta.concrete_fields
        if field is not meta.auto_field and field.name not in left_out
    ]
    quote = connection.ops.quote_name
    columns = ", ".join(quote(field.column) for field in fields)
    values = [
        field.get_db_prep_save(field.pre_save(instance, True), connection) for field in fields
    ]
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {quote(meta.db_table)} ({columns}) "  # noqa: S608
            f"VALUES ({', '.join(['%s'] * len(fields))}) RETURNING {quote(meta.pk.column)}",
            values,
        )
        return cursor.fetchone()[0]


@pytest.mark.django_db
def test_the_previous_release_inserts_without_the_new_columns(game: Game, player: Player) -> None:
    now = timezone.now()
    match = Match(game=game, match_id="m1", mode="duel", started_at=now, ended_at=now)
    match.pk = insert_as_previous_release(match)
    rows = [
        AuthSession(game=game, player=player, platform="steam", expires_at=now),
        MatchResult(match=match, player=player, outcome="win", recorded_at=now),
        DirtyDay(game=game, day=date(2025, 1, 1)),
        OfferDay(game=game, day=date(2025, 1, 1), offer_id="7", currency="EUR"),
    ]
    ids = {type(row): insert_as_previous_release(row) for row in rows}
    ids[Match] = match.pk

    stored = {
        model: model.objects.filter(pk=pk).values(*NEWER_COLUMNS[model]).get()
        for model, pk in ids.items()
    }
    assert stored == NEWER_COLUMNS


@pytest.mark.django_db
def test_offer_days_are_marked_real_money_in_every_window_of_ids(game: Game) -> None:
    migration = import_module("apps.analytics.migrations.0005_offer_day_real_money")
    window = migration.WINDOW
    day = date(2025, 1, 1)
    ids = [1, window, window + 1, 2 * window, 2 * window + 1]
    OfferDay.objects.bulk_create(
        OfferDay(pk=pk + shift, game=game, day=day + timedelta(days=n), offer_id="1", currency=code)
        for n, pk in enumerate(ids)
        for shift, code in ((0, "EUR"), (3 * window, "gold"))
    )

    migration.mark_iso_codes(apps, None)

    marked = set(OfferDay.objects.filter(real_money=True).values_list("pk", "currency"))
    assert marked == {(pk, "EUR") for pk in ids}


@pytest.mark.django_db
def test_document_counts_are_written_in_every_window_of_players(game: Game) -> None:
    migration = import_module("apps.cloudsave.migrations.0004_save_documents_limit")
    window = migration.WINDOW
    ids = [1, window, window + 1, 2 * window + 1]
    Player.objects.bulk_create(Player(pk=pk, game=game) for pk in ids)
    SaveUsage.objects.bulk_create(SaveUsage(player_id=pk, bytes=5) for pk in ids[:3])
    Document.objects.bulk_create(
        Document(game=game, player_id=pk, key=key, version=1, size=5, deleted=key == "old")
        for pk in ids
        for key in ("slot", "old")[: 1 + pk % 2]
    )

    migration.count_documents(apps, None)

    usage = SaveUsage.objects.order_by("pk").values_list("pk", "documents", "bytes")
    assert list(usage) == [(1, 2, 5), (window, 1, 5), (window + 1, 2, 5), (2 * window + 1, 2, 5)]
