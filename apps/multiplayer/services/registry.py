"""Game servers register and refresh themselves with heartbeats; stale ones stop being listed."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from apps.accounts.models import Game, ServerKey
from apps.multiplayer.errors import ServerIdTaken
from apps.multiplayer.models import RegisteredServer

HEARTBEAT_FIELDS = ["region", "address", "port", "capacity", "players", "mode", "version"]


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
    another's servers."""
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
    if held is None:
        # A new id: no row to lock, and two keys registering it at once would both find none
        # (the last write winning). Inserting without overwriting makes one of them hold it;
        # the other's insert waits for that commit, then this lock finds the holder's row.
        RegisteredServer.objects.bulk_create([RegisteredServer(**fields)], ignore_conflicts=True)
        held = _locked_entry(game=game, server_id=server_id)
    _refuse_another_keys_live_server(held, server_id=server_id, server_key=server_key)
    RegisteredServer.objects.bulk_create(
        [RegisteredServer(**fields)],
        update_conflicts=True,
        unique_fields=["game", "server_id"],
        update_fields=[*HEARTBEAT_FIELDS, "last_heartbeat_at", "server_key"],
    )


@transaction.atomic
def deregister(*, game: Game, server_id: str, server_key: ServerKey | None = None) -> bool:
    """A server shutting down leaves the list at once instead of after the TTL (409
    server_id_taken when another live key holds it)."""
    held = _locked_entry(game=game, server_id=server_id)
    _refuse_another_keys_live_server(held, server_id=server_id, server_key=server_key)
    deleted, _ = RegisteredServer.objects.filter(game=game, server_id=server_id).delete()
    return bool(deleted)


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
    fresh = held.last_heartbeat_at >= timezone.now() - timedelta(
        seconds=settings.SERVER_HEARTBEAT_TTL_SECONDS
    )
    if held.server_key_id != server_key.pk and held.server_key.revoked_at is None and fresh:
        raise ServerIdTaken(
            f"Server {server_id} is registered by another server key ({held.server_key.name!r}) "
            "and still beats: use another server id, or stop that server first."
        )
