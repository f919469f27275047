"""A paid purchase is not lost when the broker (Redis) is down: the signed notification is
stored and answered at once, and once the broker is back the sweeper queues it and a real
worker completes the purchase exactly once. Each test runs a Redis server of its own."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import uuid

import pytest
from django.db import connection
from django.test import TestCase
from rest_framework.test import APIClient

from apps.inventory.models import LedgerEntry
from apps.payments.models import Payment, ProviderEvent
from apps.payments.providers import sandbox
from apps.payments.services import recovery
from apps.payments.tasks import deliver_sandbox_callback, process_provider_event
from apps.shop.models import Purchase
from apps.shop.services.purchase import purchase_offer
from tests.conftest import ROOT, _wait_for_worker
from tests.payments.private_redis import celery_broker, free_port, private_redis
from tests.payments.test_worker_crash import start_worker, wait_for
from tests.shop.helpers import balance

# Generous: a functional guard that the request does not wait out Celery's reconnect loop
# (about 19 s before), not a measure of speed.
ANSWERS_WITHIN = 5.0


def post_sandbox(body: bytes, signature: str):
    return APIClient().generic(
        "POST",
        "/api/v1/payments/webhooks/sandbox",
        body,
        content_type="application/json",
        HTTP_SANDBOX_SIGNATURE=signature,
    )


def paid_notification(player, offer) -> tuple[bytes, str]:
    purchase_offer(player=player, offer_id=offer.pk, quantity=1, idempotency_key="k")
    return sandbox.build_event(payment=Payment.objects.get(), action="paid")


def test_a_webhook_is_stored_and_answered_at_once_while_the_broker_is_down(
    player, real_offer, tmp_path, caplog
):
    body, signature = paid_notification(player, real_offer)
    with private_redis(tmp_path) as broker, celery_broker(broker.url, queue="outage") as app:
        broker.stop()
        started = time.monotonic()
        with TestCase.captureOnCommitCallbacks(execute=True):
            response = post_sandbox(body, signature)
        took = time.monotonic() - started
        assert not app.conf.task_always_eager

    assert response.status_code == 200
    assert response.json()["duplicate"] is False
    assert took < ANSWERS_WITHIN, f"the webhook took {took:.1f} s with the broker down"
    assert ProviderEvent.objects.get().status == "received"  # kept for the sweeper
    assert Purchase.objects.get().status == "pending"
    assert "not queued" in caplog.text


def test_an_enqueue_from_a_web_process_gives_up_fast_when_redis_is_down(tmp_path):
    """The production layout, broker and result store both on REDIS_URL, in a process of its own:
    an enqueue fails fast (a task keeping its result included), and the next one still works
    once Redis is back (Celery's result consumer is not left broken)."""
    port = free_port()
    script = f"""
import json, time, django
django.setup()
from apps.accounts.tasks import count_games
from apps.payments.services.queueing import enqueue
from apps.payments.tasks import process_provider_event
from tests.payments.private_redis import PrivateRedis
took = []
for task in (process_provider_event, count_games):
    started = time.monotonic()
    queued = enqueue(task, 1) if task is process_provider_event else enqueue(task)
    took.append((queued, time.monotonic() - started))
server = PrivateRedis({port}, {str(tmp_path)!r})
server.start()
try:
    took.append((enqueue(process_provider_event, 1), 0.0))
finally:
    server.stop()
print(json.dumps(took))
"""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "gamingpanel.settings",
        "REDIS_URL": f"redis://127.0.0.1:{port}/0",
        "CELERY_TASK_ALWAYS_EAGER": "0",
        "GP_TESTING": "1",
    }
    env.pop("CELERY_BROKER_URL", None)
    env.pop("CELERY_RESULT_BACKEND", None)
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, timeout=120
    )
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    (first, first_took), (second, second_took), (after, _) = json.loads(
        done.stdout.decode().strip().splitlines()[-1]
    )

    assert (first, second, after) == (False, False, True)
    assert first_took < ANSWERS_WITHIN and second_took < ANSWERS_WITHIN, (first_took, second_took)


def test_an_enqueue_gives_up_fast_when_redis_accepts_connections_but_never_answers():
    """A hung broker (the port accepts, nothing answers): bounded by the broker's socket
    timeouts, not left waiting forever."""
    with socket.socket() as hung:
        hung.bind(("127.0.0.1", 0))
        hung.listen(64)  # never accepted: connections complete in the backlog, then silence
        port = hung.getsockname()[1]
        script = """
import json, time, django
django.setup()
from apps.payments.services.queueing import enqueue
from apps.payments.tasks import process_provider_event
started = time.monotonic()
queued = enqueue(process_provider_event, 1)
print(json.dumps([queued, time.monotonic() - started]))
"""
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "gamingpanel.settings",
            "REDIS_URL": f"redis://127.0.0.1:{port}/0",
            "CELERY_TASK_ALWAYS_EAGER": "0",
            "GP_TESTING": "1",
        }
        env.pop("CELERY_BROKER_URL", None)
        done = subprocess.run(
            [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, timeout=120
        )
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    queued, took = json.loads(done.stdout.decode().strip().splitlines()[-1])

    assert queued is False
    assert took < ANSWERS_WITHIN, took


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_a_notification_received_during_an_outage_completes_once_when_the_broker_returns(
    player, real_offer, tmp_path, settings
):
    settings.PAYMENTS_SWEEP_GRACE_SECONDS = 0
    body, signature = paid_notification(player, real_offer)
    queue = f"outage-{uuid.uuid4().hex[:8]}"
    with private_redis(tmp_path) as broker, celery_broker(broker.url, queue=queue) as app:
        broker.stop()
        assert post_sandbox(body, signature).status_code == 200  # committed, enqueue failed
        assert ProviderEvent.objects.get().status == "received"

        broker.start()  # the broker is back; nothing was queued, nothing happens by itself
        worker = start_worker(queue, "after-outage", CELERY_BROKER_URL=broker.url)
        try:
            _wait_for_worker(app, worker)
            time.sleep(1)
            assert Purchase.objects.get().status == "pending"

            report = recovery.sweep(
                event_task=process_provider_event, callback_task=deliver_sandbox_callback
            )
            assert report.events_requeued == 1
            completed = wait_for(lambda: Purchase.objects.get().status == "completed", 60)
            assert completed, "the re-queued notification was not processed"

            # Swept again and delivered again: still one grant.
            recovery.sweep(
                event_task=process_provider_event, callback_task=deliver_sandbox_callback
            )
            assert post_sandbox(body, signature).json()["duplicate"] is True
            time.sleep(2)
        finally:
            worker.terminate()
            worker.wait(timeout=20)
            connection.close()

    assert balance(player, "gems") == 100
    assert LedgerEntry.objects.filter(reason="purchase").count() == 1
    event = ProviderEvent.objects.get()
    assert (event.status, event.sweeps, event.needs_attention) == ("processed", 1, False)
