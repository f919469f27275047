"""What every verifier returns and the small checks they share: config, credentials, replay."""

from __future__ import annotations

import hashlib
import logging
import math
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, Protocol

from django.core.cache import cache

from apps.platforms.errors import PlatformNotConfigured, PlatformUnavailable
from apps.platforms.hosts import per_game_url
from gamingpanel.errors import InvalidInput
from gamingpanel.storable import UNSTORABLE

logger = logging.getLogger("apps.platforms")

MAX_CREDENTIAL_LENGTH = 16_384  # a JWT or a Steam ticket is a few KB; anything bigger is junk
MAX_DISPLAY_NAME_LENGTH = 64
# What an identity row stores of a platform's user id: PlatformIdentity.platform_user_id's
# max_length (tests/platforms/test_consistent_refusals.py holds the two equal; the model is not
# imported here, the verifiers load before the apps are ready).
MAX_PLATFORM_USER_ID_LENGTH = 200


@dataclass(frozen=True)
class VerifiedIdentity:
    platform_user_id: str
    display_name: str | None
    entitlement_checked: bool
    # The game's config explicitly turned the "may play" check off (Steam `check_ownership:
    # false`): `entitlement_checked` stays False, and login lets it through as the studio chose.
    entitlement_waived: bool = False
    # The id the platform knew this user by before it changed it (Google Play's player-id
    # migration, `originalPlayerId`): login moves an identity stored under it to the new id.
    previous_platform_user_id: str | None = None

    @property
    def may_play(self) -> bool:
        return self.entitlement_checked or self.entitlement_waived


class Verifier(Protocol):
    name: str
    required_config: tuple[str, ...]
    # Every setting the verifier reads, by where it belongs: `plain_config` in the credential's
    # plain config, `secret_config` in its encrypted secrets (a secret typed into config is
    # refused when saved: apps/platforms/secret_settings.py).
    plain_config: tuple[str, ...]
    secret_config: tuple[str, ...]

    def verify(
        self, config: Mapping[str, Any], credentials: Mapping[str, Any]
    ) -> VerifiedIdentity: ...


def _is_blank(value: object) -> bool:
    """None, {}, text of blanks only, or a list of such texts: what config_str and config_list
    read as nothing (they strip), so a required key holding it is missing, not sent empty."""
    if isinstance(value, str):
        return not value.strip()
    if isinstance(value, list):
        return all(isinstance(item, str) and not item.strip() for item in value)
    return value is None or value == {}


def require_config(platform: str, config: Mapping[str, Any], keys: tuple[str, ...]) -> None:
    """Refuse before any outbound call when the game's config lacks a key we need."""
    missing = [key for key in keys if _is_blank(config.get(key))]
    if missing:
        raise PlatformNotConfigured(
            f"{platform} is not configured for this game: missing {', '.join(missing)}."
        )


def config_str(platform: str, config: Mapping[str, Any], key: str, default: str = "") -> str:
    value = config.get(key)
    if _is_blank(value):
        return default
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise PlatformNotConfigured(f"{platform} config {key!r} must be text.")
    return str(value).strip()


def config_url(platform: str, config: Mapping[str, Any], key: str, default: str = "") -> str:
    """A per-game URL: https, on the platform's hosts (apps/platforms/hosts.py), since the
    game's operators (not ours) type it in. The default is a server setting, not checked."""
    value = config_str(platform, config, key)
    if not value:
        return default
    return per_game_url(platform, key, value)


def config_flag(platform: str, config: Mapping[str, Any], key: str, default: bool) -> bool:
    """A boolean, also accepted as "true"/"false"/"1"/"0" from a form or an env file."""
    value = config.get(key)
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "1", "yes", "on"):
        return True
    if text in ("false", "0", "no", "off"):
        return False
    raise PlatformNotConfigured(f"{platform} config {key!r} must be true or false.")


def config_int(platform: str, config: Mapping[str, Any], key: str, default: int) -> int:
    value = config.get(key)
    if value is None or value == "":
        return default
    try:
        if isinstance(value, bool):
            raise ValueError
        return int(value)
    except (TypeError, ValueError):
        raise PlatformNotConfigured(f"{platform} config {key!r} must be a whole number.") from None


def config_list(platform: str, config: Mapping[str, Any], key: str) -> tuple[str, ...]:
    """A list of strings, also accepted as one comma- or space-separated string."""
    value = config.get(key)
    if _is_blank(value):
        return ()
    if isinstance(value, str):
        return tuple(part for part in value.replace(",", " ").split() if part)
    if isinstance(value, list | tuple) and all(
        isinstance(item, str | int) and not isinstance(item, bool) for item in value
    ):
        return tuple(str(item).strip() for item in value if str(item).strip())
    raise PlatformNotConfigured(f"{platform} config {key!r} must be a list of text values.")


def value_at(data: Mapping[str, Any], path: str) -> Any:
    """`user.userid` → data["user"]["userid"]; a literal dotted key wins. None when absent."""
    if path in data:
        return data[path]
    value: Any = data
    for part in path.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return None
        value = value[part]
    return value


