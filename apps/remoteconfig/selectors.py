"""Reads of remote config: the live release (cached per process for 2 s), a player's resolved
values, the draft and the history for the panel."""

from __future__ import annotations

import hashlib
import json
import logging
import re
from dataclasses import dataclass
from typing import Any

from django.db.models import Prefetch

from apps.accounts.models import Player
from apps.remoteconfig.models import ConfigKey, ConfigOverride, ConfigRelease
from apps.remoteconfig.resolver import Context, KeyRules, needed_attributes, resolve
from apps.remoteconfig.resolver import Version as ClientVersion
from apps.remoteconfig.rules import Unreadable, compiled_rules
from apps.shop.selectors import has_paid_real_money_statement, paid_of
from apps.stats.selectors import level_from_rows, player_level_statement
from gamingpanel.shortcache import ShortCache, register_clearable
from gamingpanel.sql import Statement, run_together

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class LiveConfig:
    version: int
    rules: dict[str, KeyRules]
    needs: frozenset[str]


NOTHING_PUBLISHED = LiveConfig(version=0, rules={}, needs=frozenset())

# Bound: a publish or rollback reaches every process within 2 s, and at once a process asked
# by a client that already holds a later release (its ETag names the version): a client never
# goes back to an older release because its next request reached a process that had not read
# the new one yet.
_live: ShortCache[LiveConfig] = ShortCache(seconds=2)


def live_config(*, game_id: int, seen_version: int = 0) -> LiveConfig:
    def still_good(live: LiveConfig) -> bool:
        # A client naming a release this process has not read holds a newer one (read it now:
        # the bound's "at once") or names one that does not exist (a made-up or corrupt ETag,
        # on every request it sends). The newest number tells which, from the index alone: such
        # a client costs that lookup, not a load of the release's rules each time.
        return live.version >= seen_version or newest_version(game_id=game_id) <= live.version

    found = _live.get_or_load(game_id, lambda: _load_live(game_id), still_good=still_good)
    return found or NOTHING_PUBLISHED


def newest_version(*, game_id: int) -> int:
    """The game's latest release number (0: none), one index-only lookup."""
    found = (
        ConfigRelease.objects.filter(game_id=game_id)
        .order_by("-version")
        .values_list("version", flat=True)
        .first()
    )
    return found or 0


def _load_live(game_id: int) -> LiveConfig:
    row = (
        ConfigRelease.objects.filter(game_id=game_id)
        .order_by("-version")
        .values_list("version", "rules")
        .first()
    )
    if row is None:
        return NOTHING_PUBLISHED  # cached too: a game without config costs no query either
    version, snapshot = row
    rules, unreadable = compiled_rules(snapshot)
    for override in unreadable:
        _report_unreadable(game_id=game_id, version=version, override=override)
    return LiveConfig(version=version, rules=rules, needs=needed_attributes(rules))


# What _report_unreadable logged, so each override is logged once per process, not on every
# reload of its release.
_reported: set[tuple[int, int, str, int]] = register_clearable(set())


def _report_unreadable(*, game_id: int, version: int, override: Unreadable) -> None:
    seen = (game_id, version, override.key, override.position)
    if seen in _reported:
        return
    if len(_reported) >= 10_000:
        _reported.clear()
    _reported.add(seen)
    # The field names only: a stored value may be anything, a secret pasted by mistake included.
    if override.fields == ("rules",):
        logger.error(
            "remote config: game %s release %s has rules that are not an object; it serves no "
            "key until a release fixes it",
            game_id,
            version,
        )
        return
    if override.position < 0:
        effect = "left out" if "value" in override.fields else "served without overrides"
        logger.error(
            "remote config: game %s release %s key %r has unreadable %s; it is %s until a "
            "release fixes it",
            game_id,
            version,
            override.key,
            ", ".join(override.fields),
            effect,
        )
        return
    logger.error(
        "remote config: game %s release %s key %r override #%s has unreadable %s; it applies "
        "to nobody until a release fixes it",
        game_id,
        version,
        override.key,
        override.position,
        ", ".join(override.fields),
    )


@dataclass(frozen=True)
class ResolvedConfig:
    version: int
    values: dict[str, Any]
    etag: str


def resolved_config(
    *,
    player: Player,
    platform: str | None,
    client_version: ClientVersion | None,
    seen_version: int = 0,
) -> ResolvedConfig:
    """The player's values under the live release (`seen_version`: the release the client's
    copy came from, so never an older one). Only the attributes its rules ask about
    are read: level (apps.stats) and payer (apps.shop), their queries sent together (one round
    trip on PostgreSQL)."""
    live = live_config(game_id=player.game_id, seen_version=seen_version)
    statements: dict[str, Statement] = {}
    if "level" in live.needs:
        statements["level"] = player_level_statement(player_id=player.pk, game_id=player.game_id)
    if "payer" in live.needs:
        statements["payer"] = has_paid_real_money_statement(player_id=player.pk)
    rows = dict(zip(statements, run_together(list(statements.values())), strict=True))
    level = level_from_rows(rows["level"]) if "level" in rows else None
    payer = paid_of(rows["payer"]) if "payer" in rows else None
    context = Context(
        player_id=player.pk,
        platform=platform,
        client_version=client_version,
        level=level,
        payer=payer,
        created_at=player.created_at,
    )
    values = resolve(live.rules, context)
    canonical = json.dumps(values, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    digest = hashlib.sha256(canonical.encode()).hexdigest()[:16]
    return ResolvedConfig(version=live.version, values=values, etag=etag_of(live.version, digest))


def etag_of(version: int, digest: str) -> str:
    return f'"{version}-{digest}"'


_ETAG = re.compile(r'(?:W/)?"(\d{1,18})-[0-9a-f]+"')


def version_seen(etags: list[str]) -> int:
    """The latest release named by the ETags a client sent (`"<version>-<digest>"`; 0: none)."""
    return max((int(found[1]) for tag in etags if (found := _ETAG.fullmatch(tag))), default=0)


def draft_keys(*, game_id: int) -> list[ConfigKey]:
    """The draft, two queries: keys by name, each with its overrides in order."""
    overrides = Prefetch("overrides", queryset=ConfigOverride.objects.order_by("position", "id"))
    return list(ConfigKey.objects.filter(game_id=game_id).prefetch_related(overrides))


def releases_of(*, game_id: int, limit: int = 50) -> list[ConfigRelease]:
    return list(
        ConfigRelease.objects.filter(game_id=game_id)
        .select_related("published_by")
        .order_by("-version")[:limit]
    )
