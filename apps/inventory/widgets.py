"""The admin's editor for contents lines ([{"currency"|"sku": code, "quantity": n}]): rows with
a picker of the game's currencies and item SKUs and a quantity, over the JSON field it edits
(static/panel/contents-editor.js). Without JavaScript, or under "Edit as JSON", the JSON text
is edited as before; the server validates either way (validate_contents, the codes' game)."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from django import forms

from apps.accounts.selectors import WRITE_ROLES, games_for_user
from apps.inventory.models import MAX_LINE_QUANTITY, Currency, ItemDefinition


def catalog_for(game_ids: Iterable[int]) -> dict[str, dict[str, list[str]]]:
    """Per game id: the currency codes and item SKUs a line may name."""
    catalog: dict[str, dict[str, list[str]]] = defaultdict(lambda: {"currency": [], "sku": []})
    ids = list(game_ids)
    for game_id, code in (
        Currency.objects.filter(game_id__in=ids).order_by("code").values_list("game_id", "code")
    ):
        catalog[str(game_id)]["currency"].append(code)
    for game_id, sku in (
        ItemDefinition.objects.filter(game_id__in=ids).order_by("sku").values_list("game_id", "sku")
    ):
        catalog[str(game_id)]["sku"].append(sku)
    return dict(catalog)


class ContentsEditor(forms.Textarea):
    """A JSON textarea the script turns into rows. `game_field` names the form field (on this
    form or the parent's, for inlines) whose value picks the catalog's game."""

    class Media:
        js = ["panel/contents-editor.js"]
        css = {"all": ["panel/panel.css"]}

    def __init__(
        self, *, catalog: dict[str, dict[str, list[str]]], fixed_game: int | None = None,
        attrs: dict[str, Any] | None = None,
    ) -> None:  # fmt: skip
        super().__init__(attrs={"rows": 4, "cols": 60, **(attrs or {})})
        self.attrs["data-gp-contents"] = "1"
        self.attrs["data-gp-catalog"] = json.dumps(catalog, separators=(",", ":"))
        self.attrs["data-gp-max-quantity"] = str(MAX_LINE_QUANTITY)
        if fixed_game is not None:
            self.attrs["data-gp-game"] = str(fixed_game)


class ContentsEditorMixin:
    """For a ModelAdmin or an inline: the JSON fields named in `contents_fields` get the rows
    editor, with the currencies and items of the games the operator may change."""

    contents_fields: tuple[str, ...] = ("contents",)

    def formfield_for_dbfield(self, db_field: Any, request: Any, **kwargs: Any) -> Any:
        if db_field.name in self.contents_fields:
            games = games_for_user(request.user, roles=WRITE_ROLES)
            kwargs["widget"] = ContentsEditor(
                catalog=catalog_for(games.values_list("pk", flat=True))
            )
        return super().formfield_for_dbfield(db_field, request, **kwargs)  # type: ignore[misc]
