"""The admin's password change checks the old password as a sign-in does: a wrong one is a failed
login (django-axes counts it, the audit log records it), and a lock-out refuses the change with
the login's own 429 page, the right old password included."""

from __future__ import annotations

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth.models import User
from django.test import Client
from django.urls import resolve, reverse

from apps.audit.models import AuditLogEntry

URL = "/admin/password_change/"
RIGHT = "right-horse-battery-staple"
NEW = "Zx9!a-new-operator-password"
LIMIT = settings.AXES_FAILURE_LIMIT

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fast_passwords(settings) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def staff() -> User:
    return User.objects.create_user(username="oscar", password=RIGHT, is_staff=True)


@pytest.fixture
def signed_in(staff: User) -> Client:
    client = Client()
    client.force_login(staff)
    return client


def change(client: Client, old: str, **extra):
    return client.post(
        URL, {"old_password": old, "new_password1": NEW, "new_password2": NEW}, **extra
    )


def assert_locked_out(response) -> None:
    assert response.status_code == 429
    assert "Too many failed logins" in response.content.decode()
    assert response["Retry-After"] == str(int(settings.AXES_COOLOFF_TIME.total_seconds()))


def test_the_admin_page_is_this_form(signed_in):
    from apps.accounts.operator_login import OperatorPasswordChangeView

    assert resolve(reverse("admin:password_change")).func.view_class is OperatorPasswordChangeView
    page = signed_in.get(URL)
    assert page.status_code == 200
    assert "Gaming Panel" in page.content.decode()  # the admin's header
    assert 'name="old_password"' in page.content.decode()


def test_the_right_old_password_changes_it(signed_in, staff):
    response = change(signed_in, RIGHT)
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:password_change_done")
    staff.refresh_from_db()
    assert staff.check_password(NEW)
    assert not AccessAttempt.objects.exists()


def test_wrong_old_passwords_lock_the_operator_out_even_with_the_right_one(signed_in, staff):
    for number in range(LIMIT - 1):
        refused = change(signed_in, f"guess-{number}")
        assert refused.status_code == 200
        assert "Your old password was entered incorrectly" in refused.content.decode()
    assert_locked_out(change(signed_in, "guess-last"))

    assert_locked_out(change(signed_in, RIGHT))
    staff.refresh_from_db()
    assert staff.check_password(RIGHT)
    login = Client().post("/admin/login/", {"username": "oscar", "password": RIGHT})
    assert_locked_out(login)

    actions = list(
        AuditLogEntry.objects.filter(action__startswith="login_")
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert actions[: LIMIT - 1] == ["login_failed"] * (LIMIT - 1)
    assert actions[LIMIT - 1] == "login_locked_out"
    # Neither the guesses nor the new password are kept in axes' rows or the audit log.
    stored = " ".join(str(vars(row)) for row in AccessAttempt.objects.all())
    stored += " ".join(str(vars(entry)) for entry in AuditLogEntry.objects.all())
    assert "guess-" not in stored and NEW not in stored and RIGHT not in stored


def test_a_lock_out_from_the_login_form_refuses_the_change(signed_in, staff):
    for number in range(LIMIT):
        Client().post(
            "/admin/login/",
            {"username": "oscar", "password": f"guess-{number}"},
            REMOTE_ADDR=f"203.0.113.{number + 1}",
        )
    assert_locked_out(change(signed_in, RIGHT, REMOTE_ADDR="198.51.100.7"))
    staff.refresh_from_db()
    assert staff.check_password(RIGHT)
