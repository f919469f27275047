"""Login, refresh, link and unlink (docs/auth.md): the endpoints that start sessions or attach
platform identities. Validate and logout stay in accounts."""

from __future__ import annotations

from django.conf import settings
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.response import Response

from apps.accounts.api_base import (
    BoundedDictField,
    PlayerApi,
    PlayerRequest,
    PublicApi,
    PublicRequest,
    StrictCharField,
    problems,
)
from apps.accounts.authentication import require_game
from apps.accounts.errors import InvalidToken
from apps.accounts.models import PlatformIdentity
from apps.accounts.ratelimit import enforce, spend_address_budget, spend_game_budget, tightest
from apps.accounts.selectors import identities_of
from apps.accounts.services.sessions import (
    MAX_REFRESH_TOKEN_LENGTH,
    IssuedTokens,
    find_refresh_token,
)
from apps.login.services.identities import link_identity, unlink_identity
from apps.login.services.login import log_in, refresh_tokens
from apps.platforms.verifiers import PLATFORMS, get_verifier

MAX_CREDENTIAL_FIELDS = 32
VERIFY_PROBLEMS = {
    "_400": "`validation_error`, `malformed_json`, `unsupported_platform` or "
    "`platform_not_configured`.",
    "_503": "`platform_unavailable`: the platform is down or slow; retry later.",
}
# An endpoint's own 401 or 403 replaces the one its credential's layer documents (the schema's
# GENERIC_ERRORS in apps/devdocs/schema.py), so it names that layer's codes too, in its words.
PLATFORM_REFUSED = "`invalid_credentials`: the platform refused the credential."
PLATFORM_NOT_CONFIRMED = (
    "`not_entitled` (the platform did not confirm ownership) or `player_banned`."
)
REFUSED_GAME_KEY = "`invalid_game_key`: X-Game-Key missing or unknown."
REFUSED_ACCESS_TOKEN = (
    "`not_authenticated` (no token), `token_expired` (refresh, then retry once), "
    "`invalid_token` or `token_revoked` (log in again)."
)
NOT_A_PLAYER_TOKEN = "`wrong_credential_kind`: a server key was sent where a player token belongs."
REFUSED_TOKEN = (
    "`token_expired`, `token_revoked`, `invalid_token` or `refresh_token_reused` "
    "(the session is revoked); `token_revoked` with `account_deleted: true` when the player "
    "deleted their account."
)


@extend_schema_field({"type": "string", "enum": list(PLATFORMS)})
class PlatformField(serializers.Field):
    """A platform name, an enum in the schema. Any other value is refused by the verifier
    registry as 400 `unsupported_platform` (the code v1 clients know); a value that is not a
    string is a `validation_error`."""

    default_error_messages = {"not_a_string": "Not a valid string."}

    def to_internal_value(self, data: object) -> str:
        if not isinstance(data, str):
            self.fail("not_a_string")
        get_verifier(data)  # 400 unsupported_platform for a name that is not a platform's
        return data

    def to_representation(self, value: str) -> str:
        return value


class PlatformCredentialsInput(serializers.Serializer):
    platform = PlatformField()
    # A platform reads a few fields (a ticket, a token, an auth code...): counted before any is
    # read, so a body of a hundred thousand fields is refused at once.
    credentials = BoundedDictField(
        max_length=MAX_CREDENTIAL_FIELDS,
        message="At most {max_length} credential fields.",
        help_text="Per platform: see docs/platforms.md.",
    )


class TokenPairOutput(serializers.Serializer):
    access_token = serializers.CharField()
    refresh_token = serializers.CharField()
    token_type = serializers.CharField(default="Bearer")
    expires_in = serializers.IntegerField(help_text="Seconds the access token lives (7200).")
    refresh_expires_in = serializers.IntegerField(help_text="Seconds the refresh token lives.")


def token_pair(tokens: IssuedTokens) -> dict[str, object]:
    return {
        "access_token": tokens.access_token,
        "refresh_token": tokens.refresh_token,
        "token_type": "Bearer",
        "expires_in": int(settings.ACCESS_TOKEN_LIFETIME.total_seconds()),
        "refresh_expires_in": int(settings.REFRESH_TOKEN_LIFETIME.total_seconds()),
    }


