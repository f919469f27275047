"""Segment actions: one operator action (grant, revoke, ban, unban) for every player a filter
picks, run in Celery with its progress kept here."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import NamedTuple

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from apps.accounts.models import Game

# The `failure` of a run stopped because the operator it acts as may no longer do it: deactivated,
# deleted, no longer staff, or without a role that changes the game (owner or operator).
LOST_AUTHORITY = "operator_lost_access"
# The `failure` of a segment ban an undo was submitted for while it was stopped partway: it
# never runs again (the rest of its players would be banned after the undo walked past them).
UNDONE = "undone"

# A running action that has not moved for this long stopped without saying so: longer than a
# slice (SEGMENT_RUN_SLICE_SECONDS) plus the task's retries (about a minute of backoff).
STALLED_AFTER = timedelta(minutes=10)
# The beat sweep (services.resume_stopped_segment_actions) queues again, on its own, an action
# stalled that long, or failed in an outage, at most AUTO_RESUMES times in a row, the n-th resume
# at least AUTO_RESUME_BACKOFF × 2^(n-2) after the one before (capped): an outage of about half
# an hour heals by itself; one that keeps failing is left, failed or stalled, to an operator.
# "In a row": a chunk of progress, or an operator's Queue again, starts the count again.
AUTO_RESUMES = 6
AUTO_RESUME_BACKOFF = timedelta(minutes=1)
AUTO_RESUME_BACKOFF_MAX = timedelta(minutes=30)
# Nor does the sweep touch an action that last moved longer ago than this (one left stopped on
# purpose before the sweep existed, or by a day-long outage): that is an operator's call.
AUTO_RESUME_WITHIN = timedelta(days=1)


def auto_resume_wait(resumes: int) -> timedelta:
    """How long the sweep waits, after its `resumes`-th automatic resume of an action in a row,
    before it may resume that action again."""
    return min(AUTO_RESUME_BACKOFF * 2 ** (resumes - 1), AUTO_RESUME_BACKOFF_MAX)


class AutoResume(NamedTuple):
    """What the sweep will do with a stopped action, as its page explains it."""

    # When the sweep queues it again at the soonest, should the action not move before; None:
    # it will not.
    at: datetime | None
    # Why it will not: "done", "not_an_outage", "out_of_resumes" or "too_old"; "" when it will.
    ruled_out: str = ""
    # It is due now: the sweep's next run (every minute) queues it.
    due: bool = False


class SegmentAction(models.Model):
    class Kind(models.TextChoices):
        GRANT = "grant", "Grant currency or items"
        REVOKE = "revoke", "Revoke currency or items"
        BAN = "ban", "Ban"
        UNBAN = "unban", "Unban"

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    game = models.ForeignKey(Game, on_delete=models.CASCADE, related_name="+")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_by_name = models.CharField(max_length=150)
    # Whom the run acts as when not its submitter: the operator who queued it again after it
    # stopped because the one it acted as lost the role that allows it (LOST_AUTHORITY).
    run_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Each chunk checks that the operator it acts as still may do it (services.lost_authority):
    # an action submitted by an operator who could (through the panel). One submitted by code
    # for a user without that role (a shell, a script; the panel never does) is not held to it.
    # True for the actions submitted before it was kept (all of them through the panel).
    checks_operator = models.BooleanField(default=True, db_default=True)
    # An unban that undoes a segment ban: it lifts only the bans that run placed, still in place.
    undoes = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The form's key: a resubmitted form finds this row and changes nothing.
    idempotency_key = models.CharField(max_length=64)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    # The player list's query parameters, read again by the same form when the task runs.
    filters = models.JSONField(default=dict, blank=True)
    # Players who join after the action was submitted are not part of it.
    max_player_id = models.BigIntegerField()
    # Its players were written down (SegmentMember) when it was submitted: the run walks that
    # list, not the filter as it reads later. (Actions submitted before members were kept get
    # theirs at their first run.)
    members_frozen = models.BooleanField(default=False)
    # Its members' bans were written down with them (every action frozen since they are).
    bans_frozen = models.BooleanField(default=False)
    target_kind = models.CharField(max_length=10, blank=True)  # currency | item
    target_code = models.CharField(max_length=64, blank=True)
    quantity = models.BigIntegerField(default=0)
    ban_until = models.DateTimeField(null=True, blank=True)
    reason = models.CharField(max_length=300)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    total = models.PositiveIntegerField(default=0)
    processed = models.PositiveIntegerField(default=0)
    changed = models.PositiveIntegerField(default=0)
    skipped = models.PositiveIntegerField(default=0)
    last_player_id = models.BigIntegerField(default=0)
    problems = models.JSONField(default=list, blank=True)  # the first few per-player refusals
    # Why the run gave up (its task out of retries): the error's kind; the worker's log has more.
    failure = models.CharField(max_length=200, blank=True)
    # The failure was an outage (the database, the broker, the network), not a bug: the sweep
    # resumes it.
    failure_transient = models.BooleanField(default=False)
    # How often in a row the sweep queued it again (each also an audit entry by "system"; a
    # chunk of progress or a Queue again starts the count again), and when it may next.
    auto_resumes = models.PositiveSmallIntegerField(default=0)
    next_auto_resume_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    # When its run last got through a chunk (or started): a run whose failure could not be
    # written (the database unreachable) shows as stalled instead of running for ever.
    progressed_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["game", "idempotency_key"], name="segment_action_once_per_key"
            ),
            models.CheckConstraint(condition=Q(quantity__gte=0), name="segment_quantity_gte_0"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} for a segment of {self.game} (#{self.pk})"

    @property
    def stalled_since(self) -> datetime | None:
        """When a RUNNING action last moved, if that is longer ago than a run slice and its
        retries could take (STALLED_AFTER); None while it moves, or when it is not running."""
        last = self.progressed_at or self.started_at
        if self.status != self.Status.RUNNING or last is None:
            return None
        return last if timezone.now() - last > STALLED_AFTER else None

    @property
    def last_moved(self) -> datetime:
        """Its last chunk, start or Queue again; else when it was submitted."""
        return self.progressed_at or self.started_at or self.created_at

    @property
    def auto_resume(self) -> AutoResume:
        return self.auto_resume_at(timezone.now())

    def auto_resume_at(self, now: datetime) -> AutoResume:
        """What the beat sweep (services.resume_stopped_segment_actions, every minute) will do
        with it, as of `now`: the same rules as the sweep's query, read from this row."""
        if self.status == self.Status.DONE:
            return AutoResume(None, "done")
        if self.status == self.Status.FAILED and not self.failure_transient:
            return AutoResume(None, "not_an_outage")
        if self.auto_resumes >= AUTO_RESUMES:
            return AutoResume(None, "out_of_resumes")
        last = self.last_moved
        # A failed one at once; a running or queued one once it has stalled (STALLED_AFTER,
        # exclusive, as the sweep's query counts it); either no sooner than its backoff.
        failed = self.status == self.Status.FAILED
        soonest = max(now if failed else last + STALLED_AFTER, self.next_auto_resume_at or now)
        # The sweep runs from now on: a resume whose time has passed unclaimed (say the beat was
        # down) comes at the next sweep, and only if the action moved within a day of that.
        at = max(soonest, now)
        if at - last > AUTO_RESUME_WITHIN:  # idle for a day by then
            return AutoResume(None, "too_old")
        due = (failed or last < now - STALLED_AFTER) and soonest <= now
        return AutoResume(at, due=due)

    @property
    def percent_done(self) -> int:
        if self.status == self.Status.DONE or not self.total:
            return 100 if self.status == self.Status.DONE else 0
        return min(99, self.processed * 100 // self.total)


class SegmentMember(models.Model):
    """A player the action's filter picked when it was submitted: who the action is for,
    however the player changes before the run reaches them (logs in, levels up, pays)."""

    action = models.ForeignKey(SegmentAction, on_delete=models.CASCADE, related_name="members")
    player_id = models.BigIntegerField()
    # The player's ban when the action was submitted (actions with bans_frozen): an unban
    # leaves alone a player whose ban changed since, say one another operator banned meanwhile.
    banned_until = models.DateTimeField(null=True, blank=True)
    # And its reason ("" when not banned): every permanent ban ends at the same moment, so a
    # permanent ban set again since with another reason differs from the frozen one only here.
    # NULL: not written down (members frozen before it was kept, or by the previous release
    # during an upgrade): their unban compares the end only, as it did then.
    ban_reason = models.CharField(max_length=300, null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["action", "player_id"], name="segment_member_once")
        ]

    def __str__(self) -> str:
        return f"player {self.player_id} of segment action #{self.action_id}"


class OperatorKey(models.Model):
    """A panel form's idempotency key, held by the one action it names (a grant or revoke on a
    player's page): the same form sent again replays that action; the key sent with another
    action (another player, currency, amount or direction) is refused, and the first stays."""

    game = models.ForeignKey(Game, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=64)
    # What the key's first action was (gamingpanel.idempotency.request_fingerprint).
    fingerprint = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["game", "key"], name="operator_key_once_per_game")
        ]

    def __str__(self) -> str:
        return f"operator key {self.key} of {self.game}"
