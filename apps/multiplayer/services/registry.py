"""Game servers register and refresh themselves with heartbeats; stale ones stop being listed,
and long-silent ones are deleted."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from apps.accounts.errors import InvalidServerKey
from apps.accounts.models import Game, ServerKey
from apps.multiplayer.errors import ServerIdTaken, TooManyServers
from apps.multiplayer.models import RegisteredServer
from apps.multiplayer.selectors import fresh_since
from gamingpanel.sql import CompiledQuery, run_together

HEARTBEAT_FIELDS = ["region", "address", "port", "capacity", "players", "mode", "version"]

# A revocation deletes the key's servers as of its statement (deregister_servers_of_key), so a
# beat authenticated before the revocation reached its process (each process's mirror hears of
# it within a moment), or a first beat not yet committed (its row unseen), put a server back on
# the list under the revoked key, where players were sent until it went stale. Now each beat
# holds its key's lock shared until it commits, taken before any other lock, and then reads the
# key's revocation; the revocation's deletion takes it exclusively first. So a revocation either
# waits for the beats under way and then deletes their rows, or is waited for and then refuses
# the beat (401 invalid_server_key). Not a row lock on the key: the last-used stamp of every
# request (an UPDATE of the key's row) would wait for the fleet's beats. Sent together, in one
# round trip: the read, a statement of its own, sees a revocation committed during the wait.
KEY_LOCK_SHARED = CompiledQuery.compile(
    "SELECT pg_advisory_xact_lock_shared(hashtextextended(%s, 0))"
)
KEY_LOCK = CompiledQuery.compile("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))")
KEY_REVOKED_AT = CompiledQuery.compile(
    "SELECT revoked_at FROM {key} WHERE id = %s",  # noqa: S608
    key=ServerKey,
)


@transaction.atomic
def heartbeat(
    *,
    game: Game,
    server_id: str,
    region: str,
    address: str,
    port: int,
    capacity: int,
    players: int,
    mode: str = "",
    version: str = "",
    server_key: ServerKey | None = None,
) -> None:
    """Register or refresh a server. A server id that another live key registered and still
    beats for is refused (409 server_id_taken): a game can give each fleet or hosting partner
    its own key, and one key cannot take over (point players at its own address) or remove
    another's servers. A server that is not live (a new id, or one gone stale) joins the list
    only while the game has fewer than MULTIPLAYER_MAX_LIVE_SERVERS live ones (409
    too_many_servers); a live server's beat always goes through. registered_at is when the
    server joined the list under its key: its first beat, or its first after it went stale or
    passed to another key."""
    if server_key is not None:
        _refuse_a_revoked_key(server_key)
    now = timezone.now()
    fields = {
        "game": game,
        "server_id": server_id,
        "region": region,
        "address": address,
        "port": port,
        "capacity": capacity,
        "players": players,
        "mode": mode,
        "version": version,
        "registered_at": now,
        "last_heartbeat_at": now,
        "server_key": server_key,
    }
    held = _locked_entry(game=game, server_id=server_id)
    joining = held is None or not _settled(held)
    if joining:
        # Joining the list, or about to go stale: before inserting anything, so that a
        # transaction holding this game's lock never waits on a row another one inserted while
        # waiting for the lock. A server still live once the lock is held goes through.
        _take_the_join_lock(game=game)
        joining = held is None or not _fresh(held)
        if joining:
            _refuse_past_the_cap(game=game, server_id=server_id)
    if held is None:
        # A new id: no row to lock, and two keys registering it at once would both find none
        # (the last write winning). Inserting without overwriting makes one of them hold it;
        # the other's insert waits for that commit, then this lock finds the holder's row.
        RegisteredServer.objects.bulk_create([RegisteredServer(**fields)], ignore_conflicts=True)
        held = _locked_entry(game=game, server_id=server_id)
    _refuse_another_keys_live_server(held, server_id=server_id, server_key=server_key)
    key_id = server_key.pk if server_key else None
    taken_over = held is not None and held.server_key_id != key_id
    RegisteredServer.objects.bulk_create(
        [RegisteredServer(**fields)],
        update_conflicts=True,
        unique_fields=["game", "server_id"],
        update_fields=[
            *HEARTBEAT_FIELDS,
            "last_heartbeat_at",
            "server_key",
            *(["registered_at"] if joining or taken_over else []),
        ],
    )


@transaction.atomic
def deregister(*, game: Game, server_id: str, server_key: ServerKey | None = None) -> bool:
    """A server shutting down leaves the list at once instead of after the TTL (409
    server_id_taken when another live key holds it)."""
    held = _locked_entry(game=game, server_id=server_id)
    _refuse_another_keys_live_server(held, server_id=server_id, server_key=server_key)
    deleted, _ = RegisteredServer.objects.filter(game=game, server_id=server_id).delete()
    return bool(deleted)


def deregister_servers_of_key(*, server_key_id: int) -> int:
    """A revoked key's servers leave the list at once, as if each had deregistered: with the
    key revoked they can neither validate a player's token nor post a match result, so players
    must not be sent to them, and their places under MULTIPLAYER_MAX_LIVE_SERVERS are free.
    Runs in the revocation's transaction (apps.multiplayer.receivers), after the key's row was
    updated: the key's lock, taken exclusively first, waits for its beats under way, whose rows
    the deletion then sees, and makes a beat starting now wait and see the revocation
    (KEY_LOCK_SHARED). Answers how many went."""
    if connection.vendor == "postgresql":
        KEY_LOCK.rows([_key_lock_name(server_key_id)])
    deleted, _ = RegisteredServer.objects.filter(server_key_id=server_key_id).delete()
    return deleted


def prune_servers(*, batch: int = 1_000) -> int:
    """Delete servers not heard from for MULTIPLAYER_SERVER_RETENTION_HOURS (hourly, from
    beat): long off the list, they are kept that long only for the admin's view of what
    stopped. A server that beats again later registers anew.

    A batch at a time, walked by id, each deleted in its own statement; the delete names the
    condition again, so a server that beat again after its id was read is kept (on PostgreSQL
    a heartbeat holding the row makes the delete wait, then re-check it on the row as
    written). Answers how many went."""
    cutoff = timezone.now() - timedelta(hours=settings.MULTIPLAYER_SERVER_RETENTION_HOURS)
    silent = RegisteredServer.objects.filter(last_heartbeat_at__lt=cutoff)
    pruned, after = 0, 0
    while ids := list(
        silent.filter(pk__gt=after).order_by("pk").values_list("pk", flat=True)[:batch]
    ):
        after = ids[-1]
        pruned += silent.filter(pk__in=ids).delete()[0]
    return pruned


def _refuse_a_revoked_key(server_key: ServerKey) -> None:
    """Call first in a beat's transaction: a key revoked since the request was authenticated is
    refused, and a revocation starting now waits for the beat (KEY_LOCK_SHARED)."""
    read = (KEY_REVOKED_AT, [server_key.pk])
    if connection.vendor == "postgresql":
        _lock, found = run_together([(KEY_LOCK_SHARED, [_key_lock_name(server_key.pk)]), read])
    else:  # SQLite serializes writes
        found = run_together([read])[0]
    if not found or found[0][0] is not None:
        raise InvalidServerKey("The X-Server-Key is unknown or revoked.")


def _key_lock_name(server_key_id: int) -> str:
    return f"multiplayer.key:{server_key_id}"


def _take_the_join_lock(*, game: Game) -> None:
    """On PostgreSQL servers join one at a time per game (a transaction lock held to the
    commit), so two at once cannot both take the last place. A server whose last beat is more
    than two thirds of the TTL old takes it too, even while still live: were its beat lock-free,
    a server joining as it goes stale would not count it, and both would commit. A beat that
    skips the lock commits long before its server could go stale (unless it runs for a third of
    the TTL), so a join's count sees it. The bound is therefore exact on PostgreSQL. On SQLite
    (the demo, tests) joins that count at the same instant may each pass the bound by one."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))",
                [f"multiplayer.join:{game.pk}"],
            )


