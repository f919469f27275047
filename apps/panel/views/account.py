"""The operator's own account: two-factor sign-in with an authenticator app (TOTP)."""

from __future__ import annotations

import base64
import time

import qrcode
import qrcode.image.svg
from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django_otp import login as otp_login

from apps.accounts.selectors import operator_verified
from apps.accounts.services import two_factor
from apps.panel.access import StaffRequest
from apps.panel.views.common import page_context
from gamingpanel.errors import DomainError

# The session that gave the password for a setup, and for how long its secret is shown there.
SETUP_SESSION_KEY = "gp_otp_setup"
SETUP_SECONDS = 600


@never_cache
@staff_member_required
def two_factor_page(request: StaffRequest) -> HttpResponse:
    user = request.user
    if request.method == "POST":
        step = request.POST.get("step")
        token = request.POST.get("token", "")
        try:
            if step == "start":
                started = two_factor.start_setup(
                    user=user, password=request.POST.get("password", ""), request=request
                )
                request.session[SETUP_SESSION_KEY] = [started.pk, time.time() + SETUP_SECONDS]
            elif step == "confirm":
                device = two_factor.confirm_setup(
                    user=user, token=token, device_id=setup_started_here(request)
                )
                request.session.pop(SETUP_SESSION_KEY, None)
                otp_login(request, device)  # this sign-in has just shown a code
                messages.success(request, "Two-factor sign-in is on: sign-ins now ask for a code.")
            elif step == "remove":
                two_factor.remove(user=user, token=token)
                messages.success(request, "Two-factor sign-in is off.")
        except DomainError as error:
            messages.error(request, f"Nothing changed: {error.detail}")
        return redirect("panel:two-factor")
    pending = two_factor.pending_device(user, device_id=setup_started_here(request))
    context = page_context(
        request,
        None,
        title="Two-factor sign-in",
        gp_section="account",
        enabled=two_factor.confirmed_device(user) is not None,
        verified=operator_verified(user),
        pending=pending,
        secret=pending and _base32(pending.bin_key),
        qr_svg=pending and _qr_svg(pending.config_url),
    )
    return render(request, "panel/two_factor.html", context)


def setup_started_here(request: StaffRequest) -> int | None:
    """The device whose setup this session started (with the password) in the last
    SETUP_SECONDS, or None: another session, or a setup left unfinished, shows no secret."""
    started = request.session.get(SETUP_SESSION_KEY)
    if not isinstance(started, list) or len(started) != 2 or started[1] < time.time():
        return None
    return int(started[0])


def _base32(key: bytes) -> str:
    return base64.b32encode(key).decode().rstrip("=")


def _qr_svg(url: str) -> str:
    """The otpauth:// link as an inline SVG QR code (no image request, nothing external)."""
    image = qrcode.make(url, image_factory=qrcode.image.svg.SvgPathImage, box_size=8)
    return image.to_string(encoding="unicode")
