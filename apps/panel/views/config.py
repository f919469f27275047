"""Remote config in the panel: operators edit the draft (keys and their overrides), publish it,
see the releases and roll back to one. Every change goes through remoteconfig's services,
which write the audit log in their transaction. Deleting a key or an override and rolling back
ask first (views/confirm.py)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.template.defaultfilters import truncatechars
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from apps.accounts.models import Game
from apps.panel.access import StaffRequest, readable_game, writable_game
from apps.panel.forms import UtcDateTimeField
from apps.panel.selectors import draft_key, draft_override, release_of, typed_number
from apps.panel.views.common import invalid_form, page_context
from apps.panel.views.confirm import Ask, ask_first, confirmed
from apps.remoteconfig.errors import InvalidConfigRule, ReleaseNotFound
from apps.remoteconfig.models import ConfigKey, ConfigOverride
from apps.remoteconfig.rules import draft_snapshot
from apps.remoteconfig.selectors import draft_keys, releases_of
from apps.remoteconfig.services import (
    LEVEL_LIMIT,
    add_override,
    delete_key,
    delete_override,
    is_key,
    publish,
    rollback,
    set_key,
    value_too_large,
)
from gamingpanel.errors import DomainError
from gamingpanel.parsers import loads
from gamingpanel.storable import MAX_DEPTH, has_unstorable_text, too_deep


class JsonField(forms.CharField):
    """Any JSON value but `null` (a key the config leaves out is deleted instead): `[]`, `{}`,
    `""`, `0` and `false` included (required means some text was sent, not a truthy value);
    as the API's own parser, no NaN, Infinity or number too large to be other than infinity;
    nothing the database cannot store (U+0000, a lone surrogate, nesting past MAX_DEPTH)."""

    widget = forms.Textarea({"rows": 2, "cols": 40})

    def clean(self, value: Any) -> Any:
        text = super().clean(value)  # stripped; "This field is required." when there is none
        try:
            parsed = loads(text, strict=True)
        except ValueError as error:
            raise ValidationError(f"Not JSON: {error}") from None
        if parsed is None:
            raise ValidationError("null is not a value: delete the key to leave it out.")
        if too_deep(parsed):
            raise ValidationError(f"Nested more than {MAX_DEPTH} levels deep.")
        if has_unstorable_text(parsed):
            raise ValidationError("U+0000 or a lone surrogate: the panel stores neither.")
        return parsed


class KeyForm(forms.Form):
    key = forms.RegexField(r"^[A-Za-z0-9_.-]{1,64}$", max_length=64)
    value = JsonField(help_text='JSON: 1.5, "text", true, {"a": 1}…')
    description = forms.CharField(max_length=300, required=False)


class OverrideForm(forms.Form):
    key = forms.CharField(max_length=64, widget=forms.HiddenInput)
    position = forms.IntegerField(min_value=0, max_value=999, initial=0)
    value = JsonField()
    platforms = forms.CharField(
        required=False, max_length=200, help_text="Comma-separated, e.g. ios, android"
    )
    min_client_version = forms.CharField(required=False, max_length=30, label="From version")
    max_client_version = forms.CharField(required=False, max_length=30, label="Below version")
    min_level = forms.IntegerField(required=False, min_value=1, max_value=LEVEL_LIMIT)
    max_level = forms.IntegerField(required=False, min_value=1, max_value=LEVEL_LIMIT)
    payer = forms.NullBooleanField(
        required=False,
        widget=forms.Select(
            choices=[("unknown", "Anyone"), ("true", "Payers"), ("false", "Non-payers")]
        ),
    )
    # Instants, as the resolver compares them: [after, before). Not the player list's "Created
    # before", a date whose whole day is included.
    created_after = UtcDateTimeField(
        label="Created at or after",
        required=False,
        help_text="Players whose account was created at this minute or later.",
    )
    created_before = UtcDateTimeField(
        label="Created before",
        required=False,
        help_text=(
            "Players whose account was created before this minute, not at it: 18:30 leaves out "
            "a player created at 18:30:00 (unlike the player list's date, whose whole day counts)."
        ),
    )
    rollout_percent = forms.IntegerField(min_value=0, max_value=100, initial=100)
    rollout_salt = forms.CharField(required=False, max_length=64)

    def override_fields(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        data.pop("key")
        data["platforms"] = [p.strip().lower() for p in data["platforms"].split(",") if p.strip()]
        return data


class NoteForm(forms.Form):
    note = forms.CharField(max_length=300, required=False)
    version = forms.IntegerField(min_value=1, required=False)


def canonical_json(rules: object) -> str:
    return json.dumps(rules, sort_keys=True, separators=(",", ":"))


def unpublished_changes(keys: list[ConfigKey], live: dict) -> bool:
    """The draft differs from the live rules. As JSON text: in Python 1 == True == 1.0, and
    clients do not see them alike."""
    return canonical_json(draft_snapshot(keys)) != canonical_json(live)


@staff_member_required
def config_page(request: StaffRequest, game_id: int) -> HttpResponse:
    return _config_page(request, readable_game(request, game_id))


def _config_page(
    request: StaffRequest,
    game: Game,
    key_form: KeyForm | None = None,
    override_form: OverrideForm | None = None,
) -> HttpResponse:
    """The page; after a refused key or override, with that form as sent and why beside each
    field it names (the draft is unchanged)."""
    keys = draft_keys(game_id=game.pk)
    releases = releases_of(game_id=game.pk)
    live = releases[0].rules if releases else {}
    context = page_context(
        request,
        game,
        title=f"{game.name} remote config",
        gp_section="config",
        keys=keys,
        # A rollback makes the draft the release it goes back to: say what it would replace.
        unpublished=unpublished_changes(keys, live),
        releases=releases,
        key_form=key_form or KeyForm(),
        # One "add an override" form per key, each with ids of its own.
        keyed_forms=[(key, _override_form(key, override_form)) for key in keys],
    )
    return render(request, "panel/config.html", context)


def _override_form(key: ConfigKey, refused: OverrideForm | None) -> OverrideForm:
    """The key's "add an override" form (its hidden `key` the key's name: the one key input the
    form sends): the refused one if it was for this key, else an empty one."""
    if refused is None or refused.data.get("key") != key.key:
        return OverrideForm(auto_id=_override_ids(key), initial={"key": key.key})
    return refused


def _override_ids(key: ConfigKey) -> str:
    return f"override-{key.pk}-%s"


@require_POST
@staff_member_required
def config_action(request: StaffRequest, game_id: int, action: str) -> HttpResponse:
    game = writable_game(request, game_id)  # 404 for another game, 403 for an analyst
    handler = ACTIONS.get(action)
    if handler is None:
        raise Http404("No such action.")
    try:
        asked = handler(request, game)
    except DomainError as error:
        messages.error(request, f"Nothing changed: {error.detail}")
    else:
        if asked is not None:  # the confirmation page: nothing done yet
            return asked
    return redirect("panel:config", game_id=game.pk)


def _ask(request: StaffRequest, game: Game, **ask: Any) -> HttpResponse:
    """The confirmation of an action of the config page, Cancel going back to it."""
    back = reverse("panel:config", args=[game.pk])
    return ask_first(
        request, game, Ask(back=back, back_label="Remote config", **ask), section="config"
    )


def _set_key(request: StaffRequest, game: Game) -> HttpResponse | None:
    form = KeyForm(request.POST)
    if not form.is_valid():
        invalid_form(request, form)
        return _config_page(request, game, key_form=form)
    try:
        set_key(game=game, actor=request.user, **form.cleaned_data)
    except InvalidConfigRule as error:
        return _refused(request, game, form, error)
    messages.success(request, f"Draft key {form.cleaned_data['key']} saved; publish to go live.")
    return None


def _refused(
    request: StaffRequest, game: Game, form: KeyForm | OverrideForm, error: InvalidConfigRule
) -> HttpResponse:
    """remoteconfig refused a form that read well: the page again with the form as sent, why
    beside the value when it is the value's size (above the form otherwise), and in the page's
    message."""
    messages.error(request, f"Nothing changed: {error.detail}")
    too_large = value_too_large(form.cleaned_data["value"]) is not None
    form.add_error("value" if too_large else None, error.detail)
    if isinstance(form, KeyForm):
        return _config_page(request, game, key_form=form)
    return _config_page(request, game, override_form=form)


def _delete_key(request: StaffRequest, game: Game) -> HttpResponse | None:
    name = request.POST.get("key", "")
    if "\x00" in name:  # no key holds it (KeyForm's pattern); PostgreSQL refuses it in a query
        raise InvalidConfigRule(f"No draft key {name!r}.")
    found = draft_key(game=game, key=name)
    # Once: a second confirmation finds no such key (delete_key refuses, nothing changes).
    if found is not None and not confirmed(request):
        count = found.overrides.count()
        return _ask(
            request,
            game,
            question=f"Delete the draft key {name}?",
            facts=[
                f"{name} (default {_json(found.value)}) and its {count} override(s) leave the "
                "draft; the audit log keeps what they were.",
                "Clients keep getting it from the live release until the draft is published.",
            ],
            button=f"Delete {name}",
        )
    delete_key(game=game, actor=request.user, key=name)
    messages.success(request, "Draft key deleted; publish to go live.")
    return None


def _add_override(request: StaffRequest, game: Game) -> HttpResponse | None:
    # The ids of the key's form on the page, before validating: each error names its field's.
    name = request.POST.get("key", "")
    found = draft_key(game=game, key=name) if is_key(name) else None
    form = OverrideForm(request.POST, auto_id=_override_ids(found) if found else "id_%s")
    if not form.is_valid():
        invalid_form(request, form)
        return _config_page(request, game, override_form=form)
    try:
        add_override(
            game=game, actor=request.user, key=form.cleaned_data["key"], **form.override_fields()
        )
    except InvalidConfigRule as error:
        return _refused(request, game, form, error)
    messages.success(request, "Override added to the draft; publish to go live.")
    return None


def _delete_override(request: StaffRequest, game: Game) -> HttpResponse | None:
    try:
        override_id = int(request.POST.get("override_id", ""))
    except ValueError:
        raise Http404("No such override.") from None
    found = draft_override(game=game, override_id=override_id)
    # Once: a second confirmation finds no such override (refused, nothing changes).
    if found is not None and not confirmed(request):
        key = found.config_key.key
        return _ask(
            request,
            game,
            question=f"Remove an override of {key}?",
            facts=[
                f"The override of {key} at position {found.position} that gives "
                f"{_json(found.value)} to {_who(found)} leaves the draft; the audit log keeps "
                "what it was.",
                "Clients keep getting it from the live release until the draft is published.",
            ],
            button=f"Remove the override of {key}",
        )
    delete_override(game=game, actor=request.user, override_id=override_id)
    messages.success(request, "Override removed from the draft; publish to go live.")
    return None


def _who(override: ConfigOverride) -> str:
    """The players an override matches, in words: "payers on ios, level 5 to 9, 50 %"."""
    parts = []
    if override.payer is not None:
        parts.append("payers" if override.payer else "non-payers")
    if override.platforms:
        parts.append("on " + ", ".join(override.platforms))
    if override.min_client_version or override.max_client_version:
        parts.append(
            f"client version {override.min_client_version or 'any'} to below "
            f"{override.max_client_version or 'any'}"
        )
    if override.min_level is not None or override.max_level is not None:
        parts.append(f"level {override.min_level or 1} to {override.max_level or 'any'}")
    if override.created_after:
        parts.append(f"created from {_utc(override.created_after)}")
    if override.created_before:
        parts.append(f"created before {_utc(override.created_before)}")
    players = ", ".join(parts) if parts else "every player"
    return (
        players if override.rollout_percent == 100 else f"{players} ({override.rollout_percent} %)"
    )


def _publish(request: StaffRequest, game: Game) -> None:
    form = NoteForm(request.POST)
    if not form.is_valid():
        return invalid_form(request, form)
    release = publish(game=game, actor=request.user, note=form.cleaned_data["note"])
    messages.success(request, f"Published version {release.version}; clients get it within 2 s.")


def _rollback(request: StaffRequest, game: Game) -> HttpResponse | None:
    form = NoteForm(request.POST)
    if not form.is_valid() or form.cleaned_data["version"] is None:
        messages.error(request, "Nothing changed: choose a version.")
        return None
    version, note = form.cleaned_data["version"], form.cleaned_data["note"]
    if not confirmed(request, "live"):
        return _ask_rollback(request, game, version, note)
    release = rollback(
        game=game,
        actor=request.user,
        version=version,
        note=note,
        # Over the live version the confirmation showed only: sent twice, the second finds the
        # first's release live and changes nothing.
        expected_live=typed_number(request.POST["live"]),
    )
    messages.success(
        request,
        f"Version {release.rolled_back_to} is live again as version {release.version}; the "
        "draft is now that version.",
    )
    return None


def _ask_rollback(request: StaffRequest, game: Game, version: int, note: str) -> HttpResponse:
    earlier = release_of(game=game, version=version)
    live = releases_of(game_id=game.pk, limit=1)
    if earlier is None or not live:
        raise ReleaseNotFound(f"No release {version} of this game's config.")
    current = live[0]
    changed = sorted(
        name
        for name in set(current.rules) | set(earlier.rules)
        if canonical_json(current.rules.get(name)) != canonical_json(earlier.rules.get(name))
    )
    unpublished = unpublished_changes(draft_keys(game_id=game.pk), current.rules)
    return _ask(
        request,
        game,
        question=f"Roll back to version {version}?",
        facts=[
            f"Version {version}'s config goes live again as version {current.version + 1}, in "
            f"place of version {current.version}: clients get it within 2 s.",
            "Keys that change for clients: " + ", ".join(changed) + "."
            if changed
            else f"Version {version} holds what version {current.version} holds: clients see "
            "no change.",
            f"The draft becomes version {version}; its changes not published yet are replaced "
            "(the audit log keeps them)."
            if unpublished
            else f"The draft becomes version {version} (it holds nothing unpublished).",
            f"Note, kept with the release: “{note}”." if note else "No note given.",
        ],
        button=f"Roll back to version {version}",
        seen={"live": str(current.version)},
    )


def _json(value: object) -> str:
    return truncatechars(canonical_json(value), 200)


def _utc(moment: datetime) -> str:
    return f"{timezone.localtime(moment, UTC):%Y-%m-%d %H:%M} UTC"


ACTIONS = {
    "set-key": _set_key,
    "delete-key": _delete_key,
    "add-override": _add_override,
    "delete-override": _delete_override,
    "publish": _publish,
    "rollback": _rollback,
}
