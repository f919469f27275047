"""Segment actions: submit once per form, then run in chunks (a Celery task), each player's
change through the owning app's service: grants and revokes through the one guarded ledger
write (`inventory.apply_changes`, one ledger row per player, keyed by the action so a rerun
changes nothing), bans through accounts' ban service. The action itself is one audit entry."""

from __future__ import annotations

import logging
import time
from datetime import datetime
from itertools import islice
from typing import NamedTuple

from django.conf import settings
from django.contrib.auth.models import User
from django.db import IntegrityError, InterfaceError, OperationalError, connection, transaction
from django.db.models import Exists, F, Max, OuterRef, Q, Value
from django.db.models.functions import Coalesce
from django.http import QueryDict
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from apps.accounts.models import PERMANENT_BAN_UNTIL, Game, GameAccess, Player
from apps.accounts.selectors import WRITE_ROLES
from apps.accounts.services.bans import ban_player, stored_reason, unban_player
from apps.audit.models import AuditLogEntry
from apps.audit.services import record_action
from apps.inventory.services import Change, apply_changes, prepare_holdings
from apps.panel.forms import PlayerFilterForm
from apps.panel.models import (
    AUTO_RESUME_WITHIN,
    AUTO_RESUMES,
    LOST_AUTHORITY,
    STALLED_AFTER,
    UNDONE,
    OperatorKey,
    SegmentAction,
    SegmentMember,
    auto_resume_wait,
)
from apps.panel.privacy import hold_against_erasures
from apps.panel.selectors import players_matching
from gamingpanel.errors import Conflict, DomainError
from gamingpanel.idempotency import IdempotencyKeyReused, request_fingerprint
from gamingpanel.retention import kept_since

logger = logging.getLogger(__name__)

CHUNK_SIZE = 500
MAX_PROBLEMS = 20
RESUME_BATCH = 100
# A run that gave up on one of these met an outage (the database, Redis, the broker, the
# network), not a fault of its own: the sweep resumes it once things are back.
OUTAGES: tuple[type[BaseException], ...] = (
    OperationalError,
    InterfaceError,
    ConnectionError,
    TimeoutError,
    RedisConnectionError,
    RedisTimeoutError,
    BrokerError,
)
FILTER_FIELDS = tuple(PlayerFilterForm.base_fields)


def segment_filters(query: QueryDict) -> dict[str, str]:
    """The filter parameters of a player-list query string (paging and blanks left out)."""
    return {
        name: str(query.get(name)) for name in FILTER_FIELDS if query.get(name) and name != "sort"
    }


def segment_players(*, game: Game, filters: dict[str, str], max_player_id: int | None = None):
    form = PlayerFilterForm(filters or None)
    # Erased players (tombstones) take no part: nothing is granted, revoked or banned there.
    players = players_matching(game=game, filters=form.filters(), sort="id").filter(
        erased_at__isnull=True
    )
    if max_player_id is not None:
        players = players.filter(pk__lte=max_player_id)
    return players


KEY_REUSED = (
    "That form's key was already used for another action, which stays as it was. Open the page "
    "again for a new form."
)


def claim_operator_key(*, game: Game, key: str, action: dict[str, object]) -> bool:
    """Call in the transaction of the action the panel form's `key` names, before doing it:
    True the first time, False when the form is sent again for the same `action` (the caller's
    own key then replays it); another action under the key is refused (IdempotencyKeyReused).
    Two sent at once: the unique key makes the second wait for the first's commit (a rollback
    frees the key), then read what it claimed."""
    fingerprint = request_fingerprint(action)
    claim, created = OperatorKey.objects.get_or_create(
        game=game, key=key, defaults={"fingerprint": fingerprint}
    )
    if claim.fingerprint != fingerprint:
        raise IdempotencyKeyReused(KEY_REUSED)
    return created


