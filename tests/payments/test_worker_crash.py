"""A Celery worker killed in the middle of fulfilment: the transaction dies with it, Redis
hands the unacknowledged task (acks_late) to the next worker, and the purchase completes once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.db import connection
from rest_framework.test import APIClient

from apps.inventory.models import LedgerEntry
from apps.payments.models import Payment, ProviderEvent
from apps.payments.providers import sandbox
from apps.shop.models import Purchase
from apps.shop.services.purchase import purchase_offer
from tests.conftest import HAS_POSTGRES, HAS_REDIS, ROOT, _wait_for_worker
from tests.shop.helpers import balance

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.django_db(transaction=True)]


def start_worker(queue: str, name: str, **extra_env: str) -> subprocess.Popen:
    db = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "CELERY_TASK_ALWAYS_EAGER": "0",
        "CELERY_TASK_DEFAULT_QUEUE": queue,
        "CELERY_VISIBILITY_TIMEOUT_SECONDS": "2",
        # Sweep for abandoned tasks every second, and never wait long on a mutex that a killed
        # worker may have held: the defaults would let a redelivery take minutes.
        "CELERY_UNACKED_RESTORE_INTERVAL_SECONDS": "1",
        "CELERY_UNACKED_RESTORE_THROTTLE": "1",
        "CELERY_UNACKED_MUTEX_EXPIRE_SECONDS": "5",
        "GP_TESTING": "1",
        **extra_env,
    }
    command = [sys.executable, "-m", "celery", "-A", "gamingpanel", "worker", "--pool=solo"]
    command += ["-Q", queue, "-n", f"{name}@%h", "--loglevel=WARNING", "--without-gossip"]
    command += ["--without-mingle", "--without-heartbeat"]
    return subprocess.Popen(command, cwd=ROOT, env=env)


def wait_for(check, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.2)
    return False


@pytest.fixture
def real_worker_queue():
    if not (HAS_POSTGRES and HAS_REDIS):
        pytest.skip("needs PostgreSQL and Redis for real workers")
    from gamingpanel.celery import app

    queue = f"crash-{uuid.uuid4().hex[:8]}"
    previous = (app.conf.task_always_eager, app.conf.task_default_queue)
    app.conf.task_always_eager, app.conf.task_default_queue = False, queue
    workers: list[subprocess.Popen] = []
    yield app, queue, workers
    app.conf.task_always_eager, app.conf.task_default_queue = previous
    for worker in workers:
        if worker.poll() is None:
            worker.terminate()
            worker.wait(timeout=10)


def test_worker_killed_mid_fulfilment_completes_once_after_restart(
    player, real_offer, real_worker_queue, tmp_path
):
    app, queue, workers = real_worker_queue
    marker = Path(tmp_path / "inside-fulfilment")
    first = start_worker(
        queue,
        "doomed",
        PAYMENTS_TEST_FULFILMENT_PAUSE_SECONDS="60",
        PAYMENTS_TEST_FULFILMENT_MARKER=str(marker),
    )
    workers.append(first)
    _wait_for_worker(app, first)
    purchase_offer(player=player, offer_id=real_offer.pk, quantity=1, idempotency_key="k")
    payment = Payment.objects.get()
    body, signature = sandbox.build_event(payment=payment, action="paid")

    response = APIClient().generic(
        "POST",
        "/api/v1/payments/webhooks/sandbox",
        body,
        content_type="application/json",
        HTTP_SANDBOX_SIGNATURE=signature,
    )
    assert response.status_code == 200
    assert wait_for(marker.exists, 30), "the worker never reached fulfilment"

    os.kill(first.pid, signal.SIGKILL)  # mid-transaction: the grant is written, not committed
    first.wait(timeout=10)
    assert Purchase.objects.get().status == "pending"
    assert not LedgerEntry.objects.filter(reason="purchase").exists()

    second = start_worker(queue, "survivor")
    workers.append(second)
    completed = wait_for(lambda: Purchase.objects.get().status == "completed", 60)

    assert completed, "the redelivered task did not complete the purchase"
    assert balance(player, "gems") == 100
    assert LedgerEntry.objects.filter(reason="purchase").count() == 1
    assert ProviderEvent.objects.get().status == "processed"
    time.sleep(3)  # a late duplicate delivery would show up here as a second grant
    assert LedgerEntry.objects.filter(reason="purchase").count() == 1
