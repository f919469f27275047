"""An operator's optional second factor: a TOTP authenticator app (django-otp's TOTP device).
Set up in two steps — a new unconfirmed device shows its secret, a correct code confirms it —
and removed with a current code. Each change is in the audit log."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.db import transaction
from django.http import HttpRequest
from django_otp.plugins.otp_totp.models import TOTPDevice

from apps.accounts.operator_actions import announce_action
from apps.accounts.operator_login import LOCKED_OUT_MESSAGE, PasswordCheck, check_operator_password
from gamingpanel.errors import InvalidInput

DEVICE_NAME = "Authenticator app"


def confirmed_device(user: User) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).first()


def start_setup(*, user: User, password: str, request: HttpRequest) -> TOTPDevice:
    """A fresh unconfirmed device (an earlier unfinished setup is replaced). Asks for the
    password again: a session taken over (a stolen cookie) cannot enrol a device of its own.
    The password is checked as at sign-in (a wrong one counts towards django-axes' limits and
    is audited), and only when there is a setup to start; outside a transaction, so the failure
    a wrong one records stays written."""
    if confirmed_device(user) is not None:
        raise InvalidInput("Two-factor sign-in is already set up; remove it first to replace it.")
    check = check_operator_password(request=request, user=user, password=password)
    if check is PasswordCheck.LOCKED_OUT:
        raise InvalidInput(LOCKED_OUT_MESSAGE)
    if check is PasswordCheck.WRONG:
        raise InvalidInput("That password is wrong; enter your own to set up a second factor.")
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user, confirmed=False).delete()
        return TOTPDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=False)


def pending_device(user: User, *, device_id: int | None) -> TOTPDevice | None:
    """The unconfirmed device of the setup the caller started (`device_id`, which the panel
    keeps in the session that gave the password, for a few minutes): its secret is shown, and
    confirmed, only there, so a session taken over after the password was given cannot read
    the secret and enrol it as its own."""
    if device_id is None:
        return None
    return TOTPDevice.objects.filter(user=user, confirmed=False, pk=device_id).first()


def confirm_setup(*, user: User, token: str, device_id: int | None) -> TOTPDevice:
    with transaction.atomic():
        device = (
            TOTPDevice.objects.select_for_update()
            .filter(user=user, confirmed=False, pk=device_id)
            .first()
            if device_id is not None
            else None
        )
        if device is None:
            raise InvalidInput("Start the setup first (a setup lasts 10 minutes).")
        accepted = device.verify_token(_clean(token))
        if accepted:
            device.confirmed = True
            device.save(update_fields=["confirmed"])
            announce_action(
                actor=user, game=None, action="operator.otp_enabled", target=user,
                before={"two_factor": False}, after={"two_factor": True},
            )  # fmt: skip
    _refuse_unless(accepted)
    return device


def remove(*, user: User, token: str) -> None:
    with transaction.atomic():
        device = TOTPDevice.objects.select_for_update().filter(user=user, confirmed=True).first()
        if device is None:
            raise InvalidInput("Two-factor sign-in is not set up.")
        accepted = device.verify_token(_clean(token))
        if accepted:
            TOTPDevice.objects.filter(user=user).delete()
            announce_action(
                actor=user, game=None, action="operator.otp_removed", target=user,
                before={"two_factor": True}, after={"two_factor": False},
            )  # fmt: skip
    _refuse_unless(accepted)


def reset(*, user: User) -> bool:
    """An operator who lost their device: every device of theirs removed, so they sign in
    with the password and set one up again; games that require a code stay hidden until then.
    True, and audited, when two-factor sign-in was on (a confirmed device); an unfinished
    setup's device alone is removed too, but two-factor sign-in was never on."""
    with transaction.atomic():
        # Locked first: a setup being confirmed meanwhile waits, then finds its device gone.
        devices = TOTPDevice.objects.select_for_update().filter(user=user)
        was_on = any(devices.values_list("confirmed", flat=True))
        TOTPDevice.objects.filter(user=user).delete()
        if was_on:
            announce_action(
                actor=None, game=None, action="operator.otp_reset", target=user,
                before={"two_factor": True}, after={"two_factor": False},
            )  # fmt: skip
    return was_on


def _refuse_unless(accepted: bool) -> None:
    """Raised after the transaction committed, not inside it: a wrong code's failure count
    (django-otp's throttling, which makes each next try wait longer) must stay written, or
    codes could be guessed here as fast as they can be sent."""
    if not accepted:
        raise InvalidInput(
            "That code is wrong or has expired (or came too soon after a wrong one); "
            "enter the current one."
        )


def _clean(token: str) -> str:
    return (token or "").strip().replace(" ", "")
