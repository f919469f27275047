"""Authentication endpoints: logout and validate (docs/auth.md); login, refresh, link and unlink
are in apps/login/api.py. The player's own account: its data export and its deletion
(docs/guide/privacy.md)."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from apps.accounts.api_base import (
    PlayerApi,
    PlayerRequest,
    ServerRequest,
    TokenValidationApi,
    problems,
)
from apps.accounts.errors import ConfirmationRequired
from apps.accounts.privacy import ERASE_CONFIRMATION, export_player_data, spend_export_budget
from apps.accounts.ratelimit import enforce, tightest
from apps.accounts.services.privacy import erase_player
from apps.accounts.services.sessions import log_out


class LogoutApi(PlayerApi):
    # A client that has spent its budget can still end its session (a shared device, a leak).
    refused_over_budget = False

    @extend_schema(summary="Log out: revoke this session", request=None, responses={204: None})
    def post(self, request: PlayerRequest) -> Response:
        log_out(session_id=request.auth.session_id)
        return Response(status=204)


class ValidateApi(TokenValidationApi):
    class OutputSerializer(serializers.Serializer):
        valid = serializers.BooleanField()
        player_id = serializers.IntegerField(required=False)
        game_id = serializers.IntegerField(required=False)
        permissions = serializers.ListField(child=serializers.CharField(), required=False)
        expires_at = serializers.DateTimeField(required=False)
        reason = serializers.CharField(
            required=False,
            help_text="When not valid: token_expired, token_revoked, player_banned, "
            "invalid_token or wrong_game (a token of another game).",
        )

    @extend_schema(
        summary="Validate a player's access token (game servers)",
        request=TokenValidationApi.InputSerializer,
        responses={200: OutputSerializer, **problems(_400="`validation_error`.")},
    )
    def post(self, request: ServerRequest) -> Response:
        return Response(self.checked_token(request).as_dict())


class ExportProfileSerializer(serializers.Serializer):
    player_id = serializers.IntegerField()
    game_id = serializers.IntegerField()
    display_name = serializers.CharField(allow_blank=True)
    created_at = serializers.DateTimeField()
    last_login_at = serializers.DateTimeField(allow_null=True)
    banned_until = serializers.DateTimeField(allow_null=True)
    ban_reason = serializers.CharField(allow_blank=True)
    erased_at = serializers.DateTimeField(allow_null=True)


class ExportIdentitySerializer(serializers.Serializer):
    platform = serializers.CharField()
    platform_user_id = serializers.CharField()
    linked_at = serializers.DateTimeField()
    last_login_at = serializers.DateTimeField(allow_null=True)


class ExportSessionSerializer(serializers.Serializer):
    platform = serializers.CharField()
    platform_user_id = serializers.CharField(allow_blank=True)
    opened_at = serializers.DateTimeField()
    last_refreshed_at = serializers.DateTimeField(allow_null=True)
    expires_at = serializers.DateTimeField()
    revoked_at = serializers.DateTimeField(allow_null=True)
    revoke_reason = serializers.CharField(allow_blank=True)


class ExportAuditEntrySerializer(serializers.Serializer):
    action = serializers.CharField()
    reason = serializers.CharField(allow_blank=True)
    created_at = serializers.DateTimeField()


class PlayerDataExportApi(PlayerApi):
    class OutputSerializer(serializers.Serializer):
        exported_at = serializers.DateTimeField()
        profile = ExportProfileSerializer()
        identities = ExportIdentitySerializer(many=True, help_text="Linked platform accounts.")
        sessions = ExportSessionSerializer(
            many=True,
            help_text="The player's sessions (logins) still kept, oldest first: no token or "
            "token hash.",
        )
        stats = serializers.DictField(
            help_text="`progress` ({xp, updated_at} or null) and `values` "
            "([{key, value, updated_at}])."
        )
        inventory = serializers.DictField(
            help_text="`wallets` ([{currency, balance}]), `items` ([{sku, quantity}]) and "
            "`ledger` ([{id, currency, sku, delta, balance_after, reason, reference, "
            "created_at}], oldest first)."
        )
        cloud_saves = serializers.ListField(
            child=serializers.DictField(),
            help_text="The current documents: [{key, version, value, size, created_at, "
            "updated_at}] (deleted documents and earlier versions are not included).",
        )
        analytics = serializers.DictField(
            help_text="`events`: the player's raw analytics events still kept "
            "([{name, source, event_id, occurred_at, properties}]); `days`: the days they were "
            "active ([{day, events, sessions}])."
        )
        battle_pass = serializers.DictField(
            help_text="`passes` ([{season, xp, premium, premium_granted_at}]) and `claims` "
            "([{season, level, track, claimed_at}])."
        )
        shop = serializers.DictField(
            help_text="`purchases` ([{id, offer, quantity, status, source, real_money, "
            "price_currency, price_amount, provider, bought, granted, refund_shortfall, "
            "outcome, note, created_at, completed_at, refunded_at}])."
        )
        payments = serializers.ListField(
            child=serializers.DictField(),
            help_text="[{purchase_id, provider, external_id, status, amount, currency, "
            "created_at, updated_at}]: no provider secrets, purchase tokens (masked where one "
            "is the external id), checkout links or provider notifications.",
        )
        matches = serializers.ListField(
            child=serializers.DictField(),
            help_text="[{match_id, mode, started_at, ended_at, outcome, score, stats, "
            "ignored_stats, xp_awarded, season_xp_awarded, level_before, level_after, counted, "
            "recorded_at}].",
        )
        events = serializers.DictField(
            help_text="`claims`: the event rewards claimed ([{event, reward, claimed_at}])."
        )
        leaderboards = serializers.DictField(
            help_text="`entries` ([{board, period, score, metadata, reached_at}]), "
            "`payouts` ([{board, period, rank, score, contents, paid_at}]) and `submissions`, "
            "the scores submitted for the player ([{board, period, submission_id, score, "
            "from_client, created_at}])."
        )
        segment_actions = serializers.ListField(
            child=serializers.DictField(),
            help_text="The operators' segment actions that picked the player, while their "
            "player lists are kept: [{segment_action, kind, submitted_at, banned_until, "
            "ban_reason}] (the player's ban when the action was submitted; cleared on erasure).",
        )
        audit_log = ExportAuditEntrySerializer(
            many=True,
            help_text="What was done to the account and its rows (bans, grants, ended sessions, "
            "restored saves...), oldest first: the action, its reason or note, and when; not "
            "who did it.",
        )

    @extend_schema(
        summary="Everything stored about the player (a copy of their data)",
        description="One section per app, plus `exported_at`. A few exports per player per "
        "hour (the studio's `DATA_EXPORTS_PER_HOUR`, 5 unless changed; 429 `rate_limited` "
        "after; the RateLimit-* headers of this answer count them). See the guide's privacy "
        "page.",
        responses={200: OutputSerializer, **problems(_429="`rate_limited`.")},
    )
    def get(self, request: PlayerRequest) -> Response:
        budget = spend_export_budget(player_id=request.user.pk)
        request.rate_budget = tightest(request.rate_budget, budget)
        enforce(budget)
        return Response(export_player_data(request.user))


class PlayerAccountApi(PlayerApi):
    @extend_schema(
        summary="Delete the player's account (erase their personal data)",
        description="Revokes every session of the player (this token gets 401 "
        "`token_revoked` from now on) and erases what is personal; a new login with the same "
        "platform account makes a new player. A retry that gets 401 after a DELETE it sent "
        "means done. See the guide's privacy page.",
        parameters=[
            OpenApiParameter(
                "confirm",
                str,
                OpenApiParameter.QUERY,
                required=True,
                enum=[ERASE_CONFIRMATION],
                description=f"Exactly `{ERASE_CONFIRMATION}` (`delete%20my%20account` in the "
                "URL): a stray call erases nothing.",
            )
        ],
        request=None,
        responses={204: None, **problems(_400="`confirmation_required`.")},
    )
    def delete(self, request: PlayerRequest) -> Response:
        # In the query, not a body: HTTP gives a DELETE's body no meaning (a proxy may drop it).
        if request.query_params.get("confirm") != ERASE_CONFIRMATION:
            raise ConfirmationRequired(
                f"Send ?confirm={ERASE_CONFIRMATION.replace(' ', '%20')} to delete this account."
            )
        erase_player(player=request.user, actor=None)
        return Response(status=204)
