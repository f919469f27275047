"""The player page's cloud saves: each document with its kept versions, and restoring one
(cloudsave's restore_version, which writes the audit log in its transaction). A restore writes
over the document, so it asks first (views/confirm.py)."""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.contrib import messages
from django.http import HttpResponse
from django.template.defaultfilters import truncatechars

from apps.accounts.models import Game, Player
from apps.cloudsave.services import restore_version
from apps.panel.access import StaffRequest
from apps.panel.selectors import save_to_restore
from apps.panel.views.common import invalid_form
from apps.panel.views.confirm import ask_on_player_page, confirmed


class RestoreSaveForm(forms.Form):
    key = forms.CharField(max_length=64)
    version = forms.IntegerField(min_value=1)
    # The document's version as the page showed it: the restore applies only to that.
    current = forms.IntegerField(min_value=1)
    reason = forms.CharField(max_length=300)


def restore_save(request: StaffRequest, game: Game, player: Player) -> HttpResponse | None:
    form = RestoreSaveForm(request.POST)
    if not form.is_valid():
        invalid_form(request, form)
        return None
    data = form.cleaned_data
    if not confirmed(request):
        return _ask(request, game, player, data)
    # Restored only over `current`, the version the page showed: a confirmation sent twice
    # finds the first's version and changes nothing (412 precondition_failed).
    restored = restore_version(
        actor=request.user,
        player=player,
        key=data["key"],
        version=data["version"],
        reason=data["reason"].strip(),
        seen_version=data["current"],
    )
    messages.success(
        request,
        f"Restored {restored.key} from version {data['version']}; it is now version "
        f"{restored.version}.",
    )
    return None


def _ask(
    request: StaffRequest, game: Game, player: Player, data: dict[str, Any]
) -> HttpResponse | None:
    """The confirmation, or (a version that is not there, or a page out of date) why not."""
    key, version, current = data["key"], data["version"], data["current"]
    found = save_to_restore(player=player, key=key, version=version)
    if found is None:
        problem = f"no kept version {version} of {key!r}."
    elif found[1].value is None:
        problem = f"version {version} of {key!r} is its deletion: restore a version with a value."
    elif found[0].version != current:
        problem = (
            f"{key!r} changed since the page was loaded (it is at version {found[0].version}); "
            "reload it and choose again."
        )
    else:
        document, kept = found
        return ask_on_player_page(
            request,
            game,
            player,
            question=f"Restore {key} of {player} to version {version}?",
            facts=[
                f"{player}'s {key} becomes version {current + 1}, with the value of version "
                f"{version}: {_json(kept.value)}.",
                f"{key} is deleted now (version {current}): the restore brings it back."
                if document.deleted
                else f"It replaces the value of version {current}: {_json(document.value)}.",
                "The player's devices get the restored value on their next read; one that "
                f"writes over version {current} is refused and sent the restored copy.",
                f"Reason, kept in the audit log: “{data['reason'].strip()}”.",
            ],
            button=f"Restore {key} version {version}",
        )
    messages.error(request, f"Nothing changed: {problem}")
    return None


def _json(value: Any) -> str:
    return truncatechars(json.dumps(value, ensure_ascii=False, sort_keys=True), 200)
