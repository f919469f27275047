from __future__ import annotations

from typing import Any

from axes.admin import AccessAttemptAdmin, AccessFailureLogAdmin, AccessLogAdmin
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ActionForm
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.models import Group, User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Model, Q, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django_otp.plugins.otp_totp.models import TOTPDevice

from apps.accounts.admin_scoping import (
    AuditedAdmin,
    CappedCountPaginator,
    GameScopedAdmin,
    ReadOnlyScopedAdmin,
    ScopedInline,
    WholeValueSearch,
    fixed_choices_filter,
    operator,
)
from apps.accounts.errors import PlayerErased
from apps.accounts.models import (
    AuthSession,
    Game,
    GameAccess,
    PlatformIdentity,
    Player,
    ServerKey,
    parse_origins,
)
from apps.accounts.operator_login import OperatorLoginForm
from apps.accounts.selectors import OWNER_ROLES, READ_ROLES, operator_verified, sees_every_game
from apps.accounts.services import create_server_key, revoke_server_key, set_game_access
from apps.accounts.services.bans import ban_player, end_sessions, unban_player
from gamingpanel.errors import DomainError

# The platforms players log in with (apps.platforms names them; accounts imports no app above
# it): tests/foundation/test_admin_list_queries.py holds this list to that one.
LOGIN_PLATFORMS = [
    ("steam", "Steam"),
    ("epic", "Epic Online Services"),
    ("idcgames", "IDCGames"),
    ("google_play", "Google Play Games"),
    ("apple", "Apple (Game Center / Sign in with Apple)"),
    ("playstation", "PlayStation Network"),
    ("nintendo", "Nintendo Switch"),
    ("dev", "Dev sandbox"),
]


admin.site.site_header = "Gaming Panel"
admin.site.site_title = "Gaming Panel"
admin.site.index_title = "Operate your games"
admin.site.login_form = OperatorLoginForm  # the password, then a code for those who set one up


class GameForm(forms.ModelForm):
    class Meta:
        model = Game
        fields = [
            "name",
            "slug",
            "client_key",
            "sandbox",
            "rate_limit_per_hour",
            "starting_grant",
            "cors_allowed_origins",
            "require_operator_otp",
        ]

    # Set by GameAdmin.get_form: whether the editing operator signed in with a code.
    operator_is_verified = True

    def clean_require_operator_otp(self) -> bool:
        required = bool(self.cleaned_data.get("require_operator_otp"))
        if required and not self.operator_is_verified:
            raise forms.ValidationError(
                "Set up two-factor sign-in (Panel › Two-factor sign-in) and sign in with a code "
                "first: otherwise the game disappears from your own panel."
            )
        return required

    def clean_cors_allowed_origins(self) -> str:
        try:
            return "\n".join(parse_origins(self.cleaned_data.get("cors_allowed_origins") or ""))
        except ValueError as error:
            raise forms.ValidationError(str(error)) from None

    def clean_starting_grant(self) -> dict[str, int]:
        """Checked here, not at a new player's first login, which it would otherwise fail (that
        its currencies exist is checked by the login app's form: apps/login/admin.py)."""
        grant = self.cleaned_data.get("starting_grant") or {}
        if not isinstance(grant, dict) or not all(
            isinstance(code, str) and type(amount) is int and amount > 0
            for code, amount in grant.items()
        ):
            raise forms.ValidationError(
                'Currency codes with positive whole amounts, e.g. {"gold": 100}.'
            )
        if grant and self.instance.pk is None:
            raise forms.ValidationError("Save the game and add its currencies first.")
        return grant


@admin.register(Game)
class GameAdmin(GameScopedAdmin):
    form = GameForm
    game_path = "pk"
    write_roles = OWNER_ROLES
    list_display = ["name", "slug", "sandbox", "client_key", "created_at"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        queryset = super(GameScopedAdmin, self).get_queryset(request)
        if sees_every_game(request.user):
            return queryset
        return queryset.filter(pk__in=self._game_ids(request, frozenset(GameAccess.Role.values)))

    def _game_of(self, obj: Model) -> Model:
        return obj  # a game is its own game

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any):
        form = super().get_form(request, obj, change, **kwargs)
        form.operator_is_verified = operator_verified(request.user)
        return form

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return request.user.is_superuser  # a new tenant is the deployment owner's decision

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        # Deleting a game takes its catalogue, live-ops, configuration, payment accounts and
        # every operator's access with it: the deployment owner's decision, as creating one is,
        # not any one of its owners'.
        return request.user.is_superuser


