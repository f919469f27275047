"""Writes of cloud save. Every write — a player's PUT, DELETE or batch, a game server's, an
operator's restore — goes through `_apply`: check the rules and sizes, lock the documents in key
order, check each precondition against the locked version, then write documents, the player's
byte count and the version history in the same transaction. A refusal changes nothing."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.db import IntegrityError, OperationalError, connection, transaction
from django.utils import timezone
from psycopg.errors import DeadlockDetected

from apps.accounts.errors import AccountDeleted, PlayerErased
from apps.accounts.models import Player
from apps.audit.services import record_action
from apps.cloudsave.errors import (
    DocumentTooLarge,
    NothingToRestore,
    PlayerStorageFull,
    PreconditionFailed,
    SaveKeyNotWritable,
    SaveNotFound,
    TooManyDocuments,
)
from apps.cloudsave.models import (
    MAX_VERSIONS_KEPT,
    Document,
    DocumentVersion,
    SaveKey,
    SaveReceipt,
    SaveUsage,
)
from apps.cloudsave.policy import SavePolicy, save_policy
from apps.cloudsave.selectors import document_body, old_tombstone_ids
from gamingpanel.idempotency import IdempotencyKeyReused, request_fingerprint
from gamingpanel.retention import kept_since
from gamingpanel.sql import (
    CompiledInsert,
    CompiledInstances,
    CompiledQuery,
    Statement,
    row_lock,
    run_together,
)
from gamingpanel.storable import stored_json

Source = DocumentVersion.Source
MAX_BATCH_WRITES = 25

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Precondition:
    """What the writer last saw: the document at `version` (If-Match), or no document
    (`create_only`, If-None-Match: *)."""

    version: int | None = None
    create_only: bool = False

    def holds(self, document: Document | None) -> bool:
        live = document is not None and not document.deleted
        if self.create_only:
            return not live
        return live and document is not None and document.version == self.version

    def as_json(self) -> dict[str, Any]:
        return {"version": self.version, "create_only": self.create_only}


@dataclass(frozen=True)
class Write:
    key: str
    value: Any  # None deletes the document
    precondition: Precondition


@dataclass(frozen=True)
class WriteResult:
    """An answer of a write, as first given and as replayed for its Idempotency-Key."""

    status: int
    body: Any


def encoded_size(value: Any) -> int:
    """Bytes of a value as it is counted against the limits: as jsonb keeps it
    (gamingpanel.storable.stored_json)."""
    return stored_json(value)[1]


def put_document(
    *,
    player: Player,
    key: str,
    value: Any,
    precondition: Precondition,
    source: str,
    idempotency_key: str | None,
) -> WriteResult:
    """200 with the new version, 201 when it created the document."""
    write = Write(key, value, precondition)

    def answer() -> WriteResult:
        [document] = _apply(player=player, writes=[write], source=source, batch=False)
        return WriteResult(201 if precondition.create_only else 200, document_body(document))

    request = {"put": key, "value": value, **precondition.as_json()}
    return _once(player, source, idempotency_key, request, answer)


def delete_document(
    *,
    player: Player,
    key: str,
    precondition: Precondition,
    source: str,
    idempotency_key: str | None,
) -> WriteResult:
    """204; the document stays as a tombstone whose version the next write continues."""
    write = Write(key, None, precondition)

    def answer() -> WriteResult:
        _apply(player=player, writes=[write], source=source, batch=False)
        return WriteResult(204, None)

    request = {"delete": key, **precondition.as_json()}
    return _once(player, source, idempotency_key, request, answer)


def write_batch(
    *, player: Player, writes: list[Write], source: str, idempotency_key: str | None
) -> WriteResult:
    """All the writes or none: one stale precondition refuses the batch (412 with every
    conflict)."""

    def answer() -> WriteResult:
        documents = _apply(player=player, writes=writes, source=source, batch=True)
        return WriteResult(200, {"saves": [document_body(d) for d in documents]})

    request = {
        "batch": [
            {"key": w.key, "value": w.value, **w.precondition.as_json()}
            for w in sorted(writes, key=lambda w: w.key)
        ]
    }
    return _once(player, source, idempotency_key, request, answer)


def restore_version(
    *, actor: User, player: Player, key: str, version: int, reason: str, seen_version: int
) -> Document:
    """An operator writes a kept version back as the document's newest version (audited), if
    the document is still at `seen_version`, the version the operator's page showed: a write
    made since (by the player, or this same restore sent twice) is a 412, not overwritten."""
    with transaction.atomic():
        # Locked before `seen_version` is compared: a deleted document's precondition below
        # (create only) passes for any deletion, so a write in between would go unnoticed.
        document = Document.objects.select_for_update().filter(player=player, key=key).first()
        kept = DocumentVersion.objects.filter(document=document, version=version).first()
        if document is None or kept is None:
            raise SaveNotFound(f"No kept version {version} of {key!r}.")
        if kept.value is None:
            raise NothingToRestore(
                f"Version {version} of {key!r} is its deletion: restore a version with a value."
            )
        if document.version != seen_version:
            raise PreconditionFailed(
                f"{key!r} changed since the page was loaded (it is at version "
                f"{document.version}); reload it and choose again.",
                current=None if document.deleted else document_body(document),
            )
        before = {"version": document.version, "deleted": document.deleted}
        # Checked again by _apply on the row this transaction holds.
        precondition = (
            Precondition(create_only=True)
            if document.deleted
            else Precondition(version=seen_version)
        )
        write = Write(key, kept.value, precondition)
        [restored] = _apply(player=player, writes=[write], source=Source.OPERATOR, batch=False)
        record_action(
            actor=actor,
            game=player.game,
            action="cloudsave.restore_version",
            target=restored,
            before=before,
            after={"version": restored.version, "restored_from": version},
            reason=reason,
        )
    return restored


def _once(
    player: Player,
    source: str,
    idempotency_key: str | None,
    request: dict[str, Any],
    answer: Callable[[], WriteResult],
) -> WriteResult:
    """Run `answer` in one transaction; under an Idempotency-Key its first successful answer
    is stored with it and answered again to every retry. A refusal stores nothing, so its
    retry is judged again."""
    if idempotency_key is None:
        with transaction.atomic():
            return answer()
    key = f"{source}:{idempotency_key}"  # a server's keys never meet its players'
    fingerprint = request_fingerprint(request)
    try:
        with transaction.atomic():
            # First statement: a concurrent request with this key waits on this insert until
            # we commit, then fails on the unique key and answers what we answered.
            receipt = SaveReceipt(player=player, idempotency_key=key, request_hash=fingerprint)
            INSERT_RECEIPT.insert(receipt)
            result = answer()
            body = _BODY.get_db_prep_save(result.body, connection)
            STORE_ANSWER.execute([result.status, body, _answer_text(result.body), receipt.pk])
            return result
    except IntegrityError:
        first = SaveReceipt.objects.filter(player=player, idempotency_key=key).first()
        if first is None:
            raise
        if first.request_hash != fingerprint:
            raise IdempotencyKeyReused(
                "This Idempotency-Key was used with a different request; use a new key."
            ) from None
        return WriteResult(first.status, _replayed_answer(first))


def _answer_text(body: Any) -> str | None:
    """The answer's JSON text, kept beside its object (SaveReceipt.answer_text): a jsonb object
    keeps neither its keys' order (shortest first) nor a number's spelling (`1e+20` comes back
    as an integer), so a replay of the object alone was equal but not byte-identical to the
    first answer. No statement more: the same UPDATE stores both."""
    return None if body is None else json.dumps(body, ensure_ascii=False)


def _replayed_answer(first: SaveReceipt) -> Any:
    """The first answer's body again, its keys in their first order; a receipt the previous
    release wrote has no text, and is answered as its object (jsonb's order)."""
    return first.body if first.answer_text is None else json.loads(first.answer_text)


def prune_receipts(*, now: datetime | None = None, batch: int = 5_000) -> int:
    """Forget Idempotency-Key receipts older than CLOUDSAVE_RECEIPT_DAYS (daily, from beat):
    they hold whole documents, and a retry comes within seconds or hours, not weeks. A key sent
    again after that is a new write, judged by its If-Match like any other. Deleted in batches
    so no statement holds many rows locked; answers how many went."""
    cutoff = kept_since(settings.CLOUDSAVE_RECEIPT_DAYS, now=now)
    if cutoff is None:
        return 0
    pruned = 0
    while True:
        ids = list(
            SaveReceipt.objects.filter(created_at__lt=cutoff).values_list("pk", flat=True)[:batch]
        )
        if not ids:
            return pruned
        pruned += SaveReceipt.objects.filter(pk__in=ids).delete()[0]


def prune_tombstones(*, now: datetime | None = None, batch: int = 1_000) -> int:
    """Forget documents deleted more than CLOUDSAVE_TOMBSTONE_DAYS ago (daily, from beat),
    with their kept versions: an operator can restore a deleted document until then, not
    after. Each stops counting against the player's `max_documents`, and its version is kept
    as the player's `pruned_version`, above which every document created later starts: a
    device still holding a version of the pruned key gets a 412 (`current` null, or the new
    document), never finds that version on a new document and overwrites it.

    A batch of tombstones at a time, walked by id, each batch deleted in its own short
    transaction. The delete names the condition again (still deleted, still old), not just the
    ids: a key written again after the ids were read is a live document (or a young tombstone)
    and is kept. On PostgreSQL it takes only rows no one holds (SKIP LOCKED): a write holding a
    tombstone (it locks its keys in key order, the prune would in id order: a deadlock) keeps
    it, for the next day's prune; a write that comes to a row after the prune took it waits for
    the prune's commit and finds no document, so it creates one above `pruned_version`. A
    batch that still meets a deadlock (a player deleted meanwhile, who locks the kept versions
    first) is rolled back and left to the next day. Answers how many documents went."""
    cutoff = kept_since(settings.CLOUDSAVE_TOMBSTONE_DAYS, now=now)
    if cutoff is None:
        return 0
    pruned, after = 0, 0
    while ids := old_tombstone_ids(after=after, cutoff=cutoff, batch=batch):
        try:
            with transaction.atomic():
                gone = DELETE_TOMBSTONES.rows([after, ids[-1], True, cutoff])
                if gone:
                    _forget_tombstones(gone)
        except OperationalError as error:
            if not isinstance(error.__cause__, DeadlockDetected):
                raise
            logger.warning("cloud-save prune: a batch met a deadlock; left to the next run")
            gone = []
        pruned += len(gone)
        after = ids[-1]
    return pruned


def _forget_tombstones(gone: list[tuple[Any, ...]]) -> None:
    """The kept versions of the tombstones just deleted, and each player's counts."""
    DocumentVersion.objects.filter(document_id__in=[row[0] for row in gone]).delete()
    per_player: dict[int, tuple[int, int]] = {}
    for _id, player_id, version in gone:
        count, highest = per_player.get(player_id, (0, 0))
        per_player[player_id] = (count + 1, max(highest, version))
    # Player order: two runs at once (a task redelivered) never deadlock on the usage rows.
    run_together(
        [
            (UNCOUNT_TOMBSTONES, [count, count, highest, highest, player_id])
            for player_id, (count, highest) in sorted(per_player.items())
        ]
    )


# The statements of every write, compiled once (gamingpanel.sql): a PUT runs each of them.
_FOR_UPDATE = row_lock("FOR UPDATE")
LOCK_DOCUMENT = CompiledInstances.compile(
    "SELECT {columns} FROM {document} WHERE player_id = %s AND key = %s" + _FOR_UPDATE,  # noqa: S608
    Document,
    document=Document,
)
UPDATE_DOCUMENT = CompiledQuery.compile(
    "UPDATE {document} SET version = %s, value = %s, size = %s, deleted = %s, updated_at = %s"
    " WHERE id = %s",
    document=Document,
)
INSERT_DOCUMENT = CompiledInsert.compile(Document)
INSERT_VERSION = CompiledInsert.compile(DocumentVersion)
# A bounded range, not "every version up to": scanning from the first version would walk the
# index entries of every version pruned before (dead rows until a vacuum), so each write of an
# often written document cost more than the last. The bound loses nothing: before a write the
# document holds at most MAX_VERSIONS_KEPT + 1 versions below the new one (a deletion is kept
# besides the setting's versions), whatever the setting was.
PRUNE_VERSIONS = CompiledQuery.compile(
    "DELETE FROM {version} WHERE document_id = %s AND version BETWEEN %s AND %s",
    version=DocumentVersion,
)
# What the prune of tombstones runs (prune_tombstones): the delete is conditional, see there.
_SKIP_LOCKED = (
    " ORDER BY id FOR UPDATE SKIP LOCKED"
    if connection.features.has_select_for_update_skip_locked
    else ""
)
DELETE_TOMBSTONES = CompiledQuery.compile(
    "DELETE FROM {document} WHERE id IN (SELECT id FROM {document} WHERE id > %s AND id <= %s"  # noqa: S608
    f" AND deleted = %s AND updated_at < %s{_SKIP_LOCKED}) RETURNING id, player_id, version",
    document=Document,
)
# Never below 0 (the table's check): a count short of the player's documents (documents a
# process of the release before the count was kept wrote while cloudsave.0004 ran) failed the
# batch's delete on the check every night, and the prune never went past it.
UNCOUNT_TOMBSTONES = CompiledQuery.compile(
    "UPDATE {usage} SET documents = CASE WHEN documents > %s THEN documents - %s ELSE 0 END,"
    " pruned_version = CASE WHEN pruned_version < %s THEN %s ELSE pruned_version END"
    " WHERE player_id = %s",
    usage=SaveUsage,
)
# With the player's erasure (accounts' erased_at), under a share of the player's row: an
# erasure (which locks the row, after the player's documents) either waits for this write and
# then deletes what it made, or has committed and the write is refused.
_FOR_SHARE = row_lock("FOR SHARE")
PRUNED_VERSION = CompiledQuery.compile(
    "SELECT (SELECT pruned_version FROM {usage} WHERE player_id = {player}.id), erased_at"  # noqa: S608
    " FROM {player} WHERE id = %s" + _FOR_SHARE,
    usage=SaveUsage,
    player=Player,
)
INSERT_RECEIPT = CompiledInsert.compile(SaveReceipt)
STORE_ANSWER = CompiledQuery.compile(
    "UPDATE {receipt} SET status = %s, body = %s, answer_text = %s WHERE id = %s",
    receipt=SaveReceipt,
)
_VALUE = Document._meta.get_field("value")
_BODY = SaveReceipt._meta.get_field("body")


def _apply(*, player: Player, writes: list[Write], source: str, batch: bool) -> list[Document]:
    """Call inside a transaction. The written documents, in key order."""
    policy = save_policy(game_id=player.game_id)
    sizes = _checked_sizes(policy, writes, source)
    writes = sorted(writes, key=lambda w: w.key)
    # Lock in key order, so two batches of one player never deadlock.
    existing = {}
    for write in writes:
        document = LOCK_DOCUMENT.first([player.pk, write.key])
        if document is not None:
            existing[write.key] = document
    _check_preconditions(player, writes, existing, batch=batch)

    now = timezone.now()
    delta = 0
    first_version: int | None = None  # of a new document: read once, when one is made
    created: list[Document] = []
    changed: list[Document] = []
    for write in writes:
        document = existing.get(write.key)
        size = sizes[write.key]
        if document is None:
            if write.value is None:
                raise SaveNotFound(f"No document {write.key!r} to delete.")
            if first_version is None:
                first_version = _first_version(player, source)
            document = Document(
                game_id=player.game_id,
                player_id=player.pk,
                key=write.key,
                version=first_version,
                value=write.value,
                size=size,
                created_at=now,
                updated_at=now,
            )
            created.append(document)
        else:
            if document.deleted and write.value is None:
                raise SaveNotFound(f"No document {write.key!r} to delete.")
            delta -= 0 if document.deleted else document.size
            document.version += 1
            document.value = write.value
            document.size = size
            document.deleted = write.value is None
            document.updated_at = now
            changed.append(document)
        delta += size

    if created:
        _insert(player, created, batch=batch)
    # The rest needs no answer in between: one round trip on PostgreSQL (gamingpanel.sql).
    statements: list[Statement] = [
        (
            UPDATE_DOCUMENT,
            [
                document.version,
                _VALUE.get_db_prep_save(document.value, connection),
                document.size,
                document.deleted,
                now,
                document.pk,
            ],
        )
        for document in changed
    ]
    counts = bool(delta or created)
    if counts:
        if delta > policy.max_player_bytes:
            raise _storage_full(policy.max_player_bytes)
        if len(created) > policy.max_documents:
            raise _too_many_documents(policy.max_documents)
        counted = len(statements)
        statements.append((COUNT_USAGE, _count_usage_params(player.pk, delta, created, policy)))
    written = sorted(created + changed, key=lambda d: d.key)
    statements += _history(written, source=source, now=now, versions_kept=policy.versions_kept)
    results = run_together(statements)
    if counts and not results[counted]:
        # Past a limit: raising rolls back the caller's transaction, and with it the
        # statements that ran beside the count.
        usage = SaveUsage.objects.get(player_id=player.pk)
        if created and usage.documents + len(created) > policy.max_documents:
            raise _too_many_documents(policy.max_documents)
        raise _storage_full(policy.max_player_bytes)
    return written


def _first_version(player: Player, source: str) -> int:
    """A new document's version: 1, or above every version of the player's pruned tombstones
    (SaveUsage.pruned_version). Read after the documents' locks: a prune that held the
    tombstone of one of these keys has committed by then, and its version is counted."""
    row = PRUNED_VERSION.row([player.pk])
    if row is None or row[1] is not None:
        # Erased (or deleted) since the request's token or player was checked: nothing is
        # saved for it. The player's own token is revoked by now; a game server is told why.
        if source == Source.PLAYER:
            raise AccountDeleted("This account was deleted.")
        raise PlayerErased(f"Player {player.pk}'s account was erased.", player_id=player.pk)
    return (row[0] or 0) + 1


def _checked_sizes(policy: SavePolicy, writes: list[Write], source: str) -> dict[str, int]:
    sizes = {}
    for write in writes:
        rule = policy.rule(write.key)
        # A key the game stopped taking (it turned undeclared keys off) may still be deleted:
        # its documents were written while it was taken, and they count against the player's
        # bytes until they go.
        undeclared_delete = rule is None and write.value is None
        if (
            source != Source.OPERATOR
            and not undeclared_delete
            and (rule is None or (rule.writer == SaveKey.Writer.SERVER and source != Source.SERVER))
        ):
            who = "game servers" if rule is not None else "nobody: the game declares its keys"
            raise SaveKeyNotWritable(f"{write.key!r} is written by {who}.", key=write.key)
        size = 0 if write.value is None else encoded_size(write.value)
        if size > policy.max_document_bytes:
            raise DocumentTooLarge(
                f"{write.key!r} is {size} bytes; this game takes at most "
                f"{policy.max_document_bytes} per document.",
                key=write.key,
                size=size,
                limit=policy.max_document_bytes,
            )
        sizes[write.key] = size
    return sizes


def _check_preconditions(
    player: Player, writes: list[Write], existing: dict[str, Document], *, batch: bool
) -> None:
    stale = [w.key for w in writes if not w.precondition.holds(existing.get(w.key))]
    if not stale:
        return
    absent = [w.key for w in writes if w.key not in existing]
    if batch and absent:
        # A refused batch names every conflict. A key that had no document when it was locked
        # (nothing to lock) may have been created since, by a write that committed while this
        # one waited on the lock of a later key: read again, it is a conflict too, so one merge
        # settles the batch instead of a retry that meets a second 412.
        existing = existing | {
            d.key: d for d in Document.objects.filter(player_id=player.pk, key__in=absent)
        }
        refused = set(stale)
        stale = [
            w.key
            for w in writes
            if w.key in refused or not w.precondition.holds(existing.get(w.key))
        ]
    raise _precondition_failed(stale, existing, batch=batch)


def _precondition_failed(
    keys: list[str], existing: dict[str, Document], *, batch: bool
) -> PreconditionFailed:
    def current(key: str) -> dict[str, Any] | None:
        document = existing.get(key)
        return None if document is None or document.deleted else document_body(document)

    detail = "The document changed since the version you sent; merge with `current` and retry."
    if batch:
        conflicts = [{"key": key, "current": current(key)} for key in keys]
        return PreconditionFailed(
            "Some documents changed; nothing was written.", conflicts=conflicts
        )
    return PreconditionFailed(detail, current=current(keys[0]))


def _insert(player: Player, documents: list[Document], *, batch: bool) -> None:
    try:
        with transaction.atomic():  # a savepoint: a lost race leaves the transaction usable
            for document in documents:
                INSERT_DOCUMENT.insert(document)
    except IntegrityError:
        # Another device created some of these keys after we looked: it wins, we are stale for
        # those (and only those: the others nobody created).
        keys = [d.key for d in documents]
        now_there = {d.key: d for d in Document.objects.filter(player_id=player.pk, key__in=keys)}
        if not now_there:
            raise  # not a lost race (the player deleted meanwhile, say)
        raise _precondition_failed(sorted(now_there), now_there, batch=batch) from None


# One statement: add a write's bytes and new documents to the player's counts unless that passes
# one of the game's limits (shrinking, or creating none, always passes that limit); no row back
# when it would. Its row lock serialises concurrent writes of one player. The first write's
# insert is checked before (a delta or a batch alone over a limit is refused without a query).
COUNT_USAGE = CompiledQuery.compile(
    """
    INSERT INTO {usage} (player_id, bytes, documents) VALUES (%s, %s, %s)
    ON CONFLICT (player_id) DO UPDATE
       SET bytes = {usage}.bytes + %s, documents = {usage}.documents + %s
     WHERE (%s <= 0 OR {usage}.bytes + %s <= %s)
       AND (%s = 0 OR {usage}.documents + %s <= %s)
    RETURNING bytes
    """,
    usage=SaveUsage,
)


def _count_usage_params(
    player_id: int, delta: int, created: list[Document], policy: SavePolicy
) -> list[int]:
    new = len(created)
    return [
        *(player_id, max(delta, 0), new, delta, new),
        *(delta, delta, policy.max_player_bytes),
        *(new, new, policy.max_documents),
    ]


def _too_many_documents(limit: int) -> TooManyDocuments:
    return TooManyDocuments(
        f"This write would give the player more than {limit} documents (deleted ones count: "
        "their keys can be written again); use fewer keys.",
        limit=limit,
    )


def _storage_full(limit: int) -> PlayerStorageFull:
    return PlayerStorageFull(
        f"This write would take the player's saves past {limit} bytes; delete or shrink some.",
        limit=limit,
    )


def _history(
    documents: list[Document], *, source: str, now: Any, versions_kept: int
) -> list[Statement]:
    """Each written version kept, and the versions past the last `versions_kept` let go. A
    deletion is kept besides them, not as one of them: it holds no value to restore, and counted
    it pushed out a value (at 1, the only one: a deleted document could not be brought back)."""
    statements: list[Statement] = []
    for document in documents:
        kept = DocumentVersion(
            document_id=document.pk,
            version=document.version,
            value=None if document.deleted else document.value,
            size=document.size,
            source=source,
            created_at=now,
        )
        statements.append(INSERT_VERSION.insert_statement(kept))
        keep = versions_kept + 1 if document.deleted else versions_kept
        if document.version > keep:
            # From MAX_VERSIONS_KEPT + 1 below: a deletion at the largest setting left as many.
            oldest_kept = document.version - MAX_VERSIONS_KEPT - 1
            statements.append((PRUNE_VERSIONS, [document.pk, oldest_kept, document.version - keep]))
    return statements
