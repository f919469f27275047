"""Operator logins are limited (issue 14 item 5): per username and per address, a lock-out with a
clear 429 page and Retry-After on the admin's login form (the panel's too), and every failure in
the audit log. django-axes counts; settings.AXES_* choose the limits."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth.models import User
from django.test import Client

from apps.audit import services as audit_services
from apps.audit.models import AuditLogEntry

LOGIN = "/admin/login/"
PANEL_LOGIN = "/admin/login/?next=/panel/"
RIGHT = "right-horse-battery-staple"
LIMIT = settings.AXES_FAILURE_LIMIT

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_user() -> User:
    return User.objects.create_user(
        username="admin", password=RIGHT, is_staff=True, is_superuser=True
    )


def attempt(username: str, password: str, *, address: str = "127.0.0.1", url: str = LOGIN):
    return Client().post(
        url,
        {"username": username, "password": password, "next": "/panel/"},
        REMOTE_ADDR=address,
    )


def logged_in(response) -> bool:
    return response.status_code == 302 and response.wsgi_request.user.is_authenticated


def assert_locked_out(response) -> None:
    assert response.status_code == 429
    assert response["Retry-After"] == str(int(settings.AXES_COOLOFF_TIME.total_seconds()))
    page = response.content.decode()
    assert "Too many failed logins" in page
    assert f"paused for {int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)} minutes" in page


def test_the_right_password_logs_in(admin_user):
    assert logged_in(attempt("admin", RIGHT))


def test_wrong_passwords_for_one_username_lock_it_out_even_with_the_right_one(admin_user):
    for number in range(LIMIT - 1):
        response = attempt("admin", f"guess-{number}", address=f"203.0.113.{number + 1}")
        assert response.status_code == 200  # the form again, with Django's error
        assert "Please enter the correct username and password" in response.content.decode()

    assert_locked_out(attempt("admin", "guess-last", address="203.0.113.50"))
    # The right password, from an address that never failed: still refused, for this username.
    response = attempt("admin", RIGHT, address="198.51.100.7")
    assert_locked_out(response)
    assert not response.wsgi_request.user.is_authenticated


def test_wrong_passwords_from_one_address_lock_that_address_out(admin_user):
    for number in range(LIMIT - 1):
        assert attempt(f"nobody-{number}", "guess", address="203.0.113.9").status_code == 200
    assert_locked_out(attempt("someone-else", "guess", address="203.0.113.9"))

    assert_locked_out(attempt("admin", RIGHT, address="203.0.113.9"))
    assert logged_in(attempt("admin", RIGHT, address="198.51.100.7"))  # another address


def test_the_panel_login_is_limited_the_same_way(admin_user):
    for number in range(LIMIT):
        response = attempt("admin", f"guess-{number}", url=PANEL_LOGIN)
    assert_locked_out(response)
    assert_locked_out(attempt("admin", RIGHT, url=PANEL_LOGIN))


def test_after_the_cool_off_the_right_password_works_again(admin_user):
    for number in range(LIMIT):
        attempt("admin", f"guess-{number}")
    assert_locked_out(attempt("admin", RIGHT))

    # The pause runs from the last attempt: move every stored attempt back past it.
    passed = settings.AXES_COOLOFF_TIME + timedelta(seconds=1)
    for row in AccessAttempt.objects.all():
        AccessAttempt.objects.filter(pk=row.pk).update(attempt_time=row.attempt_time - passed)
    assert logged_in(attempt("admin", RIGHT))


def test_a_success_before_the_limit_starts_the_count_again(admin_user):
    for number in range(LIMIT - 1):
        attempt("admin", f"guess-{number}")
    assert logged_in(attempt("admin", RIGHT))
    for number in range(LIMIT - 1):
        assert attempt("admin", f"again-{number}").status_code == 200


def test_every_failure_is_in_the_audit_log_without_the_password(admin_user):
    for number in range(LIMIT + 1):
        attempt("admin", f"secret-guess-{number}", address="203.0.113.4")
    attempt("secret-typed-as-a-name", "secret-guess-x", address="198.51.100.8")

    entries = list(AuditLogEntry.objects.order_by("id"))
    actions = [entry.action for entry in entries]
    # LIMIT - 1 failures, the one that locked out (the attempt made while locked out right after
    # it is counted into the address's next lock-out entry), an unknown name elsewhere.
    assert actions == ["login_failed"] * (LIMIT - 1) + ["login_locked_out", "login_failed"]
    first = entries[0]
    assert first.actor is None and first.actor_name == "anonymous"
    assert (first.target_type, first.target_id) == ("auth.user", str(admin_user.pk))
    assert first.target_repr == "admin"
    assert first.after == {"address": "203.0.113.4", "known_user": True}
    assert entries[-1].target_id == "" and entries[-1].after["known_user"] is False
    assert entries[-1].target_repr.startswith("unknown name ")  # a fingerprint, not the name
    unkeyed = hashlib.sha256(b"secret-typed-as-a-name").hexdigest()[:8]
    assert unkeyed not in entries[-1].target_repr  # keyed: a guess cannot be checked against it
    stored = " ".join(str(vars(entry)) for entry in entries)
    assert "secret-typed-as-a-name" not in stored
    stored += " ".join(str(vars(row)) for row in AccessAttempt.objects.all())
    assert "secret-guess" not in stored


def test_attempts_while_locked_out_are_one_entry_a_minute_per_address_with_a_count(
    admin_user, monkeypatch
):
    now = [1_800_000_000.0]  # a minute's start
    monkeypatch.setattr(audit_services, "_clock", lambda: now[0])
    for number in range(LIMIT):
        attempt("admin", f"guess-{number}", address="203.0.113.7")
    # A script hammering the locked address, a new name each time: refused, and counted.
    for number in range(30):
        assert_locked_out(attempt(f"name-{number}", "guess", address="203.0.113.7"))
    assert_locked_out(attempt("admin", "guess", address="198.51.100.3"))  # the locked name

    locked = AuditLogEntry.objects.filter(action="login_locked_out").order_by("id")
    assert [(e.after["address"], e.after["repeats"]) for e in locked] == [
        ("203.0.113.7", 0),
        ("198.51.100.3", 0),
    ]
    now[0] += audit_services.LOCKED_OUT_ENTRY_SECONDS  # the next minute
    assert_locked_out(attempt("name-late", "guess", address="203.0.113.7"))
    latest = AuditLogEntry.objects.filter(action="login_locked_out").latest("id")
    assert (latest.after["address"], latest.after["repeats"]) == ("203.0.113.7", 30)
    assert latest.target_repr.startswith("unknown name ")


def test_a_successful_login_is_not_audited_as_a_failure(admin_user):
    attempt("admin", RIGHT)
    assert not AuditLogEntry.objects.filter(action__startswith="login_").exists()
