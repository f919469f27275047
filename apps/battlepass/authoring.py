"""What operators do to seasons besides editing them: clone one as the next season (tiers
included), and generate N tiers from an XP curve and a reward pattern."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import OperationalError, transaction
from django.db.models import Max

from apps.audit.services import record_action
from apps.battlepass.contents import above_holding_limits, item_totals, validate_contents
from apps.battlepass.errors import SeasonHasClaims
from apps.battlepass.models import Season, Tier
from apps.inventory.models import MAX_LINE_QUANTITY

MAX_TIERS = 500


def lock_for_deletion(season_ids: Iterable[int]) -> None:
    """Call inside a season deletion's transaction, before its claims are looked for: the
    seasons' tiers locked FOR UPDATE in id order. A claim under way holds its tier FOR KEY SHARE
    until it commits (services.KEY_SHARE_TIER) with its row not yet visible, so a deletion that
    looked first found no claim, then its DELETE waited for the claim and failed at commit on
    the claim's foreign key (a 500). Now the deletion waits for the claim and then sees it (the
    tier is protected: "cannot delete"); a claim starting meanwhile waits for the deletion and
    finds its tier gone (tier_not_found). The seasons are locked too, for the passes being
    added to them. SQLite serializes writes anyway."""
    season_ids = list(season_ids)
    # Of the tiers only, with no join: Tier's ordering joins the season and the game.
    tiers = Tier.objects.select_for_update(of=("self",)).filter(season_id__in=season_ids)
    list(tiers.order_by("pk").values_list("pk", flat=True))
    # The seasons themselves as well: a pass being added (season XP, a premium grant) holds its
    # season FOR KEY SHARE until it commits (services.RUNNING_SEASONS_KEY_SHARED), its row not
    # yet visible, so the deletion waits for it and then finds the pass (protected).
    seasons = Season.objects.select_for_update(of=("self",)).filter(pk__in=season_ids)
    list(seasons.order_by("pk").values_list("pk", flat=True))


@transaction.atomic
def clone_season(*, season: Season, actor: User | None) -> Season:
    """A copy with the same tiers, placed right after the game's last season (seasons may not
    overlap) and as long as the original; named "<name> (copy)". Refused (ValidationError,
    nothing created) when that copy would end after the year 9999, where the date arithmetic
    raised OverflowError (a 500)."""
    duration = season.ends_at - season.starts_at
    last_end = Season.objects.filter(game_id=season.game_id).aggregate(end=Max("ends_at"))["end"]
    starts_at = max(last_end or season.ends_at, season.ends_at)
    try:
        ends_at = starts_at + duration
    except OverflowError:  # past the year 9999
        raise ValidationError(
            f"A copy of {season.name} would start at {starts_at:%Y-%m-%d %H:%M} UTC (after the "
            "game's last season) and end after the year 9999; shorten it or clone an earlier "
            "one."
        ) from None
    copy = Season.objects.create(
        game_id=season.game_id,
        name=f"{season.name} (copy)"[:100],
        starts_at=starts_at,
        ends_at=ends_at,
    )
    Tier.objects.bulk_create(
        [
            Tier(
                season=copy,
                level=t.level,
                xp_required=t.xp_required,
                free_reward=t.free_reward,
                premium_reward=t.premium_reward,
            )
            for t in season.tiers.order_by("level")
        ]
    )
    record_action(
        actor=actor,
        game=season.game,
        action="season.clone",
        target=copy,
        after={
            "name": copy.name,
            "cloned_from": season.pk,
            "starts_at": copy.starts_at.isoformat(),
        },
    )
    return copy


@dataclass(frozen=True)
class TierPattern:
    """Tier n (1-based) needs first_xp grown by xp_growth_percent per tier, cumulatively; its
    rewards are the pattern's lines with quantities grown by reward_growth_percent per tier.
    Every `premium_every`-th tier alone carries the premium lines (1 = every tier)."""

    count: int
    first_xp: int
    xp_growth_percent: int = 0
    free_lines: tuple[dict, ...] = ()
    premium_lines: tuple[dict, ...] = ()
    reward_growth_percent: int = 0
    premium_every: int = 1


def tier_plan(pattern: TierPattern) -> list[dict]:
    """The tiers the pattern makes, as plain values (a preview needs no database)."""
    tiers, total, step = [], 0, float(pattern.first_xp)
    for level in range(1, pattern.count + 1):
        total += round(step)
        step *= 1 + pattern.xp_growth_percent / 100
        scale = (1 + pattern.reward_growth_percent / 100) ** (level - 1)
        premium = pattern.premium_lines if level % pattern.premium_every == 0 else ()
        tiers.append(
            {
                "level": level,
                "xp_required": total,
                "free_reward": _scaled(pattern.free_lines, scale),
                "premium_reward": _scaled(premium, scale),
            }
        )
    return tiers


def _scaled(lines: tuple[dict, ...], scale: float) -> list[dict]:
    return [
        {**line, "quantity": min(MAX_LINE_QUANTITY, max(1, round(line["quantity"] * scale)))}
        for line in lines
    ]


@transaction.atomic
def generate_tiers(*, season: Season, pattern: TierPattern, actor: User | None) -> list[Tier]:
    """Replace the season's tiers by the pattern's. Refused once a player claimed a tier of it:
    changing what was claimed would rewrite history."""
    if not 1 <= pattern.count <= MAX_TIERS:
        raise ValidationError(f"Between 1 and {MAX_TIERS} tiers.")
    plan = tier_plan(pattern)
    if plan[-1]["xp_required"] > 2**31 - 1:
        raise ValidationError("That curve needs more XP than a tier can hold; lower the growth.")
    peaks: dict[str, int] = {}  # the most of each item one tier's track grants
    for tier in plan:
        for track in ("free_reward", "premium_reward"):
            validate_contents(tier[track])
            for sku, quantity in item_totals(tier[track]).items():
                peaks[sku] = max(peaks.get(sku, 0), quantity)
    # A tier of more than a player may hold could never be claimed (holding_limit_reached, for
    # every player): a reward growth carried a stack past its max_stack unseen.
    if above := above_holding_limits(peaks, game_id=season.game_id):
        raise ValidationError(
            f"Some tiers would grant {'; '.join(above)}: no player could claim them. Lower the "
            "quantity or its growth."
        )
    # NO KEY UPDATE: two regenerations of one season take turns, but season XP and premium
    # passes being added to it (which hold it FOR KEY SHARE, services) are not held up.
    locked = Season.objects.select_for_update(no_key=True).get(pk=season.pk)
    # The tiers locked too, without waiting: a claim in progress holds its tier
    # (services.KEY_SHARE_TIER) and is as good as made (waiting for it would deadlock on the
    # claim's own foreign-key check), and a claim starting now waits for this, then finds no
    # tier. SQLite has no row locks: writes are serialized.
    try:
        with transaction.atomic():  # a savepoint: the refused lock leaves the rest usable
            # Of the tiers only: Tier's ordering joins the season and the game, and the game's
            # row, held by a config edit (NO KEY UPDATE) or an insert naming the game (KEY SHARE,
            # at its commit), refused the lock as if players were claiming.
            held = Tier.objects.select_for_update(nowait=True, of=("self",)).filter(season=locked)
            list(held.values_list("pk", flat=True))
    except OperationalError:
        raise SeasonHasClaims(
            "Players are claiming tiers of this season right now; its tiers stay."
        ) from None
    if Tier.objects.filter(season=locked, claims__isnull=False).exists():
        raise SeasonHasClaims("Players have claimed tiers of this season; its tiers stay.")
    before = locked.tiers.count()
    locked.tiers.all().delete()
    tiers = Tier.objects.bulk_create([Tier(season=locked, **tier) for tier in plan])
    record_action(
        actor=actor,
        game=season.game,
        action="season.generate_tiers",
        target=locked,
        before={"tiers": before},
        after={"tiers": len(tiers), "last_tier_xp": plan[-1]["xp_required"]},
    )
    return tiers
