"""A test of a data migration: the database at the migration before it, with that state's models."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.apps.registry import Apps
from django.db import connection
from django.db.migrations.executor import MigrationExecutor


@contextmanager
def migrated_back_to(target: tuple[str, str]) -> Iterator[Apps]:
    """The database migrated back to `target` (app, migration name), and the models as they were
    then; the whole project is migrated forward again afterwards. Needs a transactional test."""
    executor = MigrationExecutor(connection)
    executor.migrate([target])
    try:
        yield executor.loader.project_state([target]).apps
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())


def migrate_to(target: tuple[str, str]) -> None:
    MigrationExecutor(connection).migrate([target])
