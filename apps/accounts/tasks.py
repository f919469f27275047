from celery import shared_task

from apps.accounts.models import Game


@shared_task
def count_games() -> int:
    """Smallest real task: proves a worker reads the same database the web side writes."""
    return Game.objects.count()
