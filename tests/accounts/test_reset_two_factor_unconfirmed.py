"""manage.py reset_two_factor for an operator with only an unfinished setup (an unconfirmed
device): the device goes, but two-factor sign-in was never on, so nothing says it was removed
and no operator.otp_reset entry claims it went from on to off."""

from __future__ import annotations

from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django_otp.plugins.otp_totp.models import TOTPDevice

from apps.audit.models import AuditLogEntry

pytestmark = pytest.mark.django_db


def reset(username: str) -> str:
    out = StringIO()
    call_command("reset_two_factor", username, stdout=out)
    return out.getvalue().strip()


def test_an_unfinished_setup_is_removed_without_claiming_two_factor_was_on():
    u1 = get_user_model().objects.create_user(username="u1", password="pw-long-enough-1")
    TOTPDevice.objects.create(user=u1, name="Authenticator app", confirmed=False)

    said = reset("u1")

    assert said == "u1 had no two-factor device."
    assert not TOTPDevice.objects.filter(user=u1).exists()
    assert not AuditLogEntry.objects.filter(action="operator.otp_reset").exists()


def test_a_confirmed_device_is_removed_and_audited():
    u2 = get_user_model().objects.create_user(username="u2", password="pw-long-enough-1")
    TOTPDevice.objects.create(user=u2, name="Authenticator app", confirmed=True)
    TOTPDevice.objects.create(user=u2, name="Authenticator app", confirmed=False)

    said = reset("u2")

    assert said == "Two-factor sign-in of u2 removed."
    assert not TOTPDevice.objects.filter(user=u2).exists()
    entry = AuditLogEntry.objects.get(action="operator.otp_reset", target_id=str(u2.pk))
    assert (entry.before, entry.after) == ({"two_factor": True}, {"two_factor": False})
