"""An operator's optional second factor: a TOTP authenticator app (django-otp's TOTP device).
Set up in two steps — a new unconfirmed device shows its secret, a correct code confirms it —
and removed with a current code. Each change is in the audit log."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.db import transaction
from django_otp.plugins.otp_totp.models import TOTPDevice

from apps.accounts.operator_actions import announce_action
from gamingpanel.errors import InvalidInput

DEVICE_NAME = "Authenticator app"


def confirmed_device(user: User) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).first()


@transaction.atomic
def start_setup(*, user: User) -> TOTPDevice:
    """A fresh unconfirmed device (an earlier unfinished setup is replaced)."""
    if confirmed_device(user) is not None:
        raise InvalidInput("Two-factor sign-in is already set up; remove it first to replace it.")
    TOTPDevice.objects.filter(user=user, confirmed=False).delete()
    return TOTPDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=False)


def pending_device(user: User) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=False).first()


@transaction.atomic
def confirm_setup(*, user: User, token: str) -> TOTPDevice:
    device = TOTPDevice.objects.select_for_update().filter(user=user, confirmed=False).first()
    if device is None:
        raise InvalidInput("Start the setup first.")
    if not device.verify_token(_clean(token)):
        raise InvalidInput("That code is wrong or has expired; enter the current one.")
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    announce_action(
        actor=user, game=None, action="operator.otp_enabled", target=user,
        before={"two_factor": False}, after={"two_factor": True},
    )  # fmt: skip
    return device


@transaction.atomic
def remove(*, user: User, token: str) -> None:
    device = confirmed_device(user)
    if device is None:
        raise InvalidInput("Two-factor sign-in is not set up.")
    if not device.verify_token(_clean(token)):
        raise InvalidInput("That code is wrong or has expired; enter the current one.")
    TOTPDevice.objects.filter(user=user).delete()
    announce_action(
        actor=user, game=None, action="operator.otp_removed", target=user,
        before={"two_factor": True}, after={"two_factor": False},
    )  # fmt: skip


def _clean(token: str) -> str:
    return (token or "").strip().replace(" ", "")
