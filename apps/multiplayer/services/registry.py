"""Game servers register and refresh themselves with heartbeats; stale ones stop being listed."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from apps.accounts.models import Game, ServerKey
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
    """Register or refresh in one upsert: two first heartbeats of one server cannot collide."""
    now = timezone.now()
    RegisteredServer.objects.bulk_create(
        [
            RegisteredServer(
                game=game,
                server_id=server_id,
                region=region,
                address=address,
                port=port,
                capacity=capacity,
                players=players,
                mode=mode,
                version=version,
                registered_at=now,
                last_heartbeat_at=now,
                server_key=server_key,
            )
        ],
        update_conflicts=True,
        unique_fields=["game", "server_id"],
        update_fields=[*HEARTBEAT_FIELDS, "last_heartbeat_at", "server_key"],
    )


@transaction.atomic
def deregister(*, game: Game, server_id: str) -> bool:
    """A server shutting down leaves the list at once instead of after the TTL."""
    deleted, _ = RegisteredServer.objects.filter(game=game, server_id=server_id).delete()
    return bool(deleted)