def _refuse_past_the_cap(*, game: Game, server_id: str) -> None:
    """A server joining the list when the game already has MULTIPLAYER_MAX_LIVE_SERVERS live
    ones (itself not counted) is refused. Called holding the join lock."""
    cap = settings.MULTIPLAYER_MAX_LIVE_SERVERS
    live = RegisteredServer.objects.filter(game=game, last_heartbeat_at__gte=fresh_since())
    if live.exclude(server_id=server_id)[:cap].count() >= cap:
        raise TooManyServers(
            f"This game has {cap} live servers (MULTIPLAYER_MAX_LIVE_SERVERS): a new server "
            "joins once another deregisters or stops beating.",
            limit=cap,
        )


def _locked_entry(*, game: Game, server_id: str) -> RegisteredServer | None:
    """The server's row (if any), locked for the caller's transaction, with its key."""
    return (
        RegisteredServer.objects.select_for_update(of=("self",))
        .filter(game=game, server_id=server_id)
        .select_related("server_key")
        .first()
    )


def _refuse_another_keys_live_server(
    held: RegisteredServer | None, *, server_id: str, server_key: ServerKey | None
) -> None:
    """A server is another key's while that key is active and the server beats within the
    TTL: a revoked key's servers, or stale ones, are free to be taken over (rotating a fleet's
    key)."""
    if held is None or held.server_key is None or server_key is None:
        return
    if held.server_key_id != server_key.pk and held.server_key.revoked_at is None and _fresh(held):
        raise ServerIdTaken(
            f"Server {server_id} is registered by another server key ({held.server_key.name!r}) "
            "and still beats: use another server id, or stop that server first."
        )


def _fresh(server: RegisteredServer) -> bool:
    return server.last_heartbeat_at >= fresh_since()


def _settled(server: RegisteredServer) -> bool:
    """Live with a third of the TTL to spare: its beat may skip the join lock."""
    spare = timedelta(seconds=settings.SERVER_HEARTBEAT_TTL_SECONDS / 3)
    return server.last_heartbeat_at >= fresh_since() + spare
