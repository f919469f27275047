from apps.cloudsave.services import prune_receipts as prune_old_receipts
from apps.cloudsave.services import prune_tombstones as prune_old_tombstones
from gamingpanel.queueing import prune_task


@prune_task
def prune_receipts() -> int:
    """Daily: Idempotency-Key receipts older than CLOUDSAVE_RECEIPT_DAYS."""
    return prune_old_receipts()


@prune_task
def prune_tombstones() -> int:
    """Daily: deleted documents older than CLOUDSAVE_TOMBSTONE_DAYS, with their kept versions."""
    return prune_old_tombstones()
