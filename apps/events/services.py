"""Claiming an event reward: once per player and reward (a database constraint), granted through
the economy ledger and the battle pass, recorded for analytics, all in one transaction."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from apps.accounts.errors import PlayerErased
from apps.accounts.models import Player
from apps.accounts.selectors import refuse_erased
from apps.analytics.services import server_event_statement
from apps.battlepass.errors import NoActiveSeason
from apps.battlepass.selectors import season_runs
from apps.battlepass.services import add_season_xp
from apps.events.errors import (
    AlreadyClaimed,
    EventEnded,
    EventNotStarted,
    RequirementNotMet,
    RewardNotFound,
)
from apps.events.models import EventReward, EventRewardClaim
from apps.events.selectors import only_season_xp, progress_of, reward_for_claim
from apps.inventory.services import grant_contents
from gamingpanel.sql import CompiledQuery


@dataclass(frozen=True)
class RewardClaim:
    event_id: int
    reward_id: int
    claimed_at: datetime
    contents: list[dict]
    battlepass_xp: int  # 0 when no season runs


POSTGRES = connection.vendor == "postgresql"
# The claimed reward, key-share locked until the claim commits: a claim that waited on an
# operator's deletion of it (or of its event) finds it gone, reward_not_found. Django's foreign
# keys are checked only at commit, where a deleted reward was a 500. SQLite serializes writes
# anyway. In the same statement (no more round trips), the player's erased_at read with their
# row FOR SHARE until the claim commits: the claim's inserts take only KEY SHARE on the player,
# which an erasure's NO KEY UPDATE does not hold up, so a claim whose token was checked before
# the erasure committed granted under the tombstone. Now an erasure either waits for the claim,
# or has committed and the claim sees it (as battlepass.services.KEY_SHARE_TIER). What the
# reward asks and grants is read here too, from the row as locked: an operator's edit locks it
# FOR UPDATE before looking for claims (battlepass.forms.FixedOnceClaimedFormSet), so a claim
# that waited on an edit grants the reward as edited, not as the unlocked read before had it.
# Whether the player claimed the reward already is read here as well (it was a query of its
# own, after the event's window was checked): a claim made before answers already_claimed
# whatever changed since, so a retry whose first answer was lost, sent after the event ended,
# is told it is done (docs/guide/offline.md), not event_ended.
KEY_SHARE_REWARD = CompiledQuery.compile(
    "SELECT player.erased_at, reward.requirement, reward.stat_key, reward.target,"  # noqa: S608
    " reward.contents, reward.battlepass_xp, EXISTS (SELECT 1 FROM {claim} claim"
    " WHERE claim.reward_id = reward.id AND claim.player_id = player.id)"
    " FROM {reward} reward, {player} player"
    " WHERE reward.id = %s AND player.id = %s"
    + (" FOR KEY SHARE OF reward FOR SHARE OF player" if POSTGRES else ""),
    reward=EventReward,
    player=Player,
    claim=EventRewardClaim,
)


@transaction.atomic
def claim_event_reward(*, player: Player, event_id: int, reward_id: int) -> RewardClaim:
    refuse_erased(player)  # the API's token check refuses them first; any other caller here
    reward = reward_for_claim(player=player, event_id=event_id, reward_id=reward_id)
    if reward is None or (locked := KEY_SHARE_REWARD.row([reward.pk, player.pk])) is None:
        raise RewardNotFound(f"Event {event_id} has no reward {reward_id}.")
    erased_at, reward.requirement, reward.stat_key, reward.target, contents, xp, claimed = locked
    if erased_at is not None:  # erased since the request's player was read
        raise PlayerErased(f"Player {player.pk}'s account was erased.", player_id=player.pk)
    if claimed:  # before the window and the rest: a retry of a claim made is told it is done
        raise AlreadyClaimed(f"{reward.name} is already claimed.")
    # A JSONField without a decoder: both backends hand back its text.
    reward.contents, reward.battlepass_xp = json.loads(contents), xp
    event, now = reward.event, timezone.now()
    if now < event.starts_at:
        raise EventNotStarted(f"{event.name} starts at {event.starts_at:%Y-%m-%d %H:%M} UTC.")
    if now >= event.ends_at:
        raise EventEnded(f"{event.name} ended at {event.ends_at:%Y-%m-%d %H:%M} UTC.")
    waits_for_season = only_season_xp(reward.contents, reward.battlepass_xp)
    if waits_for_season and not season_runs(game_id=player.game_id, at=now):
        # Claimed now it would grant nothing and be spent: it waits for the next season.
        raise _no_season(reward)
    progress = progress_of(player=player, reward=reward)
    if not progress.met:
        raise RequirementNotMet(
            f"{reward.name}: {progress.value or 0} of {reward.target}.",
            progress=progress.value,
            target=reward.target,
        )
    try:
        with transaction.atomic():
            claim = EventRewardClaim.objects.create(player=player, reward=reward)
    except IntegrityError:
        # A concurrent claim committed first: we waited on the unique index, and grant nothing.
        raise AlreadyClaimed(f"{reward.name} is already claimed.")
    # The season pass before the wallets, the order a premium purchase takes them in
    # (shop.services.limits.reserve): two such transactions of one player never wait on each
    # other in a cycle.
    season_id = None
    if reward.battlepass_xp:
        season_id = add_season_xp(
            game_id=player.game_id, xp_by_player={player.pk: reward.battlepass_xp}, at=now
        )
        if season_id is None and waits_for_season:
            # The kept seasons (season_runs, up to 2 s old) had one that the database no longer
            # runs (an operator ended or deleted it since): the claim is undone, not spent.
            raise _no_season(reward)
    # The analytics fact travels with the grant's wallet lock (alone when nothing is granted).
    claimed = server_event_statement(
        game_id=player.game_id,
        player_id=player.pk,
        name="event_reward_claimed",
        properties={"event_id": event.pk, "reward_id": reward.pk},
    )
    grant_contents(
        player=player,
        contents=reward.contents or [],
        reason="event_reward",
        idempotency_key=f"event-reward:{reward.pk}",
        reference=f"event:{event.pk}",
        along=[claimed],
    )
    return RewardClaim(
        event_id=event.pk,
        reward_id=reward.pk,
        claimed_at=claim.claimed_at,
        contents=reward.contents,
        battlepass_xp=reward.battlepass_xp if season_id else 0,
    )


def _no_season(reward: EventReward) -> NoActiveSeason:
    return NoActiveSeason(
        f"{reward.name} grants only battle-pass XP, and no season is running: claim it once "
        "one runs."
    )
