"""What makes an offer sellable: well-formed contents and prices this game understands."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any, Protocol

from django.utils import timezone

from apps.battlepass.selectors import season_ends
from apps.inventory.models import MAX_LINE_QUANTITY
from apps.inventory.selectors import unknown_codes

ISO_CURRENCY = re.compile(r"^[A-Z]{3}$")
MAX_ID = 2**63 - 1  # a season id is a BIGINT


class OfferFields(Protocol):
    """What validation reads of an offer (`models.Offer` calls it from `clean`, so this module
    knows no model: the import goes one way)."""

    game_id: int
    category_id: int | None
    category: Any
    contents: Any
    active: bool
    real_money: bool
    price_currency: str
    price_amount: int
    available_from: datetime | None
    available_until: datetime | None
    apple_product_id: str
    google_product_id: str


def contents_errors(contents: object) -> list[str]:
    """Shape only: a list of lines, each a currency, an item or a battle-pass premium grant."""
    if not isinstance(contents, list) or not contents:
        return ["Contents must be a non-empty list of lines."]
    errors = []
    for number, line in enumerate(contents, start=1):
        if not isinstance(line, dict):
            errors.append(f"Line {number} is not an object.")
        elif "battlepass_premium" in line:
            season = line["battlepass_premium"]
            if set(line) != {"battlepass_premium"} or not _positive_int(season) or season > MAX_ID:
                errors.append(f"Line {number}: battlepass_premium takes a season id only.")
        elif len({"currency", "sku"} & set(line)) != 1 or set(line) - {
            "currency",
            "sku",
            "quantity",
        }:
            errors.append(f"Line {number}: give exactly one of currency or sku, and quantity.")
        elif not _code(line["currency"] if "currency" in line else line["sku"]):
            # Checked before the codes are looked up: a list or an object there cannot be put
            # in a set, and a number cannot be named in the message (both were a 500).
            errors.append(f"Line {number}: currency or sku must be a code (text).")
        elif not _positive_int(line.get("quantity")) or line["quantity"] > MAX_LINE_QUANTITY:
            errors.append(
                f"Line {number}: quantity must be a positive integer up to {MAX_LINE_QUANTITY:,}."
            )
    return errors


def validate_offer(offer: OfferFields) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    currencies: set[str] = set()
    skus: set[str] = set()
    if offer.category_id and offer.category.game_id != offer.game_id:
        errors["category"] = ["The category belongs to another game."]
    if shape := contents_errors(offer.contents):
        errors["contents"] = shape
    else:
        currencies = {line["currency"] for line in offer.contents if "currency" in line}
        skus = {line["sku"] for line in offer.contents if "sku" in line}
        if premium := premium_errors(offer):
            errors["contents"] = premium
    if offer.real_money:
        price_code: set[str] = set()
        if not ISO_CURRENCY.match(offer.price_currency or ""):
            errors["price_currency"] = ["Real-money prices take an ISO 4217 code, e.g. USD."]
        if not offer.price_amount or offer.price_amount <= 0:
            errors["price_amount"] = ["A real-money price must be above zero (minor units)."]
    else:
        price_code = {offer.price_currency}
        for field in ("apple_product_id", "google_product_id"):
            if getattr(offer, field):
                errors[field] = ["Store products are real-money offers: tick real money."]
    if (offer.price_amount or 0) > MAX_LINE_QUANTITY:
        errors["price_amount"] = [f"At most {MAX_LINE_QUANTITY:,}."]
    unknown = unknown_codes(game_id=offer.game_id, currencies=currencies | price_code, skus=skus)
    if price_code & unknown["currencies"]:
        errors["price_currency"] = [f"This game has no currency {offer.price_currency!r}."]
    if missing := sorted((unknown["currencies"] & currencies) | unknown["skus"]):
        errors.setdefault("contents", []).append(f"Unknown in this game: {', '.join(missing)}.")
    if (
        offer.available_from
        and offer.available_until
        and offer.available_until <= offer.available_from
    ):
        errors["available_until"] = ["Must be after available_from."]
    return errors


def premium_errors(offer: OfferFields) -> list[str]:
    """A premium line names a season of the offer's game that, for an active offer, has not
    ended: anything else would be paid for and never granted. (An inactive offer of a season
    that is over may still be edited; the shop's rules keep it off sale either way.)"""
    wanted = {
        number: line["battlepass_premium"]
        for number, line in enumerate(offer.contents, start=1)
        if "battlepass_premium" in line
    }
    if not wanted:
        return []
    ends = season_ends(game_id=offer.game_id, season_ids=set(wanted.values()))
    now, errors = timezone.now(), []
    for number, season in wanted.items():
        if season not in ends:
            errors.append(f"Line {number}: this game has no battle-pass season {season}.")
        elif offer.active and ends[season] <= now:
            errors.append(f"Line {number}: battle-pass season {season} has ended.")
    return errors


def _code(value: object) -> bool:
    """A currency code or an item SKU: non-empty text."""
    return isinstance(value, str) and value != ""


def _positive_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0
