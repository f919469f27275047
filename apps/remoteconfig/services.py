"""Writes of remote config, each audited in its transaction: draft edits, publish (the draft
becomes the next release), rollback (an earlier release is published again as the next one,
and the draft becomes it). Each first locks its game's config (`_lock_config`), so they apply
one after another: a publish reads the draft as the rollback before it left it, whole, and two
operators saving one new key at once save it twice rather than fail."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from apps.accounts.models import Game
from apps.audit.services import record_action
from apps.remoteconfig.errors import InvalidConfigRule, ReleaseNotFound
from apps.remoteconfig.models import ConfigKey, ConfigOverride, ConfigRelease
from apps.remoteconfig.resolver import PLATFORM, VERSION, parse_version
from apps.remoteconfig.rules import (
    OVERRIDE_FIELDS,
    compiled_rules,
    draft_snapshot,
    override_snapshot,
)
from apps.remoteconfig.selectors import draft_keys
from gamingpanel.errors import Conflict
from gamingpanel.storable import stored_json

KEY_CHARS = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-")
LEVEL_LIMIT = 2_147_483_647  # the columns' (PositiveIntegerField) largest value


def _lock_config(game: Game) -> None:
    """Call inside the transaction: the game's config edits, publishes and rollbacks wait for
    each other from here to the commit. The game's row stands for its config; NO KEY UPDATE, so
    rows referencing the game (new players, sessions) are inserted meanwhile as ever."""
    Game.objects.select_for_update(no_key=True).filter(pk=game.pk).values_list("pk").first()


def is_key(key: object) -> bool:
    """A draft key's name: 1 to 64 letters, digits, '_', '.' or '-' (the model's pattern, whose
    `$` also takes a final line feed, is laxer)."""
    return isinstance(key, str) and 1 <= len(key) <= 64 and set(key) <= KEY_CHARS


def value_too_large(value: Any) -> str | None:
    """Why a value (a key's default or an override's) is too large to set, or None: its size as
    stored, against REMOTE_CONFIG_MAX_VALUE_BYTES."""
    size, limit = stored_json(value)[1], settings.REMOTE_CONFIG_MAX_VALUE_BYTES
    if size <= limit:
        return None
    return (
        f"value of {size:,} bytes as stored, over the limit of {limit:,} "
        "(REMOTE_CONFIG_MAX_VALUE_BYTES)"
    )


def release_too_large(rules: object) -> str | None:
    """Why rules (a release, or the draft as publish would store it) are too large, or None:
    their size as stored, against REMOTE_CONFIG_MAX_RELEASE_BYTES."""
    size, limit = stored_json(rules)[1], settings.REMOTE_CONFIG_MAX_RELEASE_BYTES
    if size <= limit:
        return None
    return (
        f"{size:,} bytes as stored, over the limit of {limit:,} for a whole release "
        "(REMOTE_CONFIG_MAX_RELEASE_BYTES)"
    )


def _refuse_large_value(value: Any, what: str) -> None:
    if reason := value_too_large(value):
        raise InvalidConfigRule(f"{what}: a {reason}. Set a shorter one.")


def _refuse_large_draft(game: Game) -> None:
    """Call after a change that grew the draft, in its transaction: the draft as publish would
    store it past the release limit undoes the change (nothing of it is kept)."""
    if reason := release_too_large(draft_snapshot(draft_keys(game_id=game.pk))):
        raise InvalidConfigRule(f"The draft would be {reason}; shorten or delete other keys first.")


@transaction.atomic
def set_key(
    *, game: Game, actor: User | None, key: str, value: Any, description: str = ""
) -> ConfigKey:
    if not is_key(key):
        raise InvalidConfigRule("A key is 1 to 64 letters, digits, '_', '.' or '-'.")
    _refuse_large_value(value, f"The value of {key}")
    _lock_config(game)
    found = ConfigKey.objects.filter(game=game, key=key).first()
    before = {"value": found.value, "description": found.description} if found else {}
    if found is None:
        found = ConfigKey(game=game, key=key)
    found.value, found.description, found.updated_at = value, description, timezone.now()
    found.save()
    # A draft already past the limit (lowered since) may still shrink: only growth is refused.
    if not before or stored_json([value, description])[1] > stored_json(list(before.values()))[1]:
        _refuse_large_draft(game)
    record_action(
        actor=actor,
        game=game,
        action="remoteconfig.set_key",
        target=found,
        before=before,
        after={"value": value, "description": description},
    )
    return found


@transaction.atomic
def delete_key(*, game: Game, actor: User | None, key: str) -> None:
    _lock_config(game)
    found = ConfigKey.objects.filter(game=game, key=key).first()
    if found is None:
        raise InvalidConfigRule(f"No draft key {key!r}.")
    overrides = found.overrides.order_by("position", "id")
    record_action(
        actor=actor,
        game=game,
        action="remoteconfig.delete_key",
        target=found,
        # Its overrides go with it: the entry keeps them, in the order they applied.
        before={
            "value": found.value,
            "description": found.description,
            "overrides": [_positioned(override) for override in overrides],
        },
    )
    found.delete()


def validate_override(fields: dict[str, Any]) -> None:
    """The rules an override must keep, whoever writes it (panel form, admin, rollback)."""
    if "value" in fields:
        _refuse_large_value(fields["value"], "The override's value")
    for name in ("min_client_version", "max_client_version"):
        if fields.get(name) and not VERSION.fullmatch(fields[name]):
            raise InvalidConfigRule(f"{name} is a version like 1.4.2.")
    low, high = fields.get("min_client_version"), fields.get("max_client_version")
    if low and high and parse_version(low) >= parse_version(high):  # type: ignore[operator]
        raise InvalidConfigRule("min_client_version must be below max_client_version.")
    if (
        fields.get("min_level") is not None
        and fields.get("max_level") is not None
        and fields["min_level"] > fields["max_level"]
    ):
        raise InvalidConfigRule("min_level must not be above max_level.")
    after, before = fields.get("created_after"), fields.get("created_before")
    for name, moment in (("created_after", after), ("created_before", before)):
        if isinstance(moment, datetime) and not _storable_instant(moment):
            raise InvalidConfigRule(
                f"{name} is an instant with a time zone, within the calendar in UTC (years 1 "
                "to 9999)."
            )
    if isinstance(after, datetime) and isinstance(before, datetime) and after >= before:
        raise InvalidConfigRule("created_after must be before created_before.")
    for name in ("min_level", "max_level"):
        if fields.get(name) is not None and not 1 <= fields[name] <= LEVEL_LIMIT:
            raise InvalidConfigRule(f"{name} is a level from 1 to {LEVEL_LIMIT}.")
    if not 0 <= fields.get("rollout_percent", 100) <= 100:
        raise InvalidConfigRule("rollout_percent is 0 to 100.")
    platforms = fields.get("platforms") or []
    # Names a client can send (the API reads them in lower case): any other never matches.
    if not isinstance(platforms, list) or not all(
        isinstance(p, str) and PLATFORM.fullmatch(p) and p == p.lower() for p in platforms
    ):
        raise InvalidConfigRule(
            "platforms are names such as ios, android, windows: lower-case letters, digits, "
            "'_' or '-', at most 20 each."
        )


def _storable_instant(moment: datetime) -> bool:
    """Aware, and in the calendar once in UTC. A naive one names no instant (nor compares with
    an aware one: a TypeError); one an offset carries past 9999-12-31 or before 0001-01-01 in
    UTC is stored by PostgreSQL, and every read of its row is then a DataError (a 500 on the
    config page, and every publish fails reading the draft)."""
    if moment.utcoffset() is None:
        return False
    try:
        moment.astimezone(UTC)
    except OverflowError:
        return False
    return True


@transaction.atomic
def add_override(*, game: Game, actor: User | None, key: str, **fields: Any) -> ConfigOverride:
    _lock_config(game)
    config_key = ConfigKey.objects.filter(game=game, key=key).first()
    if config_key is None:
        raise InvalidConfigRule(f"No draft key {key!r}.")
    validate_override(fields)
    override = ConfigOverride.objects.create(config_key=config_key, **fields)
    _refuse_large_draft(game)
    record_action(
        actor=actor,
        game=game,
        action="remoteconfig.add_override",
        target=config_key,
        after=_positioned(override),
    )
    return override


def _positioned(override: ConfigOverride) -> dict[str, Any]:
    """An override as the audit log keeps it: its rules and its position (overrides apply in
    position order, the first that matches wins)."""
    return {**override_snapshot(override), "position": override.position}


@transaction.atomic
def delete_override(*, game: Game, actor: User | None, override_id: int) -> None:
    _lock_config(game)
    override = ConfigOverride.objects.filter(pk=override_id, config_key__game=game).first()
    if override is None:
        raise InvalidConfigRule("No such override in this game's draft.")
    record_action(
        actor=actor,
        game=game,
        action="remoteconfig.delete_override",
        target=override.config_key,
        before=_positioned(override),
    )
    override.delete()


@transaction.atomic
def publish(*, game: Game, actor: User | None, note: str = "") -> ConfigRelease:
    """The draft as it is becomes the next release: clients see it within 2 s."""
    _lock_config(game)
    rules = draft_snapshot(draft_keys(game_id=game.pk))
    _refuse_large_rules(rules)
    return _release(game=game, actor=actor, rules=rules, note=note, rolled_back_to=None)


def rollback(
    *,
    game: Game,
    actor: User | None,
    version: int,
    note: str = "",
    expected_live: int | None = None,
) -> ConfigRelease:
    """Publish release `version` again, as the next release, and make the draft that release,
    so the next publish starts from what is live. `expected_live` (an operator's confirmed
    rollback): the live version the confirmation showed; another live now (that rollback sent
    twice, a publish since) is a Conflict, and nothing changes."""
    with transaction.atomic():
        _lock_config(game)
        earlier = ConfigRelease.objects.filter(game=game, version=version).first()
        if earlier is None:
            raise ReleaseNotFound(f"No release {version} of this game's config.")
        _refuse_unreadable(earlier)
        _refuse_undraftable(earlier)
        if expected_live is not None:
            live = ConfigRelease.objects.filter(game=game).aggregate(v=Max("version"))["v"]
            if live != expected_live:
                raise Conflict(
                    f"Version {live} is live now, not version {expected_live} as when you were "
                    "asked (the rollback was sent twice, or published since): look again."
                )
        # The draft it replaces, unpublished edits included, is kept in the audit entry.
        replaced = draft_snapshot(draft_keys(game_id=game.pk))
        _replace_draft(game, earlier.rules)
        return _release(
            game=game,
            actor=actor,
            rules=earlier.rules,
            note=note,
            rolled_back_to=version,
            replaced_draft=replaced,
        )


def _refuse_large_rules(rules: dict[str, Any]) -> None:
    """A draft holding a value or making a release past its limit (set before the limit was
    lowered) is not published: each key and override over it is named."""
    large = []
    for key, entry in rules.items():
        if reason := value_too_large(entry["value"]):
            large.append(f"{key} ({reason})")
        for position, item in enumerate(entry["overrides"]):
            if reason := value_too_large(item["value"]):
                large.append(f"{key} override #{position} ({reason})")
    if large:
        raise InvalidConfigRule(
            f"The draft holds values too large to publish: {'; '.join(large)}. Shorten them, "
            "then publish."
        )
    if reason := release_too_large(rules):
        raise InvalidConfigRule(f"The draft is {reason}: shorten or delete keys, then publish.")


def _refuse_unreadable(release: ConfigRelease) -> None:
    """A release whose rules do not all read (written past the checks: a migration, the shell)
    is not made the draft: an override that serves nobody would be stored as one that reads
    (`true` as a 1 % rollout, "5" as level 5) and go live at the next publish. The resolver's
    own reading decides (compiled_rules); the operator edits the draft instead."""
    if not isinstance(release.rules, dict):
        raise InvalidConfigRule(f"Release {release.version}'s rules do not read: not rolled back.")
    unreadable = compiled_rules(release.rules)[1]
    if unreadable:
        where = "; ".join(
            f"{item.key}"
            + ("" if item.position < 0 else f" override #{item.position}")
            + f" ({', '.join(item.fields)})"
            for item in unreadable
        )
        raise InvalidConfigRule(
            f"Release {release.version} holds rules that do not read ({where}): it is not "
            "rolled back to; set the draft as it should be and publish it instead."
        )


def _refuse_undraftable(release: ConfigRelease) -> None:
    """A release whose rules read but which the draft cannot hold as they are (written past the
    checks: a null value, a level below 1 or past the column, a platform name a client cannot
    send, a salt or description past its column, a field the draft has not, a key name set_key
    refuses, an instant an offset carries out of the calendar in UTC) is not made the draft
    either: the copy failed on a column (a 500 on the panel), stored a row no read can load
    (every later read of the draft, publish included, a 500) or stored an override the panel
    refuses. The draft's own checks decide: its columns, is_key and validate_override."""
    problems: list[str] = []
    for key, entry in release.rules.items():
        description = entry.get("description", "")
        draft_key = ConfigKey(key=key, value=entry["value"], description=description)
        unfit = set(_unfit_fields(draft_key, exclude=["game", "value"]))
        if not is_key(key):
            unfit.add("key")  # "shop\n": the model's pattern takes it, set_key does not
        if description is not None and not isinstance(description, str):
            unfit.add("description")  # a number or a list: the copy stored its text
        bad = sorted(unfit)
        if entry["value"] is None:
            bad.insert(0, "value")
        elif reason := value_too_large(entry["value"]):
            bad.insert(0, reason)
        if bad:
            problems.append(f"{key} ({', '.join(bad)})")
        for position, item in enumerate(entry.get("overrides") or []):
            unknown = sorted(set(item) - set(OVERRIDE_FIELDS))
            if unknown:
                problems.append(f"{key} override #{position} ({', '.join(unknown)})")
                continue
            override = ConfigOverride(**item, position=position)
            bad = _unfit_fields(override, exclude=["config_key", "value"])
            if item["value"] is None:
                bad.insert(0, "value")
            if not bad:
                try:
                    validate_override({name: getattr(override, name) for name in OVERRIDE_FIELDS})
                except InvalidConfigRule as error:
                    bad.append(str(error.detail))
            if bad:
                problems.append(f"{key} override #{position} ({', '.join(bad)})")
    if reason := release_too_large(release.rules):
        problems.append(f"the whole release: {reason}")
    if problems:
        raise InvalidConfigRule(
            f"Release {release.version} holds rules the draft cannot take "
            f"({'; '.join(problems)}): it is not rolled back to; set the draft as it should be "
            "and publish it instead."
        )