def platform_user_id(platform: str, operation: str, value: object) -> str:
    """The platform's id for the user, as an identity row stores it: text (a JSON integer is
    taken as its digits), not empty, at most MAX_PLATFORM_USER_ID_LENGTH characters, without
    U+0000 or a lone surrogate. Anything else is an answer we cannot use: a 503 that says so,
    checked before any further call, never a login nor the 500 its insert would raise. Retrying
    cannot help, so it is logged as an ALERT."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not value:
        reason = "no user id, or one that is not text"
    elif len(value) > MAX_PLATFORM_USER_ID_LENGTH:
        reason = (
            f"a user id of {len(value)} characters (at most {MAX_PLATFORM_USER_ID_LENGTH} "
            "are stored)"
        )
    elif UNSTORABLE.search(value):
        reason = "a user id holding U+0000 or a lone surrogate"
    else:
        return value
    logger.error("ALERT %s %s named the user by %s", platform, operation, reason)
    raise PlatformUnavailable(
        f"{platform} answered with {reason}, which the panel cannot store; retrying will not "
        "help, contact the game's support."
    )


def invalid_input(key: str, message: str) -> InvalidInput:
    return InvalidInput(message, errors={"credentials": {key: [message]}})


def require_object(credentials: object) -> Mapping[str, Any]:
    if not isinstance(credentials, Mapping):
        raise InvalidInput("credentials must be an object.")
    return credentials


def optional_credential(
    credentials: Mapping[str, Any], key: str, *, max_length: int = MAX_CREDENTIAL_LENGTH
) -> str | None:
    """One credential as a non-empty string, None when absent, else a 400 naming the key."""
    value = require_object(credentials).get(key)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise invalid_input(key, f"credentials.{key} must be a string.")
    if len(value) > max_length:
        raise invalid_input(key, f"credentials.{key} is longer than {max_length} characters.")
    if UNSTORABLE.search(value):
        # No platform issues one; a request cannot carry it (UTF-8) nor a column store it.
        raise invalid_input(key, f"credentials.{key} holds U+0000 or a lone surrogate.")
    return value


def required_credential(
    credentials: Mapping[str, Any], key: str, *, max_length: int = MAX_CREDENTIAL_LENGTH
) -> str:
    value = optional_credential(credentials, key, max_length=max_length)
    if value is None:
        raise invalid_input(key, f"credentials.{key} is required.")
    return value


def clean_display_name(value: object) -> str | None:
    """A platform's display name, trimmed to what we store; None when absent or not text.
    U+0000 and lone surrogates (JSON can carry both) are dropped: no column stores them, and
    the player could otherwise never be created."""
    if not isinstance(value, str):
        return None
    return UNSTORABLE.sub("", value).strip()[:MAX_DISPLAY_NAME_LENGTH] or None


def client_display_name(credentials: Mapping[str, Any]) -> str | None:
    """An unsigned, cosmetic name the client may send; trimmed, never trusted for identity."""
    return clean_display_name(optional_credential(credentials, "display_name", max_length=1024))


# The replay marks made inside `spending_credentials()`, so a login that fails after the
# platform vouched (say, the database is down) can give the client its credential back.
_marks_made: ContextVar[list[str] | None] = ContextVar("replay_marks", default=None)


def first_use(
    kind: str, value: str | bytes, *, seconds: float, reuse_window: float = 0, holder: str = ""
) -> bool:
    """True the first time `value` is seen within `seconds` (shared across processes), and
    again within `reuse_window` seconds of that first time when presented for the same
    `holder` (a client retrying after a lost answer).

    Only a hash is stored, so the cache never holds a token, nonce or signature.
    """
    raw = value.encode() if isinstance(value, str) else value
    key = f"platforms:seen:{kind}:{hashlib.sha256(raw).hexdigest()}"
    now = time.time()
    # Rounded up, never down: the cache counts whole seconds, and a mark that lapsed a fraction
    # of a second before its credential expires would let it log in once more.
    first = cache.add(key, (now, holder), timeout=max(1, math.ceil(seconds)))
    if first and (made := _marks_made.get()) is not None:
        made.append(key)
    if first or reuse_window <= 0:
        return first
    # The window runs from the first use and is never extended by a reuse.
    mark = cache.get(key)
    if not isinstance(mark, tuple) or len(mark) != 2:
        return False
    first_at, first_holder = mark
    return first_holder == holder and 0 <= now - first_at <= reuse_window


@contextmanager
def spending_credentials() -> Iterator[Callable[[], None]]:
    """Inside, replay marks are remembered; the callable it gives forgets them again, for a
    login that failed after its credential was accepted (nothing was made with it)."""
    made: list[str] = []

    def give_back() -> None:
        try:
            cache.delete_many(made)
        except Exception:  # the cache may be what failed: the client then gets a fresh token
            logger.warning("could not give back %d replay mark(s)", len(made), exc_info=True)

    token = _marks_made.set(made)
    try:
        yield give_back
    finally:
        _marks_made.reset(token)
