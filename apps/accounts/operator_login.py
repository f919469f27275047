"""The operators' sign-in form (the admin's, which the panel uses): the password, then — for an
operator who set up an authenticator app — a current code from it. An operator without one
signs in with the password alone; games that require a second factor stay hidden from such a
sign-in (`selectors.games_for_user`)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.signals import user_login_failed
from django_otp import match_token, user_has_device


class OperatorLoginForm(AdminAuthenticationForm):
    otp_token = forms.CharField(
        required=False,
        max_length=8,
        label="Authenticator code",
        help_text="Only if you set up two-factor sign-in.",
        widget=forms.TextInput({"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )

    error_messages = {
        **AdminAuthenticationForm.error_messages,
        "otp_required": "Enter the 6-digit code from your authenticator app.",
        "otp_invalid": "That code is wrong or has expired; enter the current one.",
    }

    def clean(self) -> dict[str, Any]:
        data = super().clean()  # the password (and django-axes' limits) first
        user = self.get_user()
        if user is None or not user_has_device(user):
            return data
        token = (data.get("otp_token") or "").strip().replace(" ", "")
        if not token:
            raise forms.ValidationError(self.error_messages["otp_required"], code="otp_required")
        device = match_token(user, token)
        if device is None:
            # A failed sign-in like a wrong password: django-axes counts it towards the
            # username's and the address's limits (a stolen password does not buy unlimited
            # guesses at the code), and the audit log records it.
            user_login_failed.send(
                sender=__name__, credentials={"username": user.get_username()}, request=self.request
            )
            raise forms.ValidationError(self.error_messages["otp_invalid"], code="otp_invalid")
        # django-otp's user_logged_in receiver marks the session verified with this device.
        user.otp_device = device  # type: ignore[attr-defined]
        return data
