"""IDC Games: the launcher's login token, checked by IDC's "Login with HTTP" API (PLATFORMS.md §4).

IDC's answer is only partly documented, so the field names are config with the documented
defaults, and anything we cannot read is a 503 (never a silent success).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.conf import settings

from apps.platforms.errors import (
    InvalidCredentials,
    NotEntitled,
    PlatformNotConfigured,
    PlatformUnavailable,
)
from apps.platforms.verifiers.base import (
    VerifiedIdentity,
    clean_display_name,
    config_flag,
    config_list,
    config_str,
    config_url,
    platform_user_id,
    require_config,
    required_credential,
    value_at,
)
from apps.platforms.verifiers.upstream import call, json_object, our_key_rejected, unavailable

NAME = "idcgames"
TRUE_VALUES = ("true", "1", "yes")
FALSE_VALUES = ("false", "0", "no")


def _flag_text(value: object) -> str | None:
    """A flag of IDC's answer as lower-case text (JSON may say 0, "0" or false alike); None
    for one of no flag's type (an object, a list, a fraction, null)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | str):
        return str(value).lower()
    return None


class IdcGamesVerifier:
    name = NAME
    required_config = ("app_id", "app_secret")
    plain_config = (
        "app_id",
        "method",
        "verify_url",
        "profile_url",
        "fetch_profile",
        "status_field",
        "ok_values",
        "user_id_field",
        "display_name_field",
        "owns_field",
    )
    secret_config = ("app_secret",)

    def verify(self, config: Mapping[str, Any], credentials: Mapping[str, Any]) -> VerifiedIdentity:
        require_config(NAME, config, self.required_config)
        app_id = config_str(NAME, config, "app_id")
        secret = config_str(NAME, config, "app_secret")
        method = config_str(NAME, config, "method", "GET").upper()
        if method not in ("GET", "POST"):
            raise PlatformNotConfigured("idcgames config 'method' must be GET or POST.")
        verify_url = config_url(NAME, config, "verify_url", settings.IDCGAMES_VERIFY_URL)
        profile_url = config_url(NAME, config, "profile_url", settings.IDCGAMES_PROFILE_URL)
        if not config_flag(NAME, config, "fetch_profile", default=True):
            profile_url = ""
        token = required_credential(credentials, "token", max_length=2048)
        uuid = required_credential(credentials, "uuid", max_length=256)

        if method == "GET":
            response = call(
                "GET",
                verify_url,
                params={"idctk": token, "idcgameid": app_id, "idcuuid": uuid},
                platform=NAME,
                operation="getAccessData",
            )
        else:
            response = call(
                "POST",
                verify_url,
                json={"app_id": app_id, "user_token": token, "user_id": uuid},
                headers={"Authorization": f"Bearer {secret}"},
                platform=NAME,
                operation="verify",
            )
        if response.status_code in (401, 403):
            raise our_key_rejected(NAME, "verify", response.status_code)
        if response.status_code != 200:
            raise unavailable(NAME, "verify", f"HTTP {response.status_code}")
        body = json_object(response, platform=NAME, operation="verify")

        self._check_status(config, body)
        # Read before the profile call: an id no identity can store ends the login here.
        user_id = platform_user_id(
            NAME, "verify", value_at(body, config_str(NAME, config, "user_id_field", "user.userid"))
        )
        owns_field = config_str(NAME, config, "owns_field")
        if owns_field:
            owns = _flag_text(value_at(body, owns_field))
            if owns in FALSE_VALUES:  # a valid account that does not own the game
                raise NotEntitled("IDC Games says this account does not own the game.")
            if owns not in TRUE_VALUES:  # absent or unreadable: a malformed answer, not a "no"
                raise unavailable(NAME, "verify", "no readable ownership flag")

        name_field = config_str(NAME, config, "display_name_field")
        if name_field:
            name = clean_display_name(value_at(body, name_field))
        else:
            name = self._profile_name(profile_url, user_id, secret)
        # IDC confirmed a session for our game id: that is the "may play" check (unconfirmed).
        return VerifiedIdentity(
            platform_user_id=user_id, display_name=name, entitlement_checked=True
        )

    @staticmethod
    def _check_status(config: Mapping[str, Any], body: Mapping[str, Any]) -> None:
        field = config_str(NAME, config, "status_field", "status")
        # IDC's example answer says `status`, its field table calls the flag `result`: by default
        # both are read, and each one present must say OK (a `status` of 0 beside a `result` of
        # 1, USER INVALID, is a refusal).
        fields = (field, "result") if field == "status" else (field,)
        flags = [flag for name in fields if (flag := value_at(body, name)) is not None]
        if not flags:
            raise unavailable(NAME, "verify", "no status field")
        # JSON may say 0 or "0", so compare as text; true becomes "true", never "1".
        texts = [_flag_text(flag) for flag in flags]
        if None in texts:  # an object, a list, a fraction: a malformed answer, not a refusal
            raise unavailable(NAME, "verify", "a status field of the wrong type")
        ok_values = config_list(NAME, config, "ok_values") or ("0",)
        ok = {value.lower() for value in ok_values}
        if any(text not in ok for text in texts):
            raise InvalidCredentials("IDC Games rejected the login token.")

    @staticmethod
    def _profile_name(profile_url: str, user_id: str, secret: str) -> str | None:
        """The player's nick (unconfirmed field); cosmetic, so any failure leaves it empty."""
        if not profile_url:
            return None
        try:
            response = call(
                "GET",
                profile_url,
                params={"userid": user_id, "apisecret": secret},
                platform=NAME,
                operation="getUserProfileInfo",
            )
            if response.status_code != 200:
                return None
            body = json_object(response, platform=NAME, operation="getUserProfileInfo")
        except PlatformUnavailable:
            return None
        return clean_display_name(value_at(body, "nick"))


verifier = IdcGamesVerifier()
