"""A game's cloud-save rules, read once per game every few seconds: every write checks them."""

from __future__ import annotations

from dataclasses import dataclass, field

from apps.cloudsave.models import (
    DEFAULT_MAX_DOCUMENT_BYTES,
    DEFAULT_MAX_DOCUMENTS,
    DEFAULT_MAX_PLAYER_BYTES,
    DEFAULT_VERSIONS_KEPT,
    SaveKey,
    SaveSettings,
)
from gamingpanel.shortcache import ShortCache


@dataclass(frozen=True)
class KeyRule:
    writer: str  # SaveKey.Writer
    public: bool


UNDECLARED = KeyRule(writer=SaveKey.Writer.CLIENT, public=False)


@dataclass(frozen=True)
class SavePolicy:
    max_document_bytes: int = DEFAULT_MAX_DOCUMENT_BYTES
    max_player_bytes: int = DEFAULT_MAX_PLAYER_BYTES
    max_documents: int = DEFAULT_MAX_DOCUMENTS
    versions_kept: int = DEFAULT_VERSIONS_KEPT
    undeclared_keys: bool = True
    keys: dict[str, KeyRule] = field(default_factory=dict)

    def rule(self, key: str) -> KeyRule | None:
        """The key's rule; None when the game does not let this key be written at all."""
        return self.keys.get(key) or (UNDECLARED if self.undeclared_keys else None)

    @property
    def public_keys(self) -> list[str]:
        return sorted(key for key, rule in self.keys.items() if rule.public)


# Bound: an operator's change of limits or key rules applies within this in every process.
POLICY_SECONDS = 2.0
_policies: ShortCache[SavePolicy] = ShortCache(seconds=POLICY_SECONDS)


def save_policy(*, game_id: int) -> SavePolicy:
    policy = _policies.get_or_load(game_id, lambda: load_policy(game_id=game_id))
    assert policy is not None  # load_policy always answers
    return policy


def load_policy(*, game_id: int) -> SavePolicy:
    """Two queries: the settings row (or the defaults) and the key rules."""
    settings = SaveSettings.objects.filter(game_id=game_id).first()
    keys = {
        key: KeyRule(writer=writer, public=public)
        for key, writer, public in SaveKey.objects.filter(game_id=game_id).values_list(
            "key", "writer", "public"
        )
    }
    if settings is None:
        return SavePolicy(keys=keys)
    return SavePolicy(
        max_document_bytes=settings.max_document_bytes,
        max_player_bytes=settings.max_player_bytes,
        max_documents=settings.max_documents,
        versions_kept=settings.versions_kept,
        undeclared_keys=settings.undeclared_keys,
        keys=keys,
    )
