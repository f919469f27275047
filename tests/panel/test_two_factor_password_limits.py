"""The password a signed-in operator gives to start a two-factor setup is checked as a sign-in is:
a wrong one is a failed login (django-axes counts it, the audit log records it), a lock-out
refuses the step with the login's own 429 page, and an operator who already has a device is
refused before the password is read."""

from __future__ import annotations

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice

from apps.audit.models import AuditLogEntry
from tests.panel.conftest import PASSWORD, client_for

PAGE = "/panel/account/two-factor/"
LIMIT = settings.AXES_FAILURE_LIMIT

pytestmark = pytest.mark.django_db


def start(client: Client, password: str, **extra):
    return client.post(PAGE, {"step": "start", "password": password}, **extra)


def assert_locked_out(response) -> None:
    assert response.status_code == 429
    assert "Too many failed logins" in response.content.decode()
    assert response["Retry-After"] == str(int(settings.AXES_COOLOFF_TIME.total_seconds()))


def login_failures() -> list[str]:
    return list(
        AuditLogEntry.objects.filter(action__startswith="login_")
        .order_by("id")
        .values_list("action", flat=True)
    )


def test_wrong_setup_passwords_lock_the_operator_out_even_with_the_right_one(operator):
    client = client_for(operator)
    for number in range(LIMIT - 1):
        refused = start(client, f"guess-{number}", follow=True)
        assert "That password is wrong" in refused.content.decode()
    assert_locked_out(start(client, "guess-last"))

    assert_locked_out(start(client, PASSWORD))  # the right one, during the lock-out
    assert not TOTPDevice.objects.filter(user=operator).exists()
    # The same limits as the login form's: the name is locked out there too.
    login = Client().post("/admin/login/", {"username": operator.username, "password": PASSWORD})
    assert_locked_out(login)
    assert not login.wsgi_request.user.is_authenticated

    actions = login_failures()
    assert actions[: LIMIT - 1] == ["login_failed"] * (LIMIT - 1)
    assert actions[LIMIT - 1] == "login_locked_out"
    first = AuditLogEntry.objects.filter(action="login_failed").earliest("id")
    assert (first.target_type, first.target_id) == ("auth.user", str(operator.pk))
    stored = " ".join(str(vars(row)) for row in AccessAttempt.objects.all())
    stored += " ".join(str(vars(entry)) for entry in AuditLogEntry.objects.all())
    assert "guess-" not in stored and PASSWORD not in stored


def test_a_lock_out_from_the_login_form_refuses_the_step(operator):
    client = client_for(operator)  # signed in first: a sign-in resets the name's failures
    for number in range(LIMIT):
        Client().post(
            "/admin/login/",
            {"username": operator.username, "password": f"guess-{number}"},
            REMOTE_ADDR=f"203.0.113.{number + 1}",
        )
    response = start(client, PASSWORD, REMOTE_ADDR="198.51.100.7")
    assert_locked_out(response)
    assert not TOTPDevice.objects.filter(user=operator).exists()


def test_a_locked_out_address_refuses_the_step(operator):
    client = client_for(operator)
    for number in range(LIMIT):
        Client().post(
            "/admin/login/",
            {"username": f"nobody-{number}", "password": "guess"},
            REMOTE_ADDR="203.0.113.9",
        )
    assert_locked_out(start(client, PASSWORD, REMOTE_ADDR="203.0.113.9"))
    started = start(client, PASSWORD, REMOTE_ADDR="198.51.100.7")
    assert started.status_code == 302  # another address
    assert TOTPDevice.objects.filter(user=operator, confirmed=False).exists()


def test_under_the_limit_the_right_password_starts_the_setup(operator):
    client = client_for(operator)
    for number in range(LIMIT - 2):
        start(client, f"guess-{number}")
    assert start(client, PASSWORD).status_code == 302
    assert TOTPDevice.objects.filter(user=operator, confirmed=False).count() == 1
    assert "<svg" in client.get(PAGE).content.decode()
    assert login_failures() == ["login_failed"] * (LIMIT - 2)


def test_with_a_device_set_up_the_step_is_refused_before_the_password_is_read(operator):
    TOTPDevice.objects.create(user=operator, name="Authenticator app", confirmed=True)
    client = client_for(operator)
    for number in range(LIMIT + 1):
        refused = start(client, f"guess-{number}", follow=True)
        page = refused.content.decode()
        assert "already set up" in page and "That password is wrong" not in page
    assert not AccessAttempt.objects.exists()
    assert login_failures() == []