@admin.register(ServerKey)
class ServerKeyAdmin(GameScopedAdmin):
    write_roles = OWNER_ROLES
    list_display = ["name", "game", "prefix", "created_at", "last_used_at", "revoked_at"]
    list_filter = ["game", "revoked_at"]
    fields = ["game", "name", "prefix", "created_at", "last_used_at", "revoked_at"]
    readonly_fields = ["prefix", "created_at", "last_used_at", "revoked_at"]
    actions = ["revoke_selected"]

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False  # keys are revoked, which also drops them from the shared cache at once

    def save_model(self, request: HttpRequest, obj: Model, form: Any, change: bool) -> None:
        assert isinstance(obj, ServerKey)  # this admin's model
        if change:
            obj.save(update_fields=["name"])
            return
        issued = create_server_key(game=obj.game, name=obj.name)
        obj.pk, obj.prefix, obj.key_hash = (
            issued.server_key.pk,
            issued.server_key.prefix,
            issued.server_key.key_hash,
        )
        messages.warning(
            request,
            f"New server key for {obj.game}: {issued.raw_key} — copy it now, it is never shown again.",
        )

    def get_readonly_fields(self, request: HttpRequest, obj: ServerKey | None = None) -> list[str]:
        return [*self.readonly_fields, "game"] if obj else self.readonly_fields

    @admin.action(description="Revoke selected server keys")
    def revoke_selected(self, request: HttpRequest, queryset: QuerySet[ServerKey]) -> None:
        for server_key in queryset:
            if self.has_change_permission(request, server_key):
                revoke_server_key(server_key=server_key, actor=operator(request))
        self.message_user(request, "Revoked.")


