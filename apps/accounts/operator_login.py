"""The operators' sign-in form (the admin's, which the panel uses): the password, then — for an
operator who set up an authenticator app — a current code from it. An operator without one
signs in with the password alone; games that require a second factor stay hidden from such a
sign-in (`selectors.games_for_user`).

A signed-in operator who gives the password again (to set up a second factor, to change the
password) is checked as a sign-in is (`check_operator_password`): a session taken over is not
an unlimited way to guess it."""

from __future__ import annotations

from enum import Enum
from typing import Any

from axes.handlers.proxy import AxesProxyHandler
from django import forms
from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm, AdminPasswordChangeForm
from django.contrib.auth.models import AbstractBaseUser
from django.contrib.auth.signals import user_login_failed
from django.contrib.auth.views import PasswordChangeView
from django.http import HttpRequest
from django.urls import reverse_lazy
from django_otp import match_token, user_has_device


class PasswordCheck(Enum):
    RIGHT = "right"
    WRONG = "wrong"
    LOCKED_OUT = "locked_out"


def check_operator_password(
    *, request: HttpRequest, user: AbstractBaseUser, password: str
) -> PasswordCheck:
    """A signed-in operator's password, given again, checked as the sign-in form checks it: a
    wrong one is a failed sign-in (Django's user_login_failed: django-axes counts it towards the
    username's and the address's limits, the audit log records it), and while axes has either
    locked out nothing is checked and the attempt counts again, as on the login form. Either
    failure that reaches the limit leaves the request marked by axes, and its middleware answers
    it with the login's lock-out page (429, AXES_LOCKOUT_CALLABLE)."""
    credentials = {"username": user.get_username()}
    if not AxesProxyHandler.is_allowed(request, credentials):
        _failed(request, credentials)
        return PasswordCheck.LOCKED_OUT
    if user.check_password(password or ""):
        return PasswordCheck.RIGHT
    _failed(request, credentials)
    return PasswordCheck.WRONG


def _failed(request: HttpRequest | None, credentials: dict[str, str]) -> None:
    user_login_failed.send(sender=__name__, credentials=credentials, request=request)


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
            _failed(self.request, {"username": user.get_username()})
            raise forms.ValidationError(self.error_messages["otp_invalid"], code="otp_invalid")
        # django-otp's user_logged_in receiver marks the session verified with this device.
        user.otp_device = device  # type: ignore[attr-defined]
        return data


LOCKED_OUT_MESSAGE = "Too many failed sign-ins: try again later."


class OperatorPasswordChangeForm(AdminPasswordChangeForm):
    """The admin's password change, its old password checked as a sign-in is."""

    def __init__(self, user: AbstractBaseUser, *args: Any, request: HttpRequest, **kwargs: Any):
        super().__init__(user, *args, **kwargs)
        self.request = request

    def clean_old_password(self) -> str:
        old_password: str = self.cleaned_data["old_password"]
        check = check_operator_password(request=self.request, user=self.user, password=old_password)
        if check is PasswordCheck.LOCKED_OUT:
            raise forms.ValidationError(LOCKED_OUT_MESSAGE, code="locked_out")
        if check is PasswordCheck.WRONG:
            raise forms.ValidationError(
                self.error_messages["password_incorrect"], code="password_incorrect"
            )
        return old_password


class OperatorPasswordChangeView(PasswordChangeView):
    """/admin/password_change/ (gamingpanel/urls.py routes it before the admin's own, which
    Django 5.2 gives no way to hand another form): the admin's page and form, with
    OperatorPasswordChangeForm."""

    form_class = OperatorPasswordChangeForm
    success_url = reverse_lazy("admin:password_change_done")

    def get_form_kwargs(self) -> dict[str, Any]:
        return {**super().get_form_kwargs(), "request": self.request}

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        self.request.current_app = admin.site.name
        return {**admin.site.each_context(self.request), **super().get_context_data(**kwargs)}
