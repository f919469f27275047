"""Operator actions on a purchase (POST, operators and owners of its game): refunding a paid
sandbox payment. The payments service writes the audit log in its transaction; the sandbox
processor's signed refund callback then reverses the purchase as a real refund would. Money goes
back, so it asks first (views/confirm.py)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from apps.panel.access import StaffRequest, writable_game
from apps.panel.forms import ReasonForm
from apps.panel.templatetags.panel import money
from apps.panel.views.confirm import ask_on_player_page, confirmed
from apps.payments.models import Payment
from apps.payments.selectors import payment_of_purchase
from apps.payments.services.sandbox import operator_refund
from gamingpanel.errors import DomainError


@require_POST
@staff_member_required
def refund_purchase(request: StaffRequest, game_id: int, purchase_id: int) -> HttpResponse:
    game = writable_game(request, game_id)  # 404 for another game, 403 for an analyst
    payment = payment_of_purchase(game_id=game.pk, purchase_id=purchase_id)
    if payment is None:
        raise Http404("No paid purchase with this id in this game.")
    form = ReasonForm(request.POST)
    reason = form.cleaned_data["reason"].strip() if form.is_valid() else ""
    if not reason:  # the audit log says why money went back
        messages.error(request, "Nothing changed: a refund needs a reason.")
        return redirect("panel:player", game_id=game.pk, player_id=payment.purchase.player_id)
    purchase = payment.purchase
    if not confirmed(request):
        return ask_on_player_page(
            request,
            game,
            purchase.player,
            question=f"Refund purchase #{purchase.pk}?",
            facts=refund_facts(payment, reason),
            button=f"Refund {money(payment.amount, payment.currency)}",
        )
    # Once: a second confirmation finds the refund already asked for (one callback, one audit
    # entry) or the payment refunded (refused).
    try:
        operator_refund(game_id=game.pk, purchase_id=purchase.pk, actor=request.user, reason=reason)
    except DomainError as error:
        messages.error(request, f"Nothing changed: {error.detail}")
    else:
        messages.success(
            request,
            f"Refund of purchase #{purchase.pk} requested from the sandbox processor; "
            "its callback reverses the purchase.",
        )
    return redirect("panel:player", game_id=game.pk, player_id=purchase.player_id)


def refund_facts(payment: Payment, reason: str) -> list[str]:
    purchase = payment.purchase
    granted = ", ".join(
        f"{line['quantity']} {line.get('currency') or line.get('sku')}"
        for line in purchase.granted
        if "quantity" in line
    )
    taken = (
        f"The purchase is then reversed through the ledger: what it granted ({granted}) is "
        "taken back, as much as the player still holds (the rest is noted on the purchase "
        "for you to look at)."
        if granted
        else "The purchase is then reversed: it granted nothing, so nothing is taken back."
    )
    return [
        f"{money(payment.amount, payment.currency)} goes back to {purchase.player} for purchase "
        f"#{purchase.pk} ({purchase.offer.name}, {purchase.get_status_display().lower()}), "
        "through the sandbox processor.",
        taken,
        f"Reason, kept in the audit log: “{reason}”.",
    ]