def submit_segment_action(
    *,
    game: Game,
    actor: User,
    idempotency_key: str,
    kind: str,
    filters: dict[str, str],
    reason: str,
    change: Change | None = None,
    ban_until: datetime | None = None,
    max_player_id: int | None = None,
    undoes: SegmentAction | None = None,
) -> tuple[SegmentAction, bool]:
    """Record the action (or find the one this form already submitted); the caller queues its
    run (`apps.panel.tasks.run_segment_action`). Returns the action and whether it is new.
    `max_player_id`: the newest player when the form was shown (its count), so players who
    joined while the operator wrote the reason are not part of it.
    `undoes` (an unban): the segment ban it undoes. Its players are that run's, not a filter's,
    and it lifts only the bans that run placed and that are still in place (`_placed_by`): a
    player that run found banned as long already (by hand, say) keeps that ban."""
    if ban_until is not None and ban_until >= PERMANENT_BAN_UNTIL:
        # An end typed past "until unbanned" (9999-12-31 12:00) is that: as a later end it
        # would count as longer than a permanent ban, which only ever lengthens, and replace a
        # permanent ban by hand (fraud) with this action's reason.
        ban_until = None
    asked: dict[str, object] = {
        "kind": kind,
        "filters": {} if undoes is not None else filters,
        "target": (change.kind, change.code, abs(change.delta)) if change else ("", "", 0),
        "ban_until": ban_until,
        "undoes": undoes.pk if undoes is not None else None,
    }
    existing = SegmentAction.objects.filter(game=game, idempotency_key=idempotency_key).first()
    if existing is not None:
        return _sent_again(existing, asked), False
    if undoes is not None:
        _check_undoable(undoes, game=game, kind=kind)
        filters, max_player_id = {}, undoes.max_player_id
    last = last_player_id(game=game)
    if max_player_id is not None:
        last = min(last, max_player_id)
    try:
        with transaction.atomic():
            if undoes is not None:
                _hold_undone(undoes, game=game, kind=kind)
            action = SegmentAction.objects.create(
                game=game,
                created_by=actor,
                created_by_name=actor.get_username(),
                idempotency_key=idempotency_key,
                kind=kind,
                filters=filters,
                max_player_id=last,
                target_kind=change.kind if change else "",
                target_code=change.code if change else "",
                quantity=abs(change.delta) if change else 0,
                ban_until=ban_until,
                reason=reason,
                undoes=undoes,
                # Submitted through the panel (whose pages let in only an operator who may):
                # held to that. By code with no such operator (a shell, a script): not.
                checks_operator=not why_not_allowed(actor, game),
            )
            action.total = _freeze_members(action)
            record_action(
                actor=actor,
                game=game,
                action=f"segment.{kind}",
                target=action,
                after=_described(action),
                reason=reason,
            )
    except IntegrityError:  # the same form submitted twice at once: the other one won
        existing = SegmentAction.objects.get(game=game, idempotency_key=idempotency_key)
        return _sent_again(existing, asked), False
    return action, True


def _sent_again(action: SegmentAction, asked: dict[str, object]) -> SegmentAction:
    """The action the form's key already names, if it is the one `asked` again; another action
    under the key is refused (IdempotencyKeyReused), the first left as it is."""
    submitted = {
        "kind": action.kind,
        "filters": action.filters,
        "target": (action.target_kind, action.target_code, action.quantity),
        "ban_until": action.ban_until,
        "undoes": action.undoes_id,
    }
    if submitted != asked:
        raise IdempotencyKeyReused(KEY_REUSED)
    return action


def _check_undoable(undone: SegmentAction, *, game: Game, kind: str) -> None:
    """Only a segment ban of this game is undone, by an unban, once its run is not going (a
    run still going would place bans after the undo walked past their players), and while its
    player list is kept (SEGMENT_MEMBERS_KEPT_DAYS after it is done)."""
    if kind != SegmentAction.Kind.UNBAN or undone.kind != SegmentAction.Kind.BAN:
        raise Conflict("Only a segment ban is undone, and by an unban.")
    if undone.game_id != game.pk:
        raise Conflict("That segment ban is of another game.")
    if undone.status in (SegmentAction.Status.QUEUED, SegmentAction.Status.RUNNING):
        raise Conflict("That segment ban is still running: undo it once it has stopped.")
    if undone.total and not undone.members.exists():
        raise Conflict(
            "That segment ban's player list was deleted (SEGMENT_MEMBERS_KEPT_DAYS after it "
            "finished): its bans are lifted from each player's page."
        )


def _hold_undone(undone: SegmentAction, *, game: Game, kind: str) -> None:
    """In the undo's transaction: the ban checked again under its row lock (a Queue again or
    the sweep starting it since the first check waits for the undo, whose chunk check then
    stops it), and a ban stopped partway marked UNDONE, not an outage: the sweep no longer
    resumes it, and a run of it stops at its next chunk (`_run_chunk`)."""
    locked = SegmentAction.objects.select_for_update(of=("self",)).get(pk=undone.pk)
    _check_undoable(locked, game=game, kind=kind)
    if locked.status != SegmentAction.Status.DONE:
        SegmentAction.objects.filter(pk=locked.pk).update(failure=UNDONE, failure_transient=False)


MEMBER_BATCH = 5_000


def last_player_id(*, game: Game) -> int:
    """The game's newest player (0: none yet): what a segment's count and action stop at."""
    last = Player.objects.filter(game=game).order_by("-pk").values_list("pk", flat=True).first()
    return last or 0


