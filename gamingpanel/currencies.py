"""Real-money amounts in the API contract are integers in the ISO 4217 currency's minor units:
cents for USD, whole yen for JPY, fils (1/1000) for KWD. This is the one table of how many
decimals each currency has; the offer form, the API, the dashboards and the payment providers
(which convert to their own conventions where those differ) all read it."""

from __future__ import annotations

from decimal import Decimal

# ISO 4217 (list one, 2024) minor units of every currency that has other than 2.
ISO_MINOR_UNITS: dict[str, int] = {
    **dict.fromkeys(
        (
            "BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "UYI",
            "VND", "VUV", "XAF", "XOF", "XPF",
        ),
        0,
    ),
    **dict.fromkeys(("BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"), 3),
    **dict.fromkeys(("CLF", "UYW"), 4),
}  # fmt: skip


def minor_units(currency: str) -> int:
    """Decimals of an ISO 4217 currency (any case): 2 unless the table says otherwise."""
    return ISO_MINOR_UNITS.get(currency.upper(), 2)


def to_major(amount: int | float, currency: str) -> Decimal:
    """Minor units as the currency's own units: 499 USD -> 4.99, 500 JPY -> 500, 1500 KWD -> 1.5."""
    return Decimal(str(amount)).scaleb(-minor_units(currency))


def to_minor(amount: Decimal, currency: str) -> Decimal:
    """The currency's own units as minor units, unrounded (the caller decides what a fraction
    means: too many decimals for a price, rounding for a filter)."""
    return amount.scaleb(minor_units(currency))