class GameAccessForm(forms.ModelForm):
    """The operator is named by their exact username: a list of every account of the deployment
    would show one tenant the others' people."""

    username = forms.CharField(max_length=150, help_text="The operator's exact username.")

    class Meta:
        model = GameAccess
        fields = ["game", "role"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk is not None:
            self.fields["username"].initial = self.instance.user.get_username()

    def clean_username(self) -> str:
        username = self.cleaned_data["username"]
        user_model = get_user_model()
        user = user_model._default_manager.filter(
            **{user_model.USERNAME_FIELD: username}, is_active=True
        ).first()
        if user is None:
            raise forms.ValidationError(
                f"No active user is named “{username}” (usernames must match exactly)."
            )
        self.instance.user = user
        return username

    def validate_unique(self) -> None:
        super().validate_unique()
        # Django leaves out constraints on fields the form does not edit, and `user` comes from
        # the username: one role per operator and game is checked here, not left to the database.
        if self.instance.user_id is not None and self.instance.game_id is not None:
            try:
                self.instance.validate_constraints()
            except ValidationError as refused:
                self.add_error(None, refused)


@admin.register(GameAccess)
class GameAccessAdmin(GameScopedAdmin):
    form = GameAccessForm
    fields = ["username", "game", "role"]
    write_roles = OWNER_ROLES
    list_display = ["user", "game", "role"]
    list_filter = ["game", "role"]

    def save_model(self, request: HttpRequest, obj: Model, form: Any, change: bool) -> None:
        """Through set_game_access, as every grant: the row, and its user made staff (the admin
        lets only staff in, so an access saved alone was of no use)."""
        assert isinstance(obj, GameAccess)  # this admin's model
        if not self._can_write(request, obj):
            raise PermissionDenied  # as GameScopedAdmin.save_model: a game this owner only reads
        set_game_access(user=obj.user, game=obj.game, role=obj.role, access=obj)


class PlatformIdentityInline(ScopedInline):
    model = PlatformIdentity
    fields = readonly_fields = ("platform", "platform_user_id", "created_at", "last_login_at")

    def has_add_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        # Only the player unlinks (auth/unlink keeps a way back in and locks the player): a
        # deleted last identity would make the next login a new player with a new grant.
        return False


class ModerationActionForm(ActionForm):
    """Shown beside the action menu: what a ban (or unban, or session end) needs."""

    reason = forms.CharField(required=False, max_length=300, label="Reason")
    until = forms.DateTimeField(
        required=False,
        label="Ban until (empty: permanent)",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )


def _moderation_form(request: HttpRequest) -> ModerationActionForm:
    form = ModerationActionForm(request.POST, auto_id=False)
    form.is_valid()  # the admin validated the action already; the extra fields are optional
    return form


# The player's editable fields, read-only once the player is erased.
ERASED_FIXED = ["display_name"]


@admin.register(Player)
class PlayerAdmin(WholeValueSearch, GameScopedAdmin):
    list_display = ["id", "display_name", "game", "created_at", "last_login_at", "banned_until"]
    list_filter = ["game"]
    search_fields = ["=id"]  # and a whole display name or platform user id: search_matches
    search_help_text = (
        "A player id, or a whole display name or platform user id in any case (the panel's "
        "player list finds part of a name)."
    )
    show_full_result_count = False
    paginator = CappedCountPaginator
    # A ban goes through the actions (audited, ends sessions), never by editing these fields.
    readonly_fields = [
        "game",
        "created_at",
        "last_login_at",
        "banned_until",
        "ban_reason",
        "erased_at",  # erasure is the panel's action (erase_player), never an edit
        "sessions",
    ]
    inlines = [PlatformIdentityInline]
    action_form = ModerationActionForm
    actions = ["ban_selected", "unban_selected"]

    def search_matches(self, request: HttpRequest, term: str) -> list[Q]:
        # Names and platform ids in any case, as the upper-cased indexes hold them (the panel's
        # search uses them too); the identities' players by id, read first: a subquery among
        # the OR'ed matches is not one an index answers.
        games = self._game_ids(request, READ_ROLES)
        identities = PlatformIdentity.objects.filter(game__in=games, platform_user_id__iexact=term)
        return [
            *super().search_matches(request, term),
            Q(game__in=games, display_name__iexact=term),
            Q(pk__in=list(identities.values_list("player_id", flat=True))),
        ]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None and obj.erased_at is not None:
            # A tombstone keeps no name: an operator cannot give it one back.
            fields += [name for name in ERASED_FIXED if name not in fields]
        return fields

    def save_model(self, request: HttpRequest, obj: Model, form: Any, change: bool) -> None:
        assert isinstance(obj, Player) and change  # players are never added here
        # Only the name is edited here, and only while the player is not erased: an erasure
        # committed after the form was read must not get the name back.
        saved = Player.objects.filter(pk=obj.pk, erased_at__isnull=True).update(
            display_name=obj.display_name
        )
        if not saved:
            obj.refresh_from_db()  # erased: the steps below see erased_at and record nothing
            messages.error(request, f"Nothing changed: Player {obj.pk}'s account was erased.")

    # A save of an erased player (erased before the form was sent, or while save_model waited
    # for the erasure's commit) changed nothing (its inline is read-only): neither the audit log
    # nor Django's history says the operator changed what the erasure changed, and the operator
    # is sent back to the player's page, without Django's "changed successfully".
    def log_change(self, request: HttpRequest, obj: Model, message: Any) -> Any:
        assert isinstance(obj, Player)  # this admin's model
        if obj.erased_at is None:
            return super().log_change(request, obj, message)
        return None

    def response_change(self, request: HttpRequest, obj: Model) -> HttpResponse:
        assert isinstance(obj, Player)  # this admin's model
        if obj.erased_at is None:
            return super().response_change(request, obj)
        return HttpResponseRedirect(request.get_full_path())

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False  # players come from platform logins

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False  # their ledger must stay; ban instead

    @admin.display(description="Sessions")
    def sessions(self, player: Player) -> str:
        live = player.sessions.filter(revoked_at__isnull=True, expires_at__gt=timezone.now())
        url = reverse("admin:accounts_authsession_changelist") + f"?player__id__exact={player.pk}"
        return format_html('<a href="{}">{} live — all sessions</a>', url, live.count())

    @admin.action(description="Ban selected players (reason required; ends their sessions)")
    def ban_selected(self, request: HttpRequest, queryset: QuerySet[Player]) -> None:
        form = _moderation_form(request)
        reason, until = form.cleaned_data.get("reason", ""), form.cleaned_data.get("until")
        banned = skipped = 0
        for player in queryset:
            if not self.has_change_permission(request, player):
                continue
            try:
                ban_player(player=player, reason=reason, until=until, actor=operator(request))
            except PlayerErased:  # a tombstone (erased before, or while this ran): nothing to ban
                skipped += 1
                continue
            except DomainError as refused:  # no reason, an end in the past: true of every player
                done = f" Banned {banned} player(s) before that." if banned else ""
                self.message_user(request, f"{refused.detail}{done}", messages.ERROR)
                return
            banned += 1
        if skipped:
            self.message_user(
                request,
                f"Banned {banned} player(s); skipped {skipped} erased player(s).",
                messages.WARNING,
            )
        else:
            self.message_user(request, f"Banned {banned} player(s).")

    @admin.action(description="Unban selected players")
    def unban_selected(self, request: HttpRequest, queryset: QuerySet[Player]) -> None:
        reason = _moderation_form(request).cleaned_data.get("reason", "")
        unbanned = skipped = 0
        for player in queryset:
            if not self.has_change_permission(request, player):
                continue
            try:
                unban_player(player=player, reason=reason, actor=operator(request))
            except PlayerErased:  # a tombstone (erased before, or while this ran): nothing to lift
                skipped += 1
                continue
            unbanned += 1
        if skipped:
            self.message_user(
                request,
                f"Unbanned {unbanned} player(s); skipped {skipped} erased player(s).",
                messages.WARNING,
            )
        else:
            self.message_user(request, f"Unbanned {unbanned} player(s).")


@admin.register(AuthSession)
class AuthSessionAdmin(WholeValueSearch, ReadOnlyScopedAdmin):
    list_display = [
        "id",
        "player",
        "game",
        "platform",
        "created_at",
        "last_refreshed_at",
        "expires_at",
        "revoked_at",
        "revoke_reason",
    ]
    list_filter = [
        "game",
        fixed_choices_filter("platform", LOGIN_PLATFORMS),
        "revoke_reason",
    ]
    search_fields = ["=player__id"]
    search_help_text = "A player id (the player list finds players by name)."
    list_select_related = ["player", "game"]
    show_full_result_count = False
    paginator = CappedCountPaginator
    exclude = ["grace_token", "grace_until"]
    action_form = ModerationActionForm
    actions = ["end_selected"]

    def has_end_permission(self, request: HttpRequest) -> bool:
        return self._can_write(request, None)

    @admin.action(
        description="End selected sessions (players must log in again)", permissions=["end"]
    )
    def end_selected(self, request: HttpRequest, queryset: QuerySet[AuthSession]) -> None:
        queryset = queryset.filter(game_id__in=self._game_ids(request, self.write_roles))
        reason = _moderation_form(request).cleaned_data.get("reason", "")
        ended = end_sessions(sessions=queryset, actor=operator(request), reason=reason)
        self.message_user(request, f"Ended {ended} session(s).")


@admin.register(PlatformIdentity)
class PlatformIdentityAdmin(WholeValueSearch, ReadOnlyScopedAdmin):
    list_display = ["platform", "platform_user_id", "player", "game", "last_login_at"]
    list_filter = [fixed_choices_filter("platform", LOGIN_PLATFORMS), "game"]
    search_fields = ["=platform_user_id"]
    search_help_text = "A whole platform user id, in any case."
    show_full_result_count = False
    paginator = CappedCountPaginator

    def search_matches(self, request: HttpRequest, term: str) -> list[Q]:
        return [Q(platform_user_id__iexact=term)]  # as the upper-cased index holds it


# django-otp's own device admin shows every operator's TOTP secret to any superuser, a sign-in
# without a code included: enough to pass as that operator where a game requires a code. Each
# operator manages their own device on the panel's page; a lost one is removed with
# `manage.py reset_two_factor <username>`.
if admin.site.is_registered(TOTPDevice):
    admin.site.unregister(TOTPDevice)


# The deployment's own rows, edited by superusers through the stock admins of Django and axes:
# an operator added, given a new password or made superuser, a group's permissions, a login
# lock-out lifted (deleting its attempt). Each lands in the audit log as the games' rows do
# (naming no game); a password only as a digest of its hash.
class AuditedUserAdmin(AuditedAdmin, UserAdmin):
    digest_only = ("password",)


class AuditedGroupAdmin(AuditedAdmin, GroupAdmin):
    pass


class AuditedAccessAttemptAdmin(AuditedAdmin, AccessAttemptAdmin):
    pass


class AuditedAccessLogAdmin(AuditedAdmin, AccessLogAdmin):
    pass


class AuditedAccessFailureLogAdmin(AuditedAdmin, AccessFailureLogAdmin):
    pass


for _model, _audited_admin in (
    (User, AuditedUserAdmin),
    (Group, AuditedGroupAdmin),
    (AccessAttempt, AuditedAccessAttemptAdmin),
    (AccessLog, AuditedAccessLogAdmin),
    (AccessFailureLog, AuditedAccessFailureLogAdmin),
):
    # Importing their admin modules (above) registered the stock admins (axes' only with
    # AXES_ENABLE_ADMIN): each is replaced by its audited self, none added.
    if admin.site.is_registered(_model):
        admin.site.unregister(_model)
        admin.site.register(_model, _audited_admin)
