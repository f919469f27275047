"""Formatting for panel pages: money in minor units, shares, ratios."""

from __future__ import annotations

from django import template

from apps.analytics.selectors import minor_to_major

register = template.Library()


@register.filter
def money(amount: float | int | None, currency: str) -> str:
    """Minor units of an ISO currency (or plain units of a virtual one) for reading."""
    if amount is None:
        return "–"
    if len(currency) == 3 and currency.isupper():
        major = minor_to_major(amount, currency)
        digits = 0 if major == amount else 2
        return f"{major:,.{digits}f} {currency}"
    return f"{amount:,.0f} {currency}" if currency else f"{amount:,.0f}"


@register.filter
def percent(share: float | None) -> str:
    return "–" if share is None else f"{share * 100:.0f}%"


@register.filter
def per(total: int, count: int) -> str:
    return f"{total / count:.2f}" if count else "–"
