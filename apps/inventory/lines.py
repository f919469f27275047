"""One shape for every line that grants something (offer contents, what a purchase, a claim or
an event reward granted): `{"currency" | "sku" | "premium_pass": ..., "quantity": n}`.

A battle-pass premium line is stored as `{"battlepass_premium": <season id>}` (the shop's
contents rules); the API answers it as `{"premium_pass": <season id>, "quantity": 1}` and, for
v1 clients, still carries `battlepass_premium` (deprecated).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

PREMIUM = "battlepass_premium"  # the stored key


@extend_schema_field(
    {
        "type": "integer",
        "deprecated": True,
        "description": "Deprecated: read `premium_pass`. The same season id, on premium lines.",
    }
)
class DeprecatedPremiumField(serializers.IntegerField):
    pass


class GrantLineSerializer(serializers.Serializer):
    """One line: exactly one of `currency`, `sku` or `premium_pass`, with its quantity."""

    currency = serializers.CharField(required=False, help_text="A currency code of the game.")
    sku = serializers.CharField(required=False, help_text="An item of the game.")
    premium_pass = serializers.IntegerField(
        required=False, help_text="A season id: that season's battle-pass premium (quantity 1)."
    )
    quantity = serializers.IntegerField()
    battlepass_premium = DeprecatedPremiumField(required=False)


def grant_line(line: dict[str, Any]) -> dict[str, Any]:
    """A stored line in GrantLineSerializer's shape and key order."""
    if PREMIUM in line:
        season = line[PREMIUM]
        return {"premium_pass": season, "quantity": 1, PREMIUM: season}
    return {key: line[key] for key in ("currency", "sku", "quantity") if key in line}


def grant_lines(lines: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    return [grant_line(line) for line in lines]
