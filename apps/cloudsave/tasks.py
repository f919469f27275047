from celery import shared_task

from apps.cloudsave.services import prune_receipts as prune_old_receipts


@shared_task
def prune_receipts() -> int:
    """Daily: Idempotency-Key receipts older than CLOUDSAVE_RECEIPT_DAYS."""
    return prune_old_receipts()
