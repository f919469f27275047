from apps.multiplayer.services.registry import prune_servers as prune_silent_servers
from gamingpanel.queueing import prune_task


@prune_task
def prune_servers() -> int:
    """Hourly: servers not heard from for MULTIPLAYER_SERVER_RETENTION_HOURS."""
    return prune_silent_servers()