def _unfit_fields(instance: ConfigKey | ConfigOverride, *, exclude: list[str]) -> list[str]:
    """The fields the draft's columns refuse (null, too long, out of range, not a version);
    a value is any JSON, so `value` is checked by the caller, not as a column that may not be
    blank. Valid date texts are parsed on the instance, as the copy would store them."""
    # full_clean lets None through a column that may be blank, null or not: named here.
    nulls = {
        field.name
        for field in instance._meta.concrete_fields
        if not (field.null or field.primary_key or field.name in exclude)
        and getattr(instance, field.attname) is None
    }
    try:
        instance.full_clean(exclude=exclude, validate_unique=False, validate_constraints=False)
    except ValidationError as error:
        return sorted(nulls | set(error.message_dict))
    return sorted(nulls)


def _release(
    *,
    game: Game,
    actor: User | None,
    rules: dict,
    note: str,
    rolled_back_to: int | None,
    replaced_draft: dict | None = None,
) -> ConfigRelease:
    try:
        with transaction.atomic():
            latest = ConfigRelease.objects.filter(game=game).aggregate(v=Max("version"))["v"]
            # Two publishes at once: the unique (game, version) lets one through.
            release = ConfigRelease.objects.create(
                game=game,
                version=(latest or 0) + 1,
                rules=rules,
                note=note,
                published_by=actor,
                rolled_back_to=rolled_back_to,
            )
            record_action(
                actor=actor,
                game=game,
                action="remoteconfig.rollback" if rolled_back_to else "remoteconfig.publish",
                target=release,
                before={"version": latest or 0}
                | ({} if replaced_draft is None else {"draft": replaced_draft}),
                after={"version": release.version, "keys": sorted(rules)},
                reason=note,
            )
    except IntegrityError:
        raise Conflict("Another publish came first; reload and publish again.") from None
    return release


def _replace_draft(game: Game, rules: dict[str, Any]) -> None:
    ConfigKey.objects.filter(game=game).delete()
    for key, entry in rules.items():
        config_key = ConfigKey.objects.create(
            game=game, key=key, value=entry["value"], description=entry.get("description", "")
        )
        # Null overrides are no overrides, as the resolver reads them (rules.compiled_rules).
        for position, item in enumerate(entry.get("overrides") or []):
            fields = {**item, "position": position}
            ConfigOverride.objects.create(config_key=config_key, **fields)
