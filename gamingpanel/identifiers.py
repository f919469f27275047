"""Identifiers other rows and clients name as text, fixed once saved."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models


def refuse_renaming(row: models.Model, field: str) -> None:
    """An identifier other rows and clients name as text (offers and rewards name a currency's
    code or an item's SKU, events and boards a stat's key, game servers and clients send them)
    is fixed once saved: renamed, everything that names it would stop working at once. A new
    identifier is a new row."""
    if row.pk is None:
        return
    stored = type(row)._default_manager.filter(pk=row.pk).values_list(field, flat=True).first()
    if stored is not None and stored != getattr(row, field):
        raise ValidationError(
            {field: f"{stored!r} is fixed once saved (content and clients name it); add a new one."}
        )