class LoginApi(PublicApi):
    class OutputSerializer(TokenPairOutput):
        class PlayerOutput(serializers.Serializer):
            id = serializers.IntegerField()
            display_name = serializers.CharField()
            created = serializers.BooleanField(help_text="True on this player's first login.")

        player = PlayerOutput()

    @extend_schema(
        summary="Log in with a platform credential",
        request=PlatformCredentialsInput,
        responses={
            200: OutputSerializer,
            **problems(
                **VERIFY_PROBLEMS,
                _401=f"{REFUSED_GAME_KEY} {PLATFORM_REFUSED}",
                _403=PLATFORM_NOT_CONFIRMED,
                _429="`rate_limited`: too many logins from this address or for this game.",
            ),
        },
    )
    def post(self, request: PublicRequest) -> Response:
        address_budget = spend_address_budget(request)
        request.rate_budgets = [address_budget]
        enforce(address_budget)  # before the key lookup: guessing game keys costs budget too
        game = require_game(request)
        game_budget = spend_game_budget(game_id=game.pk)
        request.rate_budgets.append(game_budget)
        enforce(game_budget)
        given = PlatformCredentialsInput(data=request.data)
        given.is_valid(raise_exception=True)
        result = log_in(game=game, **given.validated_data)
        body = {
            **token_pair(result.tokens),
            "player": {
                "id": result.player.pk,
                "display_name": result.player.display_name,
                "created": result.created,
            },
        }
        return Response(body)


class RefreshApi(PublicApi):
    class InputSerializer(serializers.Serializer):
        # Only a JSON string, as sent: not "123" for 123, and not trimmed into another token.
        refresh_token = StrictCharField(max_length=MAX_REFRESH_TOKEN_LENGTH, trim_whitespace=False)

    @extend_schema(
        summary="Rotate a refresh token into a new pair",
        request=InputSerializer,
        responses={
            200: TokenPairOutput,
            **problems(
                _400="`validation_error` or `malformed_json`.",
                _401=REFUSED_TOKEN,
                _403="`player_banned`.",
                _429="`rate_limited`: too many refreshes from this address or for this game.",
            ),
        },
    )
    def post(self, request: PublicRequest) -> Response:
        address_budget = spend_address_budget(request)
        request.rate_budgets = [address_budget]
        enforce(address_budget)
        given = self.InputSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        found = find_refresh_token(given.validated_data["refresh_token"])
        if found is None:
            raise InvalidToken("Unknown refresh token.")
        game_budget = spend_game_budget(game_id=found.game_id)
        request.rate_budgets.append(game_budget)
        enforce(game_budget)
        return Response(token_pair(refresh_tokens(token=found)))


class IdentitiesOutput(serializers.Serializer):
    class IdentityOutput(serializers.Serializer):
        platform = serializers.CharField()
        platform_user_id = serializers.CharField()
        linked_at = serializers.DateTimeField(source="created_at")

    identities = IdentityOutput(many=True)


def identities_response(identities: list[PlatformIdentity]) -> Response:
    return Response(IdentitiesOutput({"identities": identities}).data)


class LinkApi(PlayerApi):
    @extend_schema(
        summary="The platform identities linked to this player",
        request=None,
        responses={200: IdentitiesOutput},
    )
    def get(self, request: PlayerRequest) -> Response:
        return identities_response(identities_of(player=request.user))

    @extend_schema(
        summary="Link another platform identity to this player",
        request=PlatformCredentialsInput,
        responses={
            200: IdentitiesOutput,
            **problems(
                **VERIFY_PROBLEMS,
                _401=f"{REFUSED_ACCESS_TOKEN} {PLATFORM_REFUSED}",
                _403=f"{NOT_A_PLAYER_TOKEN} {PLATFORM_NOT_CONFIRMED}",
                _409="`identity_taken` (another player has it) or `platform_already_linked`.",
                _429="`rate_limited`: the session's budget, or too many logins and links from "
                "this address or for this game.",
            ),
        },
    )
    def post(self, request: PlayerRequest) -> Response:
        # A link asks the platform as a login does (the studio's keys, up to the login deadline):
        # it spends the same address and game budgets, not only the session's. The answer shows
        # the tightest of them, so a 429's RateLimit-* headers agree with its Retry-After.
        address_budget = spend_address_budget(request)
        request.rate_budget = tightest(request.rate_budget, address_budget)
        enforce(address_budget)
        game_budget = spend_game_budget(game_id=request.user.game_id)
        request.rate_budget = tightest(request.rate_budget, game_budget)
        enforce(game_budget)
        given = PlatformCredentialsInput(data=request.data)
        given.is_valid(raise_exception=True)
        link_identity(player=request.user, **given.validated_data)
        return identities_response(identities_of(player=request.user))


class UnlinkApi(PlayerApi):
    class InputSerializer(serializers.Serializer):
        platform = PlatformField()  # 400 unsupported_platform, as for login and link

    @extend_schema(
        summary="Unlink a platform identity (never the last one)",
        request=InputSerializer,
        responses={
            200: IdentitiesOutput,
            **problems(
                _400="`validation_error`, `malformed_json` or `unsupported_platform` (a name "
                "that is no platform's).",
                _404="`identity_not_linked`.",
                _409="`last_identity`: a player keeps at least one identity.",
            ),
        },
    )
    def post(self, request: PlayerRequest) -> Response:
        given = self.InputSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        unlink_identity(player=request.user, **given.validated_data)
        return identities_response(identities_of(player=request.user))
