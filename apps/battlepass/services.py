"""Writes of the battle pass: season XP (in bulk, from matches and event rewards), premium
passes (from the shop), and tier claims (once, enforced by the database)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import NamedTuple

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from apps.accounts.errors import PlayerErased
from apps.accounts.models import Player
from apps.accounts.selectors import refuse_erased
from apps.analytics.services import server_event_statement
from apps.battlepass.errors import (
    AlreadyClaimed,
    NoActiveSeason,
    PremiumRequired,
    SeasonEnded,
    SeasonNotFound,
    SeasonNotRunning,
    TierLocked,
    TierNotFound,
)
from apps.battlepass.models import Season, SeasonPass, Tier, TierClaim
from apps.battlepass.selectors import latest_running, running_season
from apps.inventory.services import grant_contents
from apps.stats.bulk import upsert
from gamingpanel.sql import CompiledQuery, aware, row_lock


@dataclass(frozen=True)
class TierClaimResult:
    season_id: int
    level: int
    track: str
    granted: list[dict]


class SeasonWindow(NamedTuple):
    id: int
    starts_at: datetime
    ends_at: datetime


# The game's seasons running at an instant, key-share locked until the caller commits. A pass's
# insert checks its season only at commit (Django's foreign keys are deferred) and takes no lock
# on it before, so an operator's deletion of the season (which finds no pass, as the insert is
# not committed) went ahead, and the match result or the claim failed at commit on the pass's
# foreign key (a 500). Now a deletion, which locks the season FOR UPDATE before it looks for
# passes (authoring.lock_for_deletion), waits for the grant and then sees its pass (the season
# is protected), or has committed and the grant finds no season. An edit of the season's window
# (NO KEY UPDATE) is not held up. SQLite serializes writes anyway.
RUNNING_SEASONS_KEY_SHARED = CompiledQuery.compile(
    "SELECT season.id, season.starts_at, season.ends_at FROM {season} season"  # noqa: S608
    " WHERE season.game_id = %s AND season.starts_at <= %s AND season.ends_at > %s"
    + row_lock("FOR KEY SHARE"),
    season=Season,
)


@transaction.atomic(savepoint=False)  # part of the caller's match or claim, all or nothing
def add_season_xp(
    *, game_id: int, xp_by_player: Mapping[int, int], at: datetime | None = None
) -> int | None:
    """Add XP to each player's pass in the season running `at` (now by default: a match passes
    the time it was recorded, so a match that ends a season counts in it), in one upsert;
    returns the season id, or None when no season runs (the XP then only counts towards
    levels)."""
    xp_by_player = {p: xp for p, xp in xp_by_player.items() if xp > 0}
    at = at or timezone.now()
    windows = [
        SeasonWindow(pk, aware(starts_at), aware(ends_at))
        for pk, starts_at, ends_at in RUNNING_SEASONS_KEY_SHARED.rows([game_id, at, at])
    ]
    season = latest_running(windows, at)
    if season is None or not xp_by_player:
        return season.id if season else None
    upsert(
        model=SeasonPass,
        columns=["player_id", "season_id", "xp", "premium", "premium_key"],
        rows=sorted((p, season.id, xp, False, "") for p, xp in xp_by_player.items()),
        conflict=["player_id", "season_id"],
        assignments="xp = {t}.xp + excluded.xp",
    )
    return season.id


@lru_cache(maxsize=16)
def _seasons_key_shared(count: int) -> CompiledQuery:
    """A compiled query per number of seasons asked: which of them are the game's, each
    key-share locked until the caller commits (in id order)."""
    among = ", ".join(["%s"] * count)
    # Only placeholders are interpolated; every id is a parameter.
    return CompiledQuery.compile(
        "SELECT season.id FROM {season} season"  # noqa: S608
        f" WHERE season.game_id = %s AND season.id IN ({among}) ORDER BY season.id"
        + row_lock("FOR KEY SHARE"),
        season=Season,
    )


def lock_premium_passes(*, player: Player, season_ids: set[int]) -> frozenset[int]:
    """Call inside a purchase's transaction: of these seasons (of the player's game), those whose
    premium track the player already has. Their passes are locked (made if none), so two
    purchases of one premium pass by one player are judged one after the other."""
    if not season_ids:
        return frozenset()
    ids = sorted(season_ids)
    # Key-share locked, as for season XP (RUNNING_SEASONS_KEY_SHARED): a deletion of one of
    # them waits for the purchase and then sees its pass.
    seasons = [pk for (pk,) in _seasons_key_shared(len(ids)).rows([player.game_id, *ids])]
    if not seasons:
        return frozenset()
    SeasonPass.objects.bulk_create(
        [SeasonPass(player=player, season_id=season) for season in seasons], ignore_conflicts=True
    )
    passes = (
        SeasonPass.objects.select_for_update()
        .filter(player=player, season_id__in=seasons)
        .order_by("season_id")  # one lock order for every caller
        .values_list("season_id", "premium")
    )
    return frozenset(season for season, premium in passes if premium)


# The season, read with the player's erased_at and their row FOR SHARE until the grant commits
# (one statement, as the season was read alone before): the pass's insert and update take
# only KEY SHARE on the player, which an erasure's NO KEY UPDATE does not hold up, so a grant
# whose player was loaded before the erasure committed granted under the tombstone. Now an
# erasure either waits for the grant, or has committed and the grant sees it.
# The season is key-share locked too, as for season XP (RUNNING_SEASONS_KEY_SHARED): a deletion
# of it waits for the grant and then sees its pass.
SEASON_FOR_PREMIUM = CompiledQuery.compile(
    "SELECT season.ends_at, player.erased_at FROM {season} season, {player} player"  # noqa: S608
    " WHERE season.id = %s AND season.game_id = %s AND player.id = %s"
    + row_lock("FOR SHARE OF player FOR KEY SHARE OF season"),
    season=Season,
    player=Player,
)


@transaction.atomic
def grant_premium(*, player: Player, season_id: int, idempotency_key: str) -> bool:
    """Give the player the season's premium track; granting it again changes nothing (False:
    the player had it already). A season that has ended is refused: its pass could no longer
    be used (a checkout paid after the season's end, a store receipt redeemed late), so the
    purchase is flagged "paid but not granted" for an operator rather than completed. An erased
    player is refused (410 player_erased): nothing is granted under the tombstone, and a
    purchase completing after the erasure is flagged the same way."""
    refuse_erased(player)
    found = SEASON_FOR_PREMIUM.row([season_id, player.game_id, player.pk])
    if found is None:
        raise SeasonNotFound(f"No season {season_id} in this game.")
    ends_at, erased_at = aware(found[0]), found[1]
    if erased_at is not None:  # erased since the player was loaded
        raise PlayerErased(f"Player {player.pk}'s account was erased.", player_id=player.pk)
    if ends_at <= timezone.now():
        raise SeasonEnded(f"Season {season_id} ended at {ends_at.isoformat()}.")
    SeasonPass.objects.bulk_create(
        [SeasonPass(player=player, season_id=season_id)], ignore_conflicts=True
    )
    granted = SeasonPass.objects.filter(player=player, season_id=season_id, premium=False).update(
        premium=True, premium_granted_at=timezone.now(), premium_key=idempotency_key
    )
    return granted > 0


POSTGRES = connection.vendor == "postgresql"
# The claimed tier, key-share locked until the claim commits: an operator regenerating the
# season's tiers (authoring.generate_tiers locks them FOR UPDATE NOWAIT, then deletes them) is
# refused while a claim holds one, and a claim that waited on a regeneration finds its tier
# gone. Django's foreign keys are checked only at commit, where a deleted tier was a 500.
# In the same statement (no more round trips), the player's erased_at read with their row
# FOR SHARE until the claim commits: the claim's inserts take only KEY SHARE on the player,
# which an erasure's NO KEY UPDATE does not hold up, so a claim whose token was checked before
# the erasure committed granted under the tombstone. Now an erasure either waits for the
# claim, or has committed and the claim sees it. SQLite serializes writes anyway.
# What the tier needs and grants is read here, from the row as locked, not from the unlocked
# read before it: an admin's edit of the tier locks it FOR UPDATE before checking for claims
# (battlepass.forms.FixedOnceClaimedFormSet), so a claim that waited on an edit reads the tier
# as edited (PostgreSQL reads a row it waited on afresh), and one moved to another level is not
# this claim's any more.
# Whether the player claimed the tier on this track already is read here too: a claim made
# answers already_claimed before the tier's XP and the premium pass are judged (see
# CLAIMED_IN_THE_LAST_ENDED).
KEY_SHARE_TIER = CompiledQuery.compile(
    "SELECT tier.xp_required, tier.free_reward, tier.premium_reward, player.erased_at"  # noqa: S608
    ", EXISTS (SELECT 1 FROM {claim} claim WHERE claim.tier_id = tier.id"
    " AND claim.player_id = player.id AND claim.track = %s)"
    " FROM {tier} tier, {player} player"
    " WHERE tier.id = %s AND tier.level = %s AND player.id = %s"
    + (" FOR KEY SHARE OF tier FOR SHARE OF player" if POSTGRES else ""),
    tier=Tier,
    player=Player,
    claim=TierClaim,
)

# Whether the player claimed this tier on this track in the game's season that ended last: asked
# only when no season runs, so that a claim whose answer was lost and is retried after its season
# ended (or was ended early) answers already_claimed, as docs/guide/offline.md tells clients to
# treat as done, not no_active_season. Only for a request that names no season (one that does is
# judged in its own, _not_the_running_season): a retry sent once the next season runs is judged in
# that one.
CLAIMED_IN_THE_LAST_ENDED = CompiledQuery.compile(
    """
    SELECT EXISTS (SELECT 1 FROM {claim} claim JOIN {tier} tier ON tier.id = claim.tier_id
                    WHERE claim.player_id = %s AND claim.track = %s AND tier.level = %s
                      AND tier.season_id = (SELECT ended.id FROM {season} ended
                                             WHERE ended.game_id = %s AND ended.ends_at <= %s
                                             ORDER BY ended.ends_at DESC, ended.id DESC
                                             LIMIT 1))
    """,
    season=Season,
    tier=Tier,
    claim=TierClaim,
)


@transaction.atomic
def claim_tier(
    *, player: Player, level: int, track: str, season_id: int | None = None
) -> TierClaimResult:
    """Claim the tier `level` of the running season on `track`. `season_id`, when the client
    names the season it read its progress in, must be the running one: a claim sent as one
    season ended and the next started is refused (season_not_running), not granted in a season
    the player never saw, unless it was made in the named season already (already_claimed)."""
    refuse_erased(player)  # the API's token check refuses them first; any other caller here
    now = timezone.now()
    season = running_season(game_id=player.game_id, at=now)
    if season_id is not None and (season is None or season.pk != season_id):
        raise _not_the_running_season(
            player=player, season_id=season_id, level=level, track=track, running=season, at=now
        )
    if season is None:
        claimed = CLAIMED_IN_THE_LAST_ENDED.row([player.pk, track, level, player.game_id, now])
        if claimed and claimed[0]:  # a retry of a claim made before its season ended
            raise AlreadyClaimed(f"Tier {level} ({track}) is already claimed.")
        raise NoActiveSeason("No battle-pass season is running.")
    season_id = season.pk
    tier = Tier.objects.filter(season_id=season_id, level=level).first()
    if tier is None:
        raise TierNotFound(f"The running season has no tier {level}.")
    locked = KEY_SHARE_TIER.row([track, tier.pk, level, player.pk])
    if locked is None:
        raise TierNotFound(
            f"The season's tiers changed; tier {level} is not the one read. Read them again."
        )
    xp_required, free_reward, premium_reward, erased_at, claimed_before = locked
    if erased_at is not None:  # erased since the request's player was read
        raise PlayerErased(f"Player {player.pk}'s account was erased.", player_id=player.pk)
    if claimed_before:  # judged before the XP and the pass: whatever changed since, it is done
        raise AlreadyClaimed(f"Tier {level} ({track}) is already claimed.")
    tier.xp_required = xp_required
    # JSONFields without a decoder: both backends hand back their text (as in selectors).
    tier.free_reward, tier.premium_reward = json.loads(free_reward), json.loads(premium_reward)
    season_pass = SeasonPass.objects.filter(player=player, season_id=season_id).first()
    xp = season_pass.xp if season_pass else 0
    if xp < tier.xp_required:
        raise TierLocked(
            f"Tier {level} needs {tier.xp_required} season XP; you have {xp}.",
            xp=xp,
            xp_required=tier.xp_required,
        )
    if track == TierClaim.Track.PREMIUM and not (season_pass and season_pass.premium):
        raise PremiumRequired("Buy the premium pass to claim premium rewards.")
    try:
        with transaction.atomic():
            TierClaim.objects.create(player=player, tier=tier, track=track)
    except IntegrityError:
        raise AlreadyClaimed(f"Tier {level} ({track}) is already claimed.") from None
    contents = tier.free_reward if track == TierClaim.Track.FREE else tier.premium_reward
    # The analytics fact travels with the grant's wallet lock (alone when nothing is granted).
    claimed = server_event_statement(
        game_id=player.game_id,
        player_id=player.pk,
        name="battlepass_tier_claimed",
        properties={"season_id": season_id, "level": level, "track": track},
    )
    grant_contents(
        player=player,
        contents=contents or [],
        reason="battlepass_tier",
        idempotency_key=f"battlepass:{tier.pk}:{track}",
        reference=f"season:{season_id}",
        along=[claimed],
    )
    return TierClaimResult(season_id=season_id, level=level, track=track, granted=contents)


def _not_the_running_season(
    *,
    player: Player,
    season_id: int,
    level: int,
    track: str,
    running: Season | None,
    at: datetime,
) -> Exception:
    """What a claim naming a season other than the running one is answered (one or two
    queries, only then): season_not_found for no season of the player's game, already_claimed
    for a claim made in it (a retry whose answer was lost), else season_not_running."""
    named = Season.objects.filter(pk=season_id, game_id=player.game_id).first()
    if named is None:
        return SeasonNotFound(f"No season {season_id} in this game.")
    claimed = TierClaim.objects.filter(
        player=player, track=track, tier__season_id=season_id, tier__level=level
    )
    if claimed.exists():
        return AlreadyClaimed(f"Tier {level} ({track}) is already claimed.")
    if named.starts_at > at:
        when = f"it starts at {named.starts_at.isoformat()}"
    elif named.ends_at <= at:
        when = f"it ended at {named.ends_at.isoformat()}"
    else:  # overlapping windows: the one that started last runs (selectors.latest_running)
        when = "a season that started after it runs in its place"
    running_now = f"season {running.pk} runs" if running else "no season runs"
    return SeasonNotRunning(
        f"Season {season_id} is not running ({when}); {running_now}. Read your progress again.",
        season_id=season_id,
        running_season_id=running.pk if running else None,
    )
