"""How long submissions are kept: a submission id is remembered for
LEADERBOARD_SUBMISSION_RETENTION_DAYS, long after any retry of it, and then forgotten (a daily
beat task). The rows are one per score ever submitted, with two unique indexes every submission
writes: kept for ever they would grow by the day and slow each insert."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings

from apps.leaderboards.models import Submission
from gamingpanel.retention import kept_since


def prune_submissions(*, now: datetime | None = None, batch: int = 5_000) -> int:
    """Delete the submissions older than LEADERBOARD_SUBMISSION_RETENTION_DAYS (daily, from
    beat): their ids sent again count as new scores. Answers how many went.

    A batch at a time, found along the created_at index and deleted by id, each delete a
    statement of its own: a backlog (the first run) is never held in one transaction nor
    loaded whole. Each batch starts where the last one ended, not at the index's start among the
    entries of the rows just deleted. A submission is never changed once written, so a row
    found old is still old when deleted."""
    cutoff = kept_since(settings.LEADERBOARD_SUBMISSION_RETENTION_DAYS, now=now)
    if cutoff is None:  # ids kept "for ever": nothing is that old
        return 0
    old = Submission.objects.filter(created_at__lt=cutoff)
    pruned = 0
    since: datetime | None = None
    while True:
        found = old if since is None else old.filter(created_at__gte=since)
        rows = list(found.order_by("created_at").values_list("created_at", "pk")[:batch])
        if not rows:
            return pruned
        pruned += old.filter(pk__in=[pk for _, pk in rows]).delete()[0]
        if len(rows) < batch:
            return pruned
        since = rows[-1][0]
