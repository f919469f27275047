"""Operator actions on a purchase (POST, operators and owners of its game): refunding a paid
sandbox payment. The payments service writes the audit log in its transaction; the sandbox
processor's signed refund callback then reverses the purchase as a real refund would."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from apps.panel.access import StaffRequest, writable_game
from apps.panel.forms import ReasonForm
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
    try:
        operator_refund(
            game_id=game.pk, purchase_id=payment.purchase_id, actor=request.user, reason=reason
        )
    except DomainError as error:
        messages.error(request, f"Nothing changed: {error.detail}")
    else:
        messages.success(
            request,
            f"Refund of purchase #{payment.purchase_id} requested from the sandbox processor; "
            "its callback reverses the purchase.",
        )
    return redirect("panel:player", game_id=game.pk, player_id=payment.purchase.player_id)