def _freeze_members(action: SegmentAction) -> int:
    """Write down the players the filter picks now, with their bans; the run walks this list.
    Read and written a batch at a time, so a game of millions never sits in memory. How many."""
    if action.undoes_id is not None:
        # An undo: the players of the ban it undoes (the run sorts out whose ban that was).
        picked = Player.objects.filter(
            game=action.game,
            pk__in=SegmentMember.objects.filter(action_id=action.undoes_id).values("player_id"),
            erased_at__isnull=True,
        ).order_by("pk")
    else:
        picked = segment_players(
            game=action.game, filters=action.filters, max_player_id=action.max_player_id
        )
    rows = picked.values_list("pk", "banned_until", "ban_reason").iterator(chunk_size=MEMBER_BATCH)
    total = 0
    with_a_ban: list[int] = []
    while batch := list(islice(rows, MEMBER_BATCH)):
        with_a_ban.extend(
            player_id for player_id, until, reason in batch if until is not None or reason
        )
        SegmentMember.objects.bulk_create(
            [
                SegmentMember(
                    action=action, player_id=player_id, banned_until=until, ban_reason=reason
                )
                for player_id, until, reason in batch
            ],
            ignore_conflicts=True,  # an action submitted before members were kept, frozen twice
        )
        total += len(batch)
    _drop_erased_bans(action, with_a_ban)
    action.members_frozen = action.bans_frozen = True
    action.total = total
    action.save(update_fields=["members_frozen", "bans_frozen", "total"])
    return total


def _drop_erased_bans(action: SegmentAction, with_a_ban: list[int]) -> None:
    """The members' bans were copied from an unlocked read: a player's erasure committing
    meanwhile cleared the copies of the actions it saw, not this one's (not committed yet).
    So, under the game's members lock (apps.panel.privacy.hold_against_erasures: an erasure
    under way is waited for, one starting later waits for this commit and then clears this
    action's copies itself), the players copied with a ban are read again and the copies of
    those erased since are dropped. No player row is locked, and nothing while the members are
    written: only this last read and the commit hold the game's erasures."""
    if not with_a_ban:
        return  # nothing personal was copied
    hold_against_erasures(action.game_id)
    for start in range(0, len(with_a_ban), MEMBER_BATCH):
        batch = with_a_ban[start : start + MEMBER_BATCH]
        erased = Player.objects.filter(pk__in=batch, erased_at__isnull=False)
        SegmentMember.objects.filter(action=action, player_id__in=erased.values("pk")).update(
            banned_until=None, ban_reason=None
        )


MEMBER_PRUNE_BATCH = 10_000


