"""A player's personal data across apps: the registry each app fills in, and the export.

accounts sits below every app that stores something about a player, so it names none of them:
each registers a section in its AppConfig.ready() (docs/architecture.md) with
`register_privacy_section(name, export=..., erase=...)`. `export(player)` answers what the app
stores about the player as JSON-ready values (datetimes are fine: the caller's JSON encoder
writes them); `erase(player)` removes or clears what is personal, called inside the erasure's
transaction with the player's row locked (apps.accounts.services.privacy). An app whose rows
stay (the ledger, match results: pseudonymous under the tombstone) registers no `erase`.
docs/guide/privacy.md says what each section holds and what erasure does with it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connection, transaction
from django.db.models import QuerySet
from django.utils import timezone

from apps.accounts.models import AuthSession, Player
from apps.accounts.ratelimit import HOUR, Budget, spend

Export = Callable[[Player], Any]
Erase = Callable[[Player], None]
Lock = Callable[[Player], None]

# The text DELETE player takes in its `confirm` query parameter, exactly: a stray call erases
# nothing.
ERASE_CONFIRMATION = "delete my account"


@dataclass(frozen=True)
class PrivacySection:
    name: str
    export: Export
    erase: Erase | None = None
    lock: Lock | None = None
    # Its erase takes locks other players' writes wait on (a leaderboard period's): it runs
    # after every other section's, so they are held from then to the commit only.
    erase_last: bool = False


_sections: dict[str, PrivacySection] = {}


def register_privacy_section(
    name: str,
    *,
    export: Export,
    erase: Erase | None = None,
    lock: Lock | None = None,
    erase_last: bool = False,
) -> None:
    """Called by an app's AppConfig.ready(); one name per app. Registering the same callables
    again (a second ready() in tests) changes nothing."""
    section = PrivacySection(
        name=name, export=export, erase=erase, lock=lock, erase_last=erase_last
    )
    if name in RESERVED or _sections.get(name, section) != section:
        raise ImproperlyConfigured(f"The privacy section {name!r} is already registered.")
    _sections[name] = section


def privacy_sections() -> list[PrivacySection]:
    """In registration order (the apps' order in INSTALLED_APPS)."""
    return list(_sections.values())


def erasure_order() -> list[PrivacySection]:
    """The sections in the order an erasure clears them: registration order, those marked
    `erase_last` after the rest."""
    return sorted(_sections.values(), key=lambda section: section.erase_last)


# The sections accounts writes itself.
RESERVED = frozenset({"exported_at", "profile", "identities", "sessions"})


def export_player_data(player: Player) -> dict[str, Any]:
    """Everything stored about the player, one section per app, as GET player/data-export
    answers it and the panel downloads it: every section read in one transaction, from one
    snapshot on PostgreSQL (one_snapshot), so a purchase committing meanwhile is in every
    section or in none. The player's row is read again in it (`player` may come from a cache)."""
    with one_snapshot():
        player = Player.objects.get(pk=player.pk)
        data: dict[str, Any] = {
            "exported_at": timezone.now(),
            "profile": {
                "player_id": player.pk,
                "game_id": player.game_id,
                "display_name": player.display_name,
                "created_at": player.created_at,
                "last_login_at": player.last_login_at,
                "banned_until": player.banned_until,
                "ban_reason": player.ban_reason,
                "erased_at": player.erased_at,
            },
            "identities": rows(
                player.identities.order_by("platform", "created_at"),
                "platform",
                "platform_user_id",
                "last_login_at",
                linked_at="created_at",
            ),
            # Never a token, its hash or the grace token: a session's history only.
            "sessions": rows(
                AuthSession.objects.filter(player=player).order_by("created_at", "id"),
                "platform",
                "platform_user_id",
                "last_refreshed_at",
                "expires_at",
                "revoked_at",
                "revoke_reason",
                opened_at="created_at",
            ),
        }
        for section in privacy_sections():
            data[section.name] = section.export(player)
    return data


@contextmanager
def one_snapshot() -> Iterator[None]:
    """A transaction whose reads all see the database as of its first one. On PostgreSQL,
    REPEATABLE READ (and READ ONLY: an export writes nothing); SQLite's transactions are
    serializable already. SET TRANSACTION must be a transaction's first statement, so inside a
    caller's transaction (an atomic block around the call) the reads are that transaction's,
    as it is (they see its writes), and no snapshot of their own."""
    starts_transaction = not connection.in_atomic_block and connection.get_autocommit()
    with transaction.atomic():
        if starts_transaction and connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        yield


def spend_export_budget(*, player_id: int) -> Budget | None:
    """One of the player's DATA_EXPORTS_PER_HOUR (the API's rate-limit counter; None when not
    counted: rate limiting off, or the cache unreachable). An export reads every row the player
    has: a client looping on it must not cost the database more than a few full reads an hour."""
    return spend(
        group="api:data-export",
        value=str(player_id),
        limit=settings.DATA_EXPORTS_PER_HOUR,
        period_seconds=HOUR,
    )


def rows(queryset: QuerySet[Any], *fields: str, **renamed: str) -> list[dict[str, Any]]:
    """The queryset's rows as dictionaries of `fields` and of `renamed` (output name: lookup
    path, e.g. currency="currency__code"), for an app's export: a related value under the name
    of a field of the model, which values() cannot annotate."""
    paths = [*fields, *renamed.values()]
    names = [*fields, *renamed]
    return [dict(zip(names, row, strict=True)) for row in queryset.values_list(*paths)]
