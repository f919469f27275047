import pytest

from apps.accounts.models import Game
from apps.accounts.tasks import count_games


@pytest.mark.postgres
@pytest.mark.redis
def test_task_runs_on_a_real_worker_through_redis(celery_worker_process):
    Game.objects.create(name="Gamma", slug="gamma", client_key="gamma-key")

    result = count_games.delay()

    assert result.get(timeout=30) == 1
    assert celery_worker_process.poll() is None  # a separate, live process did the work
