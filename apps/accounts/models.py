"""Tenancy (games, server keys, operator access) and players with their platform identities."""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import UTC, datetime

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Upper
from django.utils import timezone


def hash_key(raw_key: str) -> str:
    """Server keys are long random values, so a fast hash is enough (no password stretching)."""
    return hashlib.sha256(raw_key.encode()).hexdigest()


def new_client_key() -> str:
    return f"gk_{secrets.token_urlsafe(24)}"


ORIGIN = re.compile(r"^(?P<site>https?://[a-z0-9.-]+)(:(?P<port>[0-9]{1,5}))?$")
DEFAULT_PORTS = {"https": 443, "http": 80}


def parse_origins(text: str) -> list[str]:
    """Origins one per line (or comma-separated), as a browser sends them: scheme://host[:port],
    no path; lower-cased and without the scheme's default port (a browser never sends
    https://x:443 or http://x:80, so such an entry, one saved before this rule too, is read as
    https://x or http://x). Raises ValueError naming the first that is not one."""
    parts = [part.strip().rstrip("/").lower() for part in re.split(r"[\s,]+", text)]
    origins = []
    for part in filter(None, parts):
        if not (match := ORIGIN.match(part)):
            raise ValueError(f"{part!r} is not an origin like https://game.example.com[:port]")
        site, port = match["site"], match["port"]
        if port is not None and int(port) != DEFAULT_PORTS[site.partition(":")[0]]:
            site = f"{site}:{int(port)}"  # as a browser writes it: no leading zeros
        origins.append(site)
    return list(dict.fromkeys(origins))


class Game(models.Model):
    """The tenant: every player, item, offer, event and metric belongs to exactly one game."""

    name = models.CharField(max_length=100)
    slug = models.SlugField(max_length=60, unique=True)
    client_key = models.CharField(
        max_length=80,
        unique=True,
        default=new_client_key,
        help_text="Public key the game client sends as X-Game-Key when logging in.",
    )
    sandbox = models.BooleanField(
        default=False, help_text="Sandbox games accept the dev platform and sandbox payments."
    )
    rate_limit_per_hour = models.PositiveIntegerField(
        null=True,
        blank=True,
        # 0 is refused rather than read: a game of 0 requests an hour would look closed but
        # run on the default.
        validators=[MinValueValidator(1)],
        help_text="Requests per hour per login session (empty: RATE_LIMIT_PER_HOUR).",
    )
    starting_grant = models.JSONField(
        default=dict,
        blank=True,
        help_text='Currencies a new player starts with, e.g. {"gold": 100}.',
    )
    require_operator_otp = models.BooleanField(
        default=False,
        verbose_name="Require two-factor sign-in",
        help_text="The game's operators and analysts see it only after signing in with a code "
        "from their authenticator app (set up under Panel › Two-factor sign-in).",
    )
    cors_allowed_origins = models.TextField(
        blank=True,
        default="",
        help_text="Web origins whose browser builds (WebGL, HTML5) may call the API for this game, "
        "one per line, e.g. https://play.example.com. Empty: none.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ServerKey(models.Model):
    """A game server's secret; only its hash is stored, the raw value is shown once."""

    game = models.ForeignKey(Game, on_delete=models.CASCADE, related_name="server_keys")
    name = models.CharField(max_length=100)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    prefix = models.CharField(
        max_length=12, editable=False, help_text="First characters, to tell keys apart."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["game", "name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class GameAccess(models.Model):
    """What one operator may do in one game."""

    class Role(models.TextChoices):
        OWNER = "owner", "Owner — manages operators and keys"
        OPERATOR = "operator", "Operator — manages content and players"
        ANALYST = "analyst", "Analyst — reads dashboards, changes nothing"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="game_accesses"
    )
    game = models.ForeignKey(Game, on_delete=models.CASCADE, related_name="accesses")
    role = models.CharField(max_length=10, choices=Role.choices)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "game"], name="one_role_per_game")]
        verbose_name_plural = "game accesses"

    def __str__(self) -> str:
        return f"{self.user} — {self.game} ({self.role})"


