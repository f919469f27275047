"""What operators do to offers besides editing them: clone one."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.db import transaction

from apps.audit.services import record_action
from apps.shop.models import Offer

# Store product ids stay with the original: two offers answering one store product would make
# a receipt's offer ambiguous. Stock and the window are copied; the copy starts inactive.
COPIED_FIELDS = (
    "game_id", "category_id", "description", "position", "real_money", "price_currency",
    "price_amount", "contents", "available_from", "available_until", "per_player_limit", "stock",
    "store_consumable",
)  # fmt: skip


@transaction.atomic
def clone_offer(*, offer: Offer, actor: User | None) -> Offer:
    """An inactive copy named "<name> (copy)", to edit and switch on."""
    copy = Offer.objects.create(
        name=f"{offer.name} (copy)"[:100],
        active=False,
        **{field: getattr(offer, field) for field in COPIED_FIELDS},
    )
    record_action(
        actor=actor,
        game=offer.game,
        action="offer.clone",
        target=copy,
        after={"name": copy.name, "cloned_from": offer.pk, "active": False},
    )
    return copy
