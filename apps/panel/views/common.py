from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages

from apps.accounts.models import Game
from apps.accounts.selectors import READ_ROLES, games_for_user, user_role
from apps.panel.access import StaffRequest, can_write


def page_context(request: StaffRequest, game: Game | None, **extra: Any) -> dict[str, Any]:
    """What every panel page needs: the admin's header and navigation, the game picker."""
    return {
        **admin.site.each_context(request),
        "game": game,
        "games": games_for_user(request.user, roles=READ_ROLES).order_by("name"),
        "role": user_role(request.user, game) if game else None,
        "can_write": can_write(request, game) if game else False,
        **extra,
    }


def invalid_form(request: StaffRequest, form: forms.Form) -> None:
    """A refused panel form: one message naming each field and why; nothing was changed."""
    problems = "; ".join(
        f"{name}: {' '.join(str(message) for message in errors)}"
        if name != "__all__"
        else " ".join(str(message) for message in errors)
        for name, errors in form.errors.items()
    )
    messages.error(request, f"Nothing changed: {problems}")