def prune_segment_members(*, now: datetime | None = None) -> int:
    """The beat's daily prune: the member lists of actions done more than
    SEGMENT_MEMBERS_KEPT_DAYS ago (a row per player: ~215 MB for a grant to 2M players). Nothing
    reads them once an action is done (it never runs again; Queue again refuses it): its page
    shows the counts and refusals kept on the action, the ledger and audit log keep who got
    what. Deleted MEMBER_PRUNE_BATCH players at a time, each batch its own statement, walking
    the (action, player) key. Returns how many rows went."""
    now = now or timezone.now()
    since = kept_since(settings.SEGMENT_MEMBERS_KEPT_DAYS, now=now)
    if since is None:  # kept longer than the calendar reaches back: none is due
        return 0
    # A ban an undo still walks is kept: the undo reads each player's ban from before it there
    # (_placed_by), and without it would lift nothing.
    undoing = SegmentAction.objects.filter(undoes=OuterRef("pk")).exclude(
        status=SegmentAction.Status.DONE
    )
    done = (
        SegmentAction.objects.filter(status=SegmentAction.Status.DONE, finished_at__lt=since)
        .filter(Exists(SegmentMember.objects.filter(action=OuterRef("pk"))))
        .exclude(Exists(undoing))
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    deleted = 0
    for action_id in list(done):
        deleted += _prune_members_of(action_id)
    if deleted:
        logger.info("segment members pruned: %s rows", deleted)
    return deleted


def _prune_members_of(action_id: int) -> int:
    members = SegmentMember.objects.filter(action_id=action_id)
    deleted, after = 0, None
    while True:
        rest = members if after is None else members.filter(player_id__gt=after)
        # The batch's last player: the batch is one range of the unique key, not a list of ids.
        last = list(
            rest.order_by("player_id").values_list("player_id", flat=True)[
                MEMBER_PRUNE_BATCH - 1 : MEMBER_PRUNE_BATCH
            ]
        )
        deleted += (rest.filter(player_id__lte=last[0]) if last else rest).delete()[0]
        if not last:
            return deleted
        after = last[0]


def _described(action: SegmentAction) -> dict:
    # An undo's players are those of the ban it undoes, not every player (its filters are none).
    picked = f"the players of segment ban #{action.undoes_id}" if action.undoes_id else None
    described = {"players": action.total, "filters": action.filters or picked or "all players"}
    if action.target_code:
        described[action.target_kind] = action.target_code
        described["quantity"] = action.quantity
    if action.ban_until:
        described["banned_until"] = action.ban_until.isoformat()
    if action.undoes_id:
        described["undoes"] = action.undoes_id
    return described


def run_segment_action(*, action_id: int, seconds: float | None = None) -> SegmentAction:
    """Run (or resume) the action from the last player it finished, a chunk per transaction.
    Two workers running the same action (a re-queue while it runs) take turns chunk by chunk.
    With `seconds`, it stops after the chunk that used them up and stays RUNNING: the task
    queues the rest, so no task outlives the broker's visibility timeout (which would hand a
    copy of it to another worker)."""
    deadline = None if seconds is None else time.monotonic() + seconds
    action = SegmentAction.objects.get(pk=action_id)
    if action.status == SegmentAction.Status.DONE:
        return action
    # Queued, or failed before and queued again: running (again) from where it stopped.
    SegmentAction.objects.filter(pk=action.pk).exclude(status=SegmentAction.Status.DONE).update(
        status=SegmentAction.Status.RUNNING,
        started_at=Coalesce(F("started_at"), Value(timezone.now())),
        progressed_at=timezone.now(),
        failure="",
        failure_transient=False,
    )
    while True:
        try:
            # Most chunks refuse nobody: each player's change then needs no savepoint of its
            # own. A refusal rolls that whole chunk back, and it runs again player by player.
            taken = _run_chunk(action_id, careful=False)
        except _Refused:
            taken = _run_chunk(action_id, careful=True)
        if taken == STOPPED:  # the operator it acts as may no longer: stopped, and said why
            action.refresh_from_db()
            return action
        if not taken:
            break
        if deadline is not None and time.monotonic() >= deadline:
            action.refresh_from_db()
            return action
    SegmentAction.objects.filter(pk=action.pk).update(
        status=SegmentAction.Status.DONE, finished_at=timezone.now()
    )
    action.refresh_from_db()
    return action


def mark_segment_action_failed(*, action_id: int, error: BaseException) -> None:
    """The run gave up (its task is out of retries): the page says so instead of "running" for
    ever, and Queue again resumes it (the sweep too, after an outage). Players already changed
    stay changed (each once)."""
    SegmentAction.objects.filter(pk=action_id).exclude(status=SegmentAction.Status.DONE).update(
        status=SegmentAction.Status.FAILED,
        failure=type(error).__name__[:200],
        failure_transient=isinstance(error, OUTAGES),
    )


def resume_stopped_segment_actions(*, now: datetime | None = None) -> list[int]:
    """The beat sweep: the actions to queue again, claimed (the caller queues them once this
    has returned, the claim committed). Those RUNNING that have not moved for STALLED_AFTER
    (the next slice was never queued, a worker died, the failure could not be written), QUEUED
    as long (the queue was down at submit), or FAILED in an outage; each at most AUTO_RESUMES
    times in a row (a chunk of progress or a Queue again starts the count again) with backoff,
    and only if it moved within AUTO_RESUME_WITHIN. A rerun changes nobody twice (the progress
    commits with each chunk, under the action's lock). The action's page forecasts this from
    the row (`SegmentAction.auto_resume_at`, the same rules).
    Each action is claimed under its row lock, skipping one a chunk holds right now (its run
    is alive); the claim's next_auto_resume_at keeps a second sweep off it. A resume racing an
    operator's Queue again makes two runs, which take turns chunk by chunk (`_run_chunk`)."""
    now = now or timezone.now()
    status = SegmentAction.Status
    stopped = (
        SegmentAction.objects.annotate(
            moved_at=Coalesce("progressed_at", "started_at", "created_at")
        )
        .filter(
            Q(status__in=[status.RUNNING, status.QUEUED], moved_at__lt=now - STALLED_AFTER)
            | Q(status=status.FAILED, failure_transient=True),
            Q(next_auto_resume_at__isnull=True) | Q(next_auto_resume_at__lte=now),
            auto_resumes__lt=AUTO_RESUMES,
            moved_at__gte=now - AUTO_RESUME_WITHIN,
        )
        .select_for_update(skip_locked=True, of=("self",))
        .select_related("game")
        .order_by("pk")
    )
    claimed = []
    with transaction.atomic():
        for action in stopped[:RESUME_BATCH]:
            before = {
                "status": action.status,
                "failure": action.failure,
                "processed": action.processed,
                "last_moved": action.last_moved.isoformat(),
            }
            action.auto_resumes += 1
            action.next_auto_resume_at = now + auto_resume_wait(action.auto_resumes)
            action.save(update_fields=["auto_resumes", "next_auto_resume_at"])
            record_action(
                actor=None,
                game=action.game,
                action="segment.resume",
                target=action,
                before=before,
                after={"automatic_resume": action.auto_resumes, "of": AUTO_RESUMES},
                reason=_why_resumed(action),
            )
            claimed.append(action.pk)
    if claimed:
        logger.info("segment actions resumed by the sweep: %s", claimed)
    return claimed


def queue_segment_action_again(*, action_id: int, actor: User) -> SegmentAction | None:
    """An operator's Queue again, before the caller queues the run: the action starts its
    automatic resumes afresh (the count to 0, no backoff) and its idle clock again (should the
    queue be unreachable, the sweep starts it as it would a just-stopped one). One audit entry
    `segment.resume` by the operator. None (nothing recorded) for a finished action, or a ban
    undone after it stopped partway (it never runs again: `_hold_undone`).
    If the operator the run acts as may no longer do it (`lost_authority`; it stopped, or will
    at its next chunk), the run acts as `actor` from now on: the caller let only an operator who
    may change the game in (panel.access.writable_game), who takes it over, as its audit says."""
    with transaction.atomic():
        action = (
            SegmentAction.objects.select_for_update(of=("self",))
            .select_related("game", "created_by", "run_by")
            .get(pk=action_id)
        )
        if action.status == SegmentAction.Status.DONE:
            return None
        if action.kind == SegmentAction.Kind.BAN and _undone(action):
            return None  # undone partway: it never runs again
        before = {
            "status": action.status,
            "failure": action.failure,
            "processed": action.processed,
            "last_moved": action.last_moved.isoformat(),
            "automatic_resumes": action.auto_resumes,
        }
        taken_over = lost_authority(action)
        reason = "Queue again by an operator; automatic resumes start again from 0"
        after = {**before, "automatic_resumes": 0}
        if taken_over:
            before["acting_as"] = getattr(acting_operator(action), "username", None)
            action.run_by = actor
            action.checks_operator = not why_not_allowed(actor, action.game)
            after["acting_as"] = actor.get_username()
            reason = f"{reason}; it acts as {actor.get_username()} from now on ({taken_over})"
        action.auto_resumes = 0
        action.next_auto_resume_at = None
        action.progressed_at = timezone.now()
        action.save(
            update_fields=[
                "auto_resumes",
                "next_auto_resume_at",
                "progressed_at",
                "run_by",
                "checks_operator",
            ]
        )
        record_action(
            actor=actor,
            game=action.game,
            action="segment.resume",
            target=action,
            before=before,
            after={**after, "last_moved": action.progressed_at.isoformat()},
            reason=reason[:300],
        )
    return action


def _why_resumed(action: SegmentAction) -> str:
    if action.status == SegmentAction.Status.FAILED:
        return f"failed ({action.failure}) in an outage; queued again automatically"
    idle = f"{STALLED_AFTER.total_seconds() / 60:g} minutes"
    if action.status == SegmentAction.Status.QUEUED:
        return f"not started after {idle}; queued again automatically"
    return f"no progress for {idle}; queued again automatically"


class _Refused(Exception):
    """A player's change was refused in a chunk run without savepoints."""


# What _run_chunk answers for a run it stopped: the operator it acts as may no longer.
STOPPED = -1


def acting_operator(action: SegmentAction) -> User | None:
    """Whom the run acts as: the operator who queued it again after it stopped for
    LOST_AUTHORITY, else its submitter (None once that user was deleted)."""
    return action.run_by if action.run_by_id else action.created_by


def _user_row_sql(lock: bool) -> str:
    table = connection.ops.quote_name(User._meta.db_table)
    return (
        f"SELECT is_active, is_staff, is_superuser FROM {table} WHERE id = %s"  # noqa: S608
        + (" FOR SHARE" if lock else "")
    )


def _role_sql(lock: bool) -> str:
    table = connection.ops.quote_name(GameAccess._meta.db_table)
    return (
        f"SELECT role FROM {table} WHERE user_id = %s AND game_id = %s"  # noqa: S608
        + (" FOR SHARE" if lock else "")
    )


def lost_authority(action: SegmentAction, *, lock: bool = False) -> str:
    """Why the operator the run acts as may no longer do what it does ("" if they still may, or
    if the action is not held to a role: `checks_operator`). With `lock` (a chunk, on
    PostgreSQL) the user's row and their role's are read FOR SHARE until the chunk commits: a
    deactivation or a change of the role waits for the chunk, and the next chunk sees it
    (without the lock, one committing while a chunk ran would let that chunk finish)."""
    if not action.checks_operator:
        return ""
    user = acting_operator(action)
    if user is None:
        return f"{action.created_by_name}'s account was deleted"
    return why_not_allowed(user, action.game, lock=lock)


def why_not_allowed(user: User, game: Game, *, lock: bool = False) -> str:
    """Why `user` may not change `game` from the panel ("" if they may): deleted, deactivated,
    no longer staff (the panel lets only staff in), or without a role in the game that changes
    it (owner or operator; a superuser has every role). `lock`: see lost_authority."""
    lock = lock and connection.vendor == "postgresql"
    name = user.get_username()
    with connection.cursor() as cursor:
        cursor.execute(_user_row_sql(lock), [user.pk])
        row = cursor.fetchone()
        if row is None:
            return f"{name}'s account was deleted"
        is_active, is_staff, is_superuser = row
        if not is_active:
            return f"{name}'s account was deactivated"
        if not is_staff:
            return f"{name} is no longer staff"
        if is_superuser:
            return ""
        cursor.execute(_role_sql(lock), [user.pk, game.pk])
        role = cursor.fetchone()
    if role is None or role[0] not in WRITE_ROLES:
        held = f"is {role[0]}" if role else "has no role"
        return f"{name} {held} in {game}, not owner or operator"
    return ""


def _stop_for_lost_authority(action: SegmentAction, why: str) -> None:
    """Under the action's lock, in the chunk's transaction: the run stops (FAILED, not an
    outage: the sweep leaves it), with why on the page and in the audit log. Players it reached
    keep their change. An operator who may do it takes it over with Queue again."""
    _stop_for_good(
        action,
        failure=LOST_AUTHORITY,
        why=why,
        reason=f"{why}. Queue again by an operator who may continues it as theirs.",
    )


def _undone(action: SegmentAction) -> bool:
    """An undo of this segment ban was submitted (it stopped partway, then was undone): the
    rest of its players are not banned after the undo walked past them. One query a chunk, on
    the `undoes` index."""
    return SegmentAction.objects.filter(undoes_id=action.pk).exists()


def _stop_undone(action: SegmentAction) -> None:
    """Under the action's lock: the ban stops for good (FAILED with UNDONE, not an outage)."""
    _stop_for_good(
        action,
        failure=UNDONE,
        why="undone",
        reason="this ban was undone, so the rest of its players are not banned.",
    )


def _stop_for_good(action: SegmentAction, *, failure: str, why: str, reason: str) -> None:
    """Under the action's lock: the run stops as FAILED with `failure`, not an outage (the
    sweep leaves it), audited as `segment.stop` by the system with how far it got and why."""
    before = {"status": action.status, "processed": action.processed, "changed": action.changed}
    action.status = SegmentAction.Status.FAILED
    action.failure = failure
    action.failure_transient = False
    action.save(update_fields=["status", "failure", "failure_transient"])
    record_action(
        actor=None,
        game=action.game,
        action="segment.stop",
        target=action,
        before=before,
        after={"status": action.status, "failure": failure},
        reason=f"Stopped after {action.processed} of {action.total} player(s): {reason}"[:300],
    )
    logger.warning("segment action %s stopped: %s", action.pk, why)


@transaction.atomic
def _run_chunk(action_id: int, careful: bool = True) -> int:
    """The next players after the action's last one: each player's change in a savepoint (a
    refusal, say a cap, skips that player only); the progress in the same transaction, so a
    crash redoes the whole chunk or none of it. Returns how many players it took, or STOPPED:
    the operator it acts as may no longer do it (checked at every chunk, `lost_authority`)."""
    action = (
        SegmentAction.objects.select_for_update(of=("self",))
        .select_related("game", "created_by", "run_by")
        .get(pk=action_id)
    )
    if action.status == SegmentAction.Status.FAILED and action.failure in (LOST_AUTHORITY, UNDONE):
        return STOPPED  # another run of it stopped it meanwhile
    if action.kind == SegmentAction.Kind.BAN and _undone(action):
        _stop_undone(action)
        return STOPPED
    if why := lost_authority(action, lock=True):
        _stop_for_lost_authority(action, why)
        return STOPPED
    if not action.members_frozen:
        _freeze_members(action)
    rows = (
        action.members.filter(player_id__gt=action.last_player_id)
        .order_by("player_id")
        .values_list("player_id", "banned_until", "ban_reason")[:CHUNK_SIZE]
    )
    frozen_bans = {player_id: FrozenBan(until, reason) for player_id, until, reason in rows}
    members = sorted(frozen_bans)
    if not members:
        return 0
    # A member deleted since (with its game's data) is simply not there any more; one erased
    # since is skipped (nothing is written under a tombstone).
    chunk = _chunk_players(action, members)
    change = _change_of(action)
    placed = _placed_by(action.undoes_id, chunk) if action.undoes_id else None
    # Rows made up front for a grant (one statement for the chunk); a revoke makes none: a
    # player without the row has nothing to give back, and an empty row would be kept for them.
    if change is not None and change.delta > 0 and chunk:
        prepare_holdings(players=chunk, changes=[change])
    changed, skipped = 0, 0
    problems: list[dict] = []
    for player in chunk:
        try:
            # In a careful run each player's change has its own savepoint (apply_changes',
            # ban_player's): a refusal (a cap, too little to revoke) undoes that player's only.
            if _apply_to(
                action, player, change, frozen_bans[player.pk], savepoint=careful, placed=placed
            ):
                changed += 1
            else:
                skipped += 1
        except DomainError as error:
            if not careful:
                raise _Refused from error
            skipped += 1
            if len(action.problems) + len(problems) < MAX_PROBLEMS:
                problems.append({"player": player.pk, "code": error.code, "detail": error.detail})
    action.processed += len(members)
    action.changed += changed
    action.skipped += skipped + len(members) - len(chunk)
    action.last_player_id = members[-1]
    action.problems = [*action.problems, *problems]
    action.progressed_at = timezone.now()
    # It moves again: should it stop later, the sweep has all its resumes (from the shortest
    # wait) for that stop. Each resume that gets this far takes CHUNK_SIZE players off what is
    # left, so an action that keeps stopping after some progress still ends.
    action.auto_resumes = 0
    action.next_auto_resume_at = None
    action.save(
        update_fields=[
            "processed", "changed", "skipped", "last_player_id", "problems", "progressed_at",
            "auto_resumes", "next_auto_resume_at",
        ]
    )  # fmt: skip
    return len(members)


# A value move's chunk reads its players FOR SHARE until it commits, in id order (as every chunk
# takes them): the ledger's writes take only KEY SHARE on a player, which an erasure's NO KEY
# UPDATE does not hold up, so an erasure committing between an unlocked read of the chunk and a
# player's grant left a ledger entry on the tombstone. Now an erasure either waits for the
# chunk, or has committed and the chunk (its WHERE read again after the wait) leaves that
# player out. A login of the chunk's players (its UPDATE of the player) waits for the chunk's
# commit, as with a segment ban; a purchase or a claim (FOR SHARE too) does not.
CHUNK_PLAYERS_FOR_SHARE = (
    f"SELECT * FROM {connection.ops.quote_name(Player._meta.db_table)}"  # noqa: S608
    " WHERE game_id = %s AND id = ANY(%s) AND erased_at IS NULL ORDER BY id FOR SHARE"
)
VALUE_MOVES = (SegmentAction.Kind.GRANT, SegmentAction.Kind.REVOKE)


def _chunk_players(action: SegmentAction, members: list[int]) -> list[Player]:
    """The chunk's players still there and not erased, in id order; for a value move, locked
    (CHUNK_PLAYERS_FOR_SHARE). SQLite serialises its writes whole."""
    if action.kind in VALUE_MOVES and connection.vendor == "postgresql":
        players = list(Player.objects.raw(CHUNK_PLAYERS_FOR_SHARE, [action.game_id, members]))
        for player in players:
            player.game = action.game  # every member is of the action's game
        return players
    chunk = Player.objects.filter(game=action.game, pk__in=members, erased_at__isnull=True)
    if action.undoes_id:
        # An undo reads whose ban is the undone run's (_placed_by) from the bans' history: the
        # chunk's players locked first (as unban_player locks each, in id order), so no ban
        # or unban of theirs commits between that read and the unban.
        chunk = chunk.select_for_update(of=("self",))
    return list(chunk.select_related("game").order_by("pk"))


PLAYER_LABEL = Player._meta.label_lower
BAN_EVENTS = ("player.ban", "player.unban")


def _placed_by(ban_action_id: int, players: list[Player]) -> dict[int, FrozenBan]:
    """Which of these players have the ban the segment run `ban_action_id` placed, still, each
    with the ban they had before that run (written down with its members): their
    last ban or unban in the audit log (every ban and unban writes one, in its transaction) is
    that run's ban (its entry names the run, ban_player's `segment_action`). A ban set by hand,
    also one equal to the run's (a permanent ban with the same reason), or one set again after
    the run's was lifted, names no run or is later: not the run's. Two queries for the chunk,
    on the audit log's per-target index, and one for the bans before."""
    if not players:
        return {}
    last = (
        AuditLogEntry.objects.filter(
            target_type=PLAYER_LABEL,
            target_id__in=[str(player.pk) for player in players],
            action__in=BAN_EVENTS,
        )
        .values("target_id")
        .annotate(last=Max("pk"))
        .values("last")
    )
    placed = [
        int(target_id)
        for target_id in AuditLogEntry.objects.filter(
            pk__in=last, action="player.ban", after__segment_action=ban_action_id
        ).values_list("target_id", flat=True)
    ]
    if not placed:
        return {}
    before = SegmentMember.objects.filter(action_id=ban_action_id, player_id__in=placed)
    return {
        player_id: FrozenBan(until, reason)
        for player_id, until, reason in before.values_list(
            "player_id", "banned_until", "ban_reason"
        )
    }


def _change_of(action: SegmentAction) -> Change | None:
    if action.kind not in VALUE_MOVES:
        return None
    sign = 1 if action.kind == SegmentAction.Kind.GRANT else -1
    delta = sign * action.quantity
    if action.target_kind == "currency":
        return Change("currency", action.target_code, delta)
    return Change("item", action.target_code, delta)


class FrozenBan(NamedTuple):
    """A member's ban when the action was submitted (SegmentMember)."""

    until: datetime | None
    # None: not written down (members frozen before it was kept): only the end is compared.
    reason: str | None


def _is_the_frozen_ban(player: Player, frozen: FrozenBan) -> bool:
    """The player's ban is still the one the action saw: its end, and its reason when that was
    written down (every permanent ban ends at the same moment: another operator's permanent
    ban set since differs only by its reason)."""
    if player.banned_until != frozen.until:
        return False
    return frozen.reason is None or player.ban_reason == frozen.reason


def _apply_to(
    action: SegmentAction,
    player: Player,
    change: Change | None,
    ban_when_submitted: FrozenBan,
    savepoint: bool = True,
    placed: dict[int, FrozenBan] | None = None,
) -> bool:
    """One player's share of the action; False when there was nothing to change. `placed` (an
    undo): the players whose ban is still the undone run's, with the ban each had before it."""
    actor = acting_operator(action)
    if change is not None:
        # The key is the action's: a player's chunk commits with the progress past that player,
        # so no earlier call can have used it (the unique key would refuse it anyway).
        apply_changes(
            player=player,
            changes=[change],
            reason="operator_grant" if change.delta > 0 else "operator_revoke",
            idempotency_key=f"segment:{action.pk}",
            reference=f"segment #{action.pk}: {action.reason}"[:120],
            actor=actor,
            savepoint=savepoint,
            new_key=True,
        )
        return True
    if action.kind == SegmentAction.Kind.BAN:
        # Only ever longer: a player banned as long or longer (a permanent ban for fraud)
        # keeps that ban and its reason.
        until = action.ban_until or PERMANENT_BAN_UNTIL
        if player.is_banned and player.banned_until >= until:  # type: ignore[operator]
            return False
        banned = ban_player(
            player=player, reason=action.reason, until=action.ban_until, actor=actor,
            extend_only=True, segment_action=action.pk,
        )  # fmt: skip
        # The check above read the player unlocked: a ban as long or longer set since (another
        # operator's) is kept by ban_player under the player's lock, and changed nothing here.
        return banned.banned_until == until and banned.ban_reason == stored_reason(action.reason)
    if not player.is_banned:
        return False
    if placed is not None and player.pk not in placed:
        return False  # an undo: not the ban the undone run placed (one by hand, one set since)
    if action.bans_frozen:
        if not _is_the_frozen_ban(player, ban_when_submitted):
            return False  # banned (again) since the action was submitted: not the ban it lifts
        # The chunk read the player unlocked: read the ban again under the lock unban_player
        # takes next anyway, so a ban another operator set since that read stays too.
        locked = Player.objects.select_for_update(of=("self",)).filter(pk=player.pk).first()
        if locked is None or not _is_the_frozen_ban(locked, ban_when_submitted):
            return False
    if placed is not None and _restore_ban_before(action, player, placed[player.pk], actor):
        return True
    unban_player(player=player, reason=action.reason, actor=actor)
    return True


def _restore_ban_before(
    action: SegmentAction, player: Player, before: FrozenBan, actor: User | None
) -> bool:
    """An undo of a segment ban that lengthened a shorter ban (say a week's, by hand): that ban
    comes back, unless it has ended since. False: there was none to restore (lifted instead)."""
    if before.until is None or before.until <= timezone.now():
        return False
    ban_player(
        player=player,
        reason=before.reason or f"restored by segment #{action.pk}: {action.reason}",
        until=before.until,
        actor=actor,
    )
    return True
