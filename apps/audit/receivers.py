"""Operator login failures into the audit log, one entry per attempt on the admin's login form
(which the panel uses): `login_failed` for a wrong password (Django's user_login_failed), and
`login_locked_out` for the failure that started a lock-out and every attempt during one
(django-axes' user_locked_out)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from apps.audit.services import record_login_failure


def _address(request: HttpRequest | None) -> str | None:
    return getattr(request, "axes_ip_address", None) if request is not None else None


def login_failed(
    sender: object, credentials: dict, request: HttpRequest | None = None, **kwargs: Any
) -> None:
    if request is None:  # authenticate() called outside a request (a shell, a test): no login
        return
    if getattr(request, "axes_locked_out", False):
        return  # axes (whose receiver ran first) sent user_locked_out: recorded by locked_out
    record_login_failure(
        username=str(credentials.get("username") or ""),
        address=_address(request),
        locked_out=False,
    )


def locked_out(
    sender: object,
    request: HttpRequest | None = None,
    username: str | None = None,
    ip_address: str | None = None,
    **kwargs: Any,
) -> None:
    record_login_failure(username=username or "", address=ip_address, locked_out=True)
