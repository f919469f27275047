"""Pages a buyer sees in a browser (not the JSON API)."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.csrf import csrf_exempt

from apps.payments.selectors import sandbox_payment
from apps.payments.services.sandbox import simulate
from gamingpanel.errors import DomainError
from gamingpanel.parsers import loads as loads_json
from gamingpanel.problems import problem_response


# The page holds no session or cookie-based authority (anyone with the link may press Pay, as
# with a real processor's hosted checkout), so there is nothing for CSRF to protect; tests and
# tools POST an empty JSON body.
@method_decorator(csrf_exempt, name="dispatch")
class SandboxCheckoutPage(View):
    def get(self, request: HttpRequest, payment_id: int) -> HttpResponse:
        payment = sandbox_payment(payment_pk=payment_id)
        if payment is None or payment.provider != "sandbox" or not payment.game.sandbox:
            raise Http404("No sandbox checkout here.")
        context = {"payment": payment, "offer": payment.purchase.offer}
        return render(request, "payments/sandbox_checkout.html", context)

    def post(self, request: HttpRequest, payment_id: int) -> HttpResponse:
        wants_json = request.content_type == "application/json"
        action = request.POST.get("action", "paid")
        if wants_json:
            try:
                action = (loads_json(request.body or b"{}") or {}).get("action", "paid")
            except (ValueError, AttributeError):
                action = ""
        try:
            payment = simulate(payment_pk=payment_id, action=action)
        except DomainError as error:
            if not wants_json:
                raise Http404(error.detail)
            return problem_response(
                status=error.status, code=error.code, title=error.title, detail=error.detail
            )
        if wants_json:
            return JsonResponse(
                {"payment_id": payment.pk, "action": action, "callback": "scheduled"}, status=202
            )
        return redirect("payments-sandbox-checkout", payment_id=payment.pk)


class ReturnPage(View):
    def get(self, request: HttpRequest, payment_id: int) -> HttpResponse:
        payment = sandbox_payment(payment_pk=payment_id)
        if payment is None:
            raise Http404("No such payment.")
        return render(request, "payments/return.html", {"payment": payment})
