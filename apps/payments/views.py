"""Pages a buyer sees in a browser (not the JSON API). Each names its payment by the payment's
unguessable `public_token` (only the paying player's purchase answer carries it), never by id:
an unknown token is a 404 whatever the payment ids are."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.csrf import csrf_exempt

from apps.payments.models import Payment
from apps.payments.selectors import payment_by_token
from apps.payments.services.sandbox import buyer_action
from gamingpanel.errors import DomainError
from gamingpanel.parsers import loads as loads_json
from gamingpanel.problems import domain_problem_response, problem_response


def _sandbox_checkout(token: str) -> Payment:
    payment = payment_by_token(token=token)
    if payment is None or payment.provider != "sandbox" or not payment.game.sandbox:
        raise Http404("No sandbox checkout here.")
    return payment


def _page(payment: Payment) -> dict[str, object]:
    """The checkout page's context: `open` while the buyer may still pay or cancel."""
    ends = payment.expires_at
    return {
        "payment": payment,
        "offer": payment.purchase.offer,
        "open": payment.status == Payment.Status.CREATED and not (ends and ends <= timezone.now()),
    }


# The page holds no session or cookie-based authority: its unguessable link is the authority
# (anyone with it may press Pay or Cancel, as with a real processor's hosted checkout), so there
# is nothing for CSRF to protect; tests and tools POST a JSON body. Refunds are not here: an
# operator of the game makes them from the panel.
@method_decorator(csrf_exempt, name="dispatch")
class SandboxCheckoutPage(View):
    def get(self, request: HttpRequest, token: str) -> HttpResponse:
        payment = _sandbox_checkout(token)
        return render(request, "payments/sandbox_checkout.html", _page(payment))

    def post(self, request: HttpRequest, token: str) -> HttpResponse:
        wants_json = request.content_type == "application/json"
        action: object = request.POST.get("action", "paid")
        if wants_json:
            try:
                body = loads_json(request.body or b"{}")
            except ValueError:
                body = None
            if not isinstance(body, dict):
                return problem_response(
                    status=400,
                    code="malformed_json",
                    title="Malformed JSON",
                    detail='The body is a JSON object such as {"action": "paid"}.',
                )
            action = body.get("action", "paid")
        try:
            callback = buyer_action(token=token, action=action if isinstance(action, str) else "")
        except DomainError as error:
            if wants_json:
                return domain_problem_response(error)
            payment = _sandbox_checkout(token)  # an unknown token is a 404 page
            context = {**_page(payment), "error": error}
            return render(request, "payments/sandbox_checkout.html", context, status=error.status)
        if wants_json:
            body = {"action": callback.action, "callback": "scheduled"}
            return JsonResponse(body, status=202)
        return redirect("payments-sandbox-checkout", token=token)


class ReturnPage(View):
    """Where a processor sends the buyer back (Stripe's success and cancel URL)."""

    def get(self, request: HttpRequest, token: str) -> HttpResponse:
        payment = payment_by_token(token=token)
        if payment is None:
            raise Http404("No such payment.")
        return render(request, "payments/return.html", {"payment": payment})
