"""The player page's cloud saves: each document with its kept versions, and restoring one
(cloudsave's restore_version, which writes the audit log in its transaction)."""

from __future__ import annotations

from django import forms
from django.contrib import messages

from apps.accounts.models import Game, Player
from apps.cloudsave.services import restore_version
from apps.panel.access import StaffRequest
from apps.panel.views.common import invalid_form


class RestoreSaveForm(forms.Form):
    key = forms.CharField(max_length=64)
    version = forms.IntegerField(min_value=1)
    # The document's version as the page showed it: the restore applies only to that.
    current = forms.IntegerField(min_value=1)
    reason = forms.CharField(max_length=300)


def restore_save(request: StaffRequest, game: Game, player: Player) -> None:
    form = RestoreSaveForm(request.POST)
    if not form.is_valid():
        return invalid_form(request, form)
    data = form.cleaned_data
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
