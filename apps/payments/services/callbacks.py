"""Delivering the sandbox processor's signed callbacks (`SandboxCallback`) to our own webhook,
over HTTP as a real processor would. Run by `tasks.deliver_sandbox_callback`, which retries on
any error; the sweeper re-queues one whose retries ran out or that was never queued."""

from __future__ import annotations

import requests
from django.conf import settings
from django.db.models import F
from django.utils import timezone

from apps.payments.models import SandboxCallback
from apps.payments.providers import sandbox
from gamingpanel.logging import scrub


class CallbackRefused(Exception):
    """Our webhook did not answer 2xx."""


def deliver(*, callback_pk: int) -> bool:
    """POST the callback; True if it was delivered now, False if it had been already (or will
    never be: `closed`). Any
    failure (network, an answer that is not 2xx, the database) raises, for the task to retry;
    the webhook stores an event id once, so a delivery repeated after a lost answer is
    harmless."""
    callback = SandboxCallback.objects.select_related("payment").get(pk=callback_pk)
    if callback.status != SandboxCallback.Status.PENDING:
        return False  # delivered, or its checkout closed unpaid by the sweeper: nothing owed
    SandboxCallback.objects.filter(pk=callback.pk).update(attempts=F("attempts") + 1)
    body, signature = sandbox.build_event(
        payment=callback.payment, action=callback.action, event_id=callback.event_id
    )
    try:
        response = requests.post(
            sandbox.webhook_url(),
            data=body,
            headers={"Content-Type": "application/json", sandbox.SIGNATURE_HEADER: signature},
            timeout=settings.PAYMENT_HTTP_TIMEOUT,
        )
        if response.status_code >= 300:
            raise CallbackRefused(f"the sandbox webhook answered {response.status_code}")
    except Exception as exc:
        # Shown in the admin: scrubbed as a log line is (a proxy's or URL's credentials).
        error = scrub(f"{type(exc).__name__}: {exc}")[:200]
        SandboxCallback.objects.filter(pk=callback.pk).update(last_error=error)
        raise
    SandboxCallback.objects.filter(pk=callback.pk, status=SandboxCallback.Status.PENDING).update(
        status=SandboxCallback.Status.DELIVERED, delivered_at=timezone.now(), last_error=""
    )
    return True
