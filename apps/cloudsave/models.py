"""Cloud save: named JSON documents per player, each with a version that every write raises,
the last few versions kept for operators, and per-game rules (who writes a key, who reads it,
how much a document and a player may hold)."""

from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from apps.accounts.models import Game, Player

# Not "." or "..": in a URL (player/saves/..) clients and proxies resolve them away, so such a
# document could be written in a batch and then never read, written or deleted on its own.
KEY_PATTERN = r"^(?!\.\.?$)[A-Za-z0-9_.-]{1,64}$"
KEY_RULE = "1 to 64 letters, digits, '_', '.' or '-', not '.' or '..'."
key_validator = RegexValidator(KEY_PATTERN, KEY_RULE)

DEFAULT_MAX_DOCUMENT_BYTES = 64 * 1024
DEFAULT_MAX_PLAYER_BYTES = 1024 * 1024
DEFAULT_VERSIONS_KEPT = 5
DEFAULT_MAX_DOCUMENTS = 1000
MAX_VERSIONS_KEPT = 100


class SaveSettings(models.Model):
    """A game's limits. A game without a row has the defaults."""

    game = models.OneToOneField(Game, on_delete=models.CASCADE, related_name="save_settings")
    max_document_bytes = models.PositiveIntegerField(
        default=DEFAULT_MAX_DOCUMENT_BYTES,
        validators=[MinValueValidator(1)],
        help_text="Largest value of one document (compact JSON, UTF-8 bytes).",
    )
    max_player_bytes = models.PositiveBigIntegerField(
        default=DEFAULT_MAX_PLAYER_BYTES,
        validators=[MinValueValidator(1)],
        help_text="All of one player's documents together.",
    )
    max_documents = models.PositiveIntegerField(
        default=DEFAULT_MAX_DOCUMENTS,
        validators=[MinValueValidator(1)],
        help_text="Keys one player may have, deleted ones included until they are pruned "
        "(CLOUDSAVE_TOMBSTONE_DAYS after the delete): until then a deleted document keeps its "
        "version and kept versions (for a restore), and writing its key again reuses it.",
    )
    versions_kept = models.PositiveSmallIntegerField(
        default=DEFAULT_VERSIONS_KEPT,
        validators=[MinValueValidator(1), MaxValueValidator(MAX_VERSIONS_KEPT)],
        help_text="Versions of each document kept for operators to inspect and restore.",
    )
    undeclared_keys = models.BooleanField(
        default=True,
        help_text="Keys without a rule below are private and written by the client. Off: only "
        "declared keys may be written.",
    )

    class Meta:
        verbose_name = verbose_name_plural = "cloud save settings"

    def __str__(self) -> str:
        return f"cloud save settings of {self.game}"


class SaveKey(models.Model):
    """Who writes one key and who reads it."""

    class Writer(models.TextChoices):
        CLIENT = "client", "the player's client"
        SERVER = "server", "game servers only (X-Server-Key)"

    game = models.ForeignKey(Game, on_delete=models.CASCADE, related_name="save_keys")
    key = models.CharField(max_length=64, validators=[key_validator])
    writer = models.CharField(max_length=10, choices=Writer.choices, default=Writer.CLIENT)
    public = models.BooleanField(
        default=False, help_text="Other players of the game may read it (a public profile card)."
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["game", "key"], name="one_rule_per_save_key")
        ]

    def __str__(self) -> str:
        return self.key


class Document(models.Model):
    """One key of one player. Deleting keeps the row as a tombstone (`deleted`), so the version
    keeps rising and a device that saw the old version learns of the delete. Tombstones are
    pruned CLOUDSAVE_TOMBSTONE_DAYS after the delete (services.prune_tombstones)."""

    game = models.ForeignKey(Game, on_delete=models.CASCADE, related_name="+")
    player = models.ForeignKey(Player, on_delete=models.CASCADE, related_name="save_documents")
    key = models.CharField(max_length=64)
    version = models.PositiveIntegerField()
    value = models.JSONField(null=True)
    size = models.PositiveIntegerField(help_text="Bytes of the value as compact JSON.")
    deleted = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["player", "key"], name="one_document_per_player_key"),
            models.CheckConstraint(condition=Q(version__gte=1), name="document_version_positive"),
        ]
        # The daily prune walks the tombstones by id, not the whole table.
        indexes = [models.Index(fields=["id"], condition=Q(deleted=True), name="save_tombstones")]

    def __str__(self) -> str:
        return f"{self.key} v{self.version} of player #{self.player_id}"


class DocumentVersion(models.Model):
    """One written version of a document (the newest included); the game's `versions_kept`
    newest are kept."""

    class Source(models.TextChoices):
        PLAYER = "player", "player"
        SERVER = "server", "game server"
        OPERATOR = "operator", "operator"

    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="versions")
    version = models.PositiveIntegerField()
    value = models.JSONField(null=True, help_text="Null: this version deleted the document.")
    size = models.PositiveIntegerField()
    source = models.CharField(max_length=10, choices=Source.choices)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["document", "version"], name="one_row_per_document_version"
            )
        ]
        ordering = ["-version"]

    def __str__(self) -> str:
        return f"v{self.version}"


class SaveUsage(models.Model):
    """Bytes one player's live documents hold, and how many documents (tombstones not yet
    pruned included) the player has, kept by every write in the same transaction; its row is
    what concurrent writes of one player serialise on for the per-player limits."""

    player = models.OneToOneField(
        Player, on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    bytes = models.BigIntegerField(default=0)
    documents = models.IntegerField(default=0)
    # The highest version any of the player's pruned tombstones reached. A document created
    # since starts above it: a device still holding a version of a pruned key must get a 412
    # from a new document of that key, not find its old version there again and overwrite it.
    # A database default: the usage row is made by compiled SQL (services.COUNT_USAGE).
    pruned_version = models.PositiveIntegerField(default=0, db_default=0)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(bytes__gte=0), name="save_usage_gte_0"),
            models.CheckConstraint(condition=Q(documents__gte=0), name="save_documents_gte_0"),
        ]

    def __str__(self) -> str:
        return f"{self.bytes} bytes of player #{self.player_id}"


class SaveReceipt(models.Model):
    """The first answer to a write sent with an Idempotency-Key, answered again to its retries."""

    player = models.ForeignKey(Player, on_delete=models.CASCADE, related_name="+")
    idempotency_key = models.CharField(max_length=160)
    request_hash = models.CharField(max_length=64)
    status = models.PositiveSmallIntegerField(default=0)
    body = models.JSONField(null=True)
    # The same answer as its JSON text, which a replay answers byte for byte: jsonb keeps neither
    # an object's key order nor a number's spelling. `body` stays the object, which a process of
    # the previous release replays (during a deploy); null on the receipts it wrote.
    answer_text = models.TextField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["player", "idempotency_key"], name="one_save_receipt_per_key"
            )
        ]
        indexes = [models.Index(fields=["created_at"], name="save_receipt_created")]

    def __str__(self) -> str:
        return self.idempotency_key
