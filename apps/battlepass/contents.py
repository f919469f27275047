"""Reward contents as operators type them in the admin: [{"currency"|"sku": code, "quantity": n}],
the shape `apps.inventory.services.grant_contents` takes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError

from apps.inventory.models import MAX_LINE_QUANTITY, ItemDefinition
from apps.inventory.selectors import unknown_codes

MAX_LINES = 20


def validate_contents(value: Any) -> None:
    if not isinstance(value, list):
        raise ValidationError('A list of lines like {"currency": "gold", "quantity": 100}.')
    if len(value) > MAX_LINES:
        raise ValidationError(f"At most {MAX_LINES} lines.")
    for line in value:
        if not isinstance(line, dict) or len({"currency", "sku"} & line.keys()) != 1:
            raise ValidationError(f'Each line names one "currency" or one "sku": {line!r}.')
        if set(line) - {"currency", "sku", "quantity"}:
            raise ValidationError(f"Unknown keys in {line!r}.")
        code = line.get("currency", line.get("sku"))
        quantity = line.get("quantity")
        if not isinstance(code, str) or not code:
            raise ValidationError(f"The code in {line!r} must be a non-empty string.")
        if (
            isinstance(quantity, bool)
            or not isinstance(quantity, int)
            or not 1 <= quantity <= MAX_LINE_QUANTITY
        ):
            raise ValidationError(
                f"The quantity in {line!r} must be a positive integer up to {MAX_LINE_QUANTITY:,}."
            )


# The JSON values Django takes for an empty field: it runs no validator on them (validate_contents
# never sees them), and a box left empty or null is None, which the NOT NULL column refused with a
# 500 while {} and "" were stored as they came.
EMPTY: tuple[object, ...] = (None, "", {}, ())


def no_lines_if_empty(value: Any) -> Any:
    """Call in a model's clean(): contents left empty (None, "", {}, ()) as no lines, []; any other
    value as it is, for validate_contents to judge."""
    return [] if value in EMPTY else value  # "" typed in the form is a str subclass (JSONString)


def check_codes_defined(contents: object, *, game_id: int, field: str = "contents") -> None:
    """Every currency and item the contents name is one the game defines: a typo would pass the
    shape check and be refused by the ledger at every claim or payout. Raises a ValidationError
    on `field`; contents of the wrong shape are left to validate_contents."""
    try:
        validate_contents(contents)
    except ValidationError:
        return  # the field's own validator reports the shape
    assert isinstance(contents, list)
    currencies = {line["currency"] for line in contents if "currency" in line}
    skus = {line["sku"] for line in contents if "sku" in line}
    if not currencies and not skus:
        return
    unknown = unknown_codes(game_id=game_id, currencies=currencies, skus=skus)
    missing = [f"currency {code}" for code in sorted(unknown["currencies"])]
    missing += [f"item {sku}" for sku in sorted(unknown["skus"])]
    if missing:
        raise ValidationError({field: f"This game has no {', '.join(missing)}."})


def item_totals(contents: list[dict]) -> dict[str, int]:
    """How many of each item the (valid) contents grant, their lines of one item added up."""
    totals: dict[str, int] = {}
    for line in contents:
        if "sku" in line:
            totals[line["sku"]] = totals.get(line["sku"], 0) + line["quantity"]
    return totals


def above_holding_limits(totals: Mapping[str, int], *, game_id: int) -> list[str]:
    """Of these item totals, those above what a player may hold of the item (a durable once, a
    stack its max_stack), said for an operator: a grant of more can never be made (the ledger
    refuses it, holding_limit_reached), whatever the player holds. One query, none without items;
    an item the game does not define is left to check_codes_defined."""
    if not totals:
        return []
    items = ItemDefinition.objects.filter(game_id=game_id, sku__in=list(totals)).order_by("sku")
    said = []
    for item in items:
        limit = item.holding_limit
        if limit is not None and totals[item.sku] > limit:
            said.append(f"{totals[item.sku]} {item.sku}, above what a player may hold ({limit})")
    return said


def check_holding_limits(contents: object, *, game_id: int, field: str = "contents") -> None:
    """No item of the contents (its lines added up) above what a player may hold of it: such a
    reward was accepted, and then every claim of it, by every player, answered
    holding_limit_reached for ever. Raises a ValidationError on `field`; contents of the wrong
    shape are left to validate_contents."""
    try:
        validate_contents(contents)
    except ValidationError:
        return  # the field's own validator reports the shape
    assert isinstance(contents, list)
    above = above_holding_limits(item_totals(contents), game_id=game_id)
    if above:
        raise ValidationError(
            {field: f"No player could ever claim this: {'; '.join(above)}. Grant less."}
        )
