from celery import shared_task

from apps.accounts.models import Game
from apps.accounts.services.bans import lift_lapsed_bans as lift_lapsed
from apps.accounts.services.sessions import prune_ended_sessions, prune_retired_refresh_tokens
from gamingpanel.queueing import prune_task


@shared_task
def count_games() -> int:
    """Smallest real task: proves a worker reads the same database the web side writes."""
    return Game.objects.count()


@prune_task
def prune_sessions() -> int:
    """Daily: ended sessions and their refresh tokens, then live sessions' long-expired retired
    tokens (see the two services). The rows deleted: sessions, then tokens not deleted with
    one."""
    return prune_ended_sessions() + prune_retired_refresh_tokens()


@shared_task
def lift_lapsed_bans() -> int:
    """Every minute: the ended sessions of bans that ran out say log in again (see the service)."""
    return lift_lapsed()
