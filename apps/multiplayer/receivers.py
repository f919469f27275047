"""What multiplayer does about operators' actions, which accounts announces on `operator_acted`
(connected in MultiplayerConfig.ready): a revoked server key's servers leave the list."""

from __future__ import annotations

from typing import Any

from django.db.models import Model

from apps.multiplayer.services.registry import deregister_servers_of_key

SERVER_KEY_REVOKED = "server_key.revoke"


def on_operator_action(sender: type[Model], *, action: str, target: Model, **kwargs: Any) -> None:
    if action == SERVER_KEY_REVOKED:
        deregister_servers_of_key(server_key_id=target.pk)