class Player(models.Model):
    game = models.ForeignKey(Game, on_delete=models.CASCADE, related_name="players")
    display_name = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    last_login_at = models.DateTimeField(null=True, blank=True)
    banned_until = models.DateTimeField(null=True, blank=True)
    ban_reason = models.CharField(max_length=300, blank=True)
    # Set when the player's account was erased (apps.accounts.privacy): the row stays as a
    # tombstone because money rows (ledger, purchases, payments) name it; nothing personal is left.
    erased_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["game", "display_name"]),
            # A whole display name in any case (the panel's leaderboard search).
            models.Index(Upper("display_name"), "game", name="player_upper_name_game"),
            # Any part of a name in any case (the panel's player search) is found through
            # "player_name_trgm", a trigram GIN index on UPPER(display_name) that migration
            # 0009 builds on PostgreSQL only: not listed here, as SQLite cannot build it.
            # Only banned players: finding the bans that just ended stays cheap (leaderboards).
            models.Index(
                fields=["banned_until"],
                name="player_banned_until",
                condition=models.Q(banned_until__isnull=False),
            ),
            # The panel's player list by last seen (newest first, then the newest player): a
            # page read along it, not a sort of every player of the game.
            models.Index(fields=["game", "-last_login_at", "-id"], name="player_game_last_seen"),
        ]

    def __str__(self) -> str:
        if self.erased_at is not None:
            return f"erased player #{self.pk}"
        return f"{self.display_name or 'player'} #{self.pk}"

    # DRF treats request.user as authenticated when this is true.
    is_authenticated = True
    is_anonymous = False

    @property
    def is_banned(self) -> bool:
        return self.banned_until is not None and self.banned_until > timezone.now()

    @property
    def is_erased(self) -> bool:
        return self.erased_at is not None


class PlatformIdentity(models.Model):
    """One platform account (Steam id, Epic PUID, …) linked to one player of one game."""

    game = models.ForeignKey(Game, on_delete=models.CASCADE, related_name="+")
    player = models.ForeignKey(Player, on_delete=models.CASCADE, related_name="identities")
    platform = models.CharField(max_length=20)
    platform_user_id = models.CharField(max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)
    last_login_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["game", "platform", "platform_user_id"], name="one_player_per_identity"
            ),
            models.CheckConstraint(condition=~Q(platform_user_id=""), name="identity_id_not_empty"),
        ]
        indexes = [
            # A whole platform id in any case, on any platform (the panel's player search).
            models.Index(Upper("platform_user_id"), "game", name="identity_upper_id_game"),
        ]
        verbose_name_plural = "platform identities"

    def __str__(self) -> str:
        return f"{self.platform}:{self.platform_user_id}"


# Far enough to mean "until unbanned"; Player.banned_until is the one place a ban lives.
PERMANENT_BAN_UNTIL = datetime(9999, 12, 31, tzinfo=UTC)


class AuthSession(models.Model):
    """One login. Its refresh tokens rotate inside it and its access tokens carry its id, so
    revoking the session ends every token it ever issued."""

    class RevokeReason(models.TextChoices):
        LOGOUT = "logout", "Logged out"
        REFRESH_TOKEN_REUSED = "refresh_token_reused", "Refresh token reused"
        PLAYER_BANNED = "player_banned", "Player banned"
        OPERATOR = "operator", "Revoked by an operator"
        IDENTITY_UNLINKED = "identity_unlinked", "Its platform account was unlinked"
        BAN_ENDED = "ban_ended", "Ended by a ban, since lifted"
        PLAYER_ERASED = "player_erased", "The player's account was erased"

    game = models.ForeignKey(Game, on_delete=models.CASCADE, related_name="+")
    player = models.ForeignKey(Player, on_delete=models.CASCADE, related_name="sessions")
    platform = models.CharField(max_length=20, help_text="The platform the player logged in with.")
    # The account on that platform: unlinking it ends the sessions it opened. Empty for sessions
    # opened before it was kept (an unlink of the platform ends those too). db_default: for the
    # INSERTs of a release before it, while that release still serves during an upgrade.
    platform_user_id = models.CharField(max_length=200, blank=True, default="", db_default="")
    created_at = models.DateTimeField(default=timezone.now)
    last_refreshed_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(help_text="When the live refresh token expires.")
    revoked_at = models.DateTimeField(null=True, blank=True, db_index=True)
    revoke_reason = models.CharField(max_length=30, blank=True, choices=RevokeReason.choices)
    # The token whose use made the live one, and until when presenting it again is a retry.
    grace_token = models.ForeignKey(
        "SessionRefreshToken", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    grace_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["player", "revoked_at"])]

    def __str__(self) -> str:
        return f"session #{self.pk} of {self.player_id} ({self.platform})"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None and self.expires_at > timezone.now()


class SessionRefreshToken(models.Model):
    """Every refresh token a session handed out, by hash only. Retired ones are kept while the
    session lives: presenting one again is how reuse is detected."""

    session = models.ForeignKey(AuthSession, on_delete=models.CASCADE, related_name="tokens")
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    retired_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            # At most one usable refresh token per session: two racing refreshes can never leave
            # two live token families behind, whatever the code above this does.
            models.UniqueConstraint(
                fields=["session"],
                condition=Q(retired_at__isnull=True),
                name="one_live_refresh_token_per_session",
            )
        ]

    def __str__(self) -> str:
        return f"refresh token #{self.pk} of session #{self.session_id}"
