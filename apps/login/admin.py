"""The game's admin page with its starting grant checked against the game's currencies: the
grant is login's to pay, and accounts, below inventory, cannot look currencies up."""

from __future__ import annotations

from django import forms
from django.contrib import admin

from apps.accounts.admin import GameAdmin, GameForm
from apps.accounts.models import Game
from apps.inventory.models import MAX_AMOUNT, Currency
from apps.inventory.selectors import unknown_codes


class StartingGrantGameForm(GameForm):
    def clean_starting_grant(self) -> dict[str, int]:
        grant = super().clean_starting_grant()
        if (
            grant
            and (
                unknown := unknown_codes(
                    game_id=self.instance.pk, currencies=set(grant), skus=set()
                )
            )["currencies"]
        ):
            raise forms.ValidationError(
                f"This game has no currency {', '.join(sorted(unknown['currencies']))}."
            )
        # Without a cap, the column's range is the limit (the ledger write refuses past it).
        over = [
            f"{currency.code} (cap {MAX_AMOUNT if currency.cap is None else currency.cap})"
            for currency in Currency.objects.filter(game_id=self.instance.pk, code__in=grant)
            if grant[currency.code] > (MAX_AMOUNT if currency.cap is None else currency.cap)
        ]
        if over:
            raise forms.ValidationError(
                f"More than a player may hold of {', '.join(sorted(over))}: every first login "
                "would be refused."
            )
        return grant


# accounts registers the page first (INSTALLED_APPS order); this one replaces it.
admin.site.unregister(Game)


@admin.register(Game)
class StartingGrantGameAdmin(GameAdmin):
    form = StartingGrantGameForm
