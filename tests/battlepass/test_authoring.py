"""Operators clone a season as the next one and generate tiers from an XP curve and a pattern."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from apps.accounts.models import GameAccess, Player
from apps.accounts.services import set_game_access
from apps.audit.models import AuditLogEntry
from apps.battlepass.authoring import TierPattern, tier_plan
from apps.battlepass.models import Season, Tier, TierClaim

pytestmark = pytest.mark.django_db


def user(game, name: str, role: str):
    account = get_user_model().objects.create_user(username=name, password="pw-long-enough-1")
    set_game_access(user=account, game=game, role=role)
    return account


def generate_url(season) -> str:
    return f"/admin/battlepass/season/{season.pk}/generate-tiers/"


PATTERN = {
    "count": 10,
    "first_xp": 100,
    "xp_growth_percent": 10,
    "free_target": "currency:gold",
    "free_quantity": 50,
    "premium_target": "sku:potion",
    "premium_quantity": 1,
    "reward_growth_percent": 0,
    "premium_every": 5,
}


def test_the_plan_follows_the_curve_and_pattern():
    plan = tier_plan(
        TierPattern(
            count=4, first_xp=100, xp_growth_percent=50,
            free_lines=({"currency": "gold", "quantity": 10},),
            premium_lines=({"sku": "potion", "quantity": 1},),
            reward_growth_percent=100, premium_every=2,
        )
    )  # fmt: skip
    assert [t["xp_required"] for t in plan] == [100, 250, 475, 813]
    assert [t["free_reward"][0]["quantity"] for t in plan] == [10, 20, 40, 80]
    assert [bool(t["premium_reward"]) for t in plan] == [False, True, False, True]


def test_clone_places_the_copy_after_the_last_season_with_its_tiers(client, game, season):
    client.force_login(user(game, "olga", GameAccess.Role.OPERATOR))
    response = client.post(
        "/admin/battlepass/season/",
        {"action": "clone_selected", "_selected_action": [season.pk]},
    )
    assert response.status_code == 302
    copy = Season.objects.exclude(pk=season.pk).get()
    assert copy.name == "S1 (copy)"
    assert copy.starts_at == season.ends_at
    assert copy.ends_at - copy.starts_at == season.ends_at - season.starts_at
    copied = list(copy.tiers.order_by("level").values("level", "xp_required", "premium_reward"))
    original = list(season.tiers.order_by("level").values("level", "xp_required", "premium_reward"))
    assert copied == original
    copy.full_clean()  # does not overlap
    assert AuditLogEntry.objects.filter(action="season.clone").count() == 1


def test_generate_previews_then_replaces_the_tiers(client, game, season):
    client.force_login(user(game, "olga", GameAccess.Role.OPERATOR))
    preview = client.post(generate_url(season), {**PATTERN, "preview": "1"})
    assert preview.status_code == 200
    assert len(preview.context["plan"]) == 10
    assert season.tiers.count() == 3  # a preview changes nothing

    done = client.post(generate_url(season), {**PATTERN, "generate": "1"})
    assert done.status_code == 302
    tiers = list(season.tiers.order_by("level"))
    assert [t.level for t in tiers] == list(range(1, 11))
    assert tiers[0].xp_required == 100 and tiers[1].xp_required == 210
    assert tiers[4].premium_reward == [{"sku": "potion", "quantity": 1}]
    assert tiers[3].premium_reward == []
    assert AuditLogEntry.objects.filter(action="season.generate_tiers").count() == 1


def test_generate_is_refused_once_a_tier_was_claimed(client, game, season):
    player = Player.objects.create(game=game)
    TierClaim.objects.create(player=player, tier=season.tiers.first(), track="free")
    client.force_login(user(game, "olga", GameAccess.Role.OPERATOR))
    response = client.post(generate_url(season), {**PATTERN, "generate": "1"}, follow=True)
    assert "Nothing changed" in response.content.decode()
    assert Tier.objects.filter(season=season).count() == 3


def test_bad_pattern_is_explained_and_changes_nothing(client, game, season):
    client.force_login(user(game, "olga", GameAccess.Role.OPERATOR))
    response = client.post(
        generate_url(season), {**PATTERN, "free_quantity": "", "count": 0, "generate": "1"}
    )
    assert response.status_code == 200
    assert response.context["form"].errors.keys() >= {"count", "free_quantity"}
    assert season.tiers.count() == 3


def test_analysts_and_other_games_cannot_generate(client, game, other_game, season):
    client.force_login(user(game, "ann", GameAccess.Role.ANALYST))
    assert client.post(generate_url(season), {**PATTERN, "generate": "1"}).status_code == 403
    client.force_login(user(other_game, "bob", GameAccess.Role.OPERATOR))
    assert client.post(generate_url(season), {**PATTERN, "generate": "1"}).status_code == 404
    assert season.tiers.count() == 3
