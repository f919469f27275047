"""Reward contents as operators type them in the admin: [{"currency"|"sku": code, "quantity": n}],
the shape `apps.inventory.services.grant_contents` takes."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError

from apps.inventory.models import MAX_LINE_QUANTITY
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
