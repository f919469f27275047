"""Settings for every environment, read from the environment with django-environ.

DEBUG is off unless DJANGO_DEBUG=1, which `make run` and `make test` set. Local defaults need no
setup (SQLite, eager Celery, a local secret); production values have no default: with DEBUG off a
missing or demo value stops start-up (see `check_production`).
"""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import environ
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

from gamingpanel.beat import expire_at_next_run

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
env.read_env(BASE_DIR / ".env")  # optional, git-ignored; real environment variables win


def _refuse_below(name: str, value: float, minimum: float, why: str) -> None:
    """Stop start-up when a setting is below the smallest value that works (NaN too), naming
    the setting, its value, that smallest value and what a smaller one would break."""
    if not value >= minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}; it is {value}: {why}.")


DEBUG = env.bool("DJANGO_DEBUG", default=False)
TESTING = env.bool("GP_TESTING", default=False)
LOCAL_SECRET_KEY = "local-only-insecure-secret-key-change-me"
SECRET_KEY = env.str("DJANGO_SECRET_KEY", default=LOCAL_SECRET_KEY if DEBUG else env.NOTSET)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])
ALLOWED_HOSTS_GIVEN = "DJANGO_ALLOWED_HOSTS" in env.ENVIRON
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "axes",  # operator login limits (AXES_* below)
    "django_otp",  # operators' optional second factor (TOTP); games may require it
    "django_otp.plugins.otp_totp",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "corsheaders",
    "apps.accounts",
    "apps.platforms",
    "apps.login",
    "apps.inventory",
    "apps.stats",
    "apps.shop",
    "apps.payments",
    "apps.events",
    "apps.leaderboards",
    "apps.battlepass",
    "apps.multiplayer",
    "apps.analytics",
    "apps.audit",
    "apps.cloudsave",
    "apps.remoteconfig",
    "apps.devdocs",
    "apps.panel",
]

MIDDLEWARE = [
    "gamingpanel.middleware.RequestIdMiddleware",
    "gamingpanel.access.AccessLogMiddleware",  # one access line and latency sample a request
    # Outside CORS: a preflight, which CORS answers itself, carries nosniff, the referrer policy
    # and the frame refusal as every answer does.
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "apps.accounts.cors.GameCorsMiddleware",  # /api/ only; origins per game (django-cors-headers)
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Sessions, operators, messages and CSRF for the panel and the admin only: /api/ skips them.
    "gamingpanel.middleware.PanelSessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "gamingpanel.middleware.PanelCsrfViewMiddleware",
    "gamingpanel.middleware.PanelAuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",  # request.user.is_verified(): signed in with a code
    "gamingpanel.middleware.PanelMessageMiddleware",
    "gamingpanel.security.PageCspMiddleware",  # Content-Security-Policy on HTML answers
    "gamingpanel.middleware.ApiProblemMiddleware",
    "gamingpanel.pages.PageUnavailableMiddleware",  # PostgreSQL/Redis down: the 503 page
    "apps.panel.middleware.PanelNeverCacheMiddleware",  # no-store on every panel answer
    "axes.middleware.AxesMiddleware",  # last: turns a locked-out login into its 429 page
]

ROOT_URLCONF = "gamingpanel.urls"
WSGI_APPLICATION = "gamingpanel.wsgi.application"
ASGI_APPLICATION = "gamingpanel.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
# The SQLite default is for the demo and tests: with DEBUG off, check_production requires it.
DATABASE_URL_GIVEN = "DATABASE_URL" in env.ENVIRON
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
# Off: a health check is a round trip before every request's first query. Without it a connection
# PostgreSQL dropped fails one request (503) and is closed at that request's end, so the next one
# reconnects (tests/foundation/test_database_reconnect.py).
DATABASES["default"]["CONN_HEALTH_CHECKS"] = env.bool("DATABASE_CONN_HEALTH_CHECKS", default=False)
IS_POSTGRES = DATABASES["default"]["ENGINE"].endswith("postgresql")
# The hot compiled statements (gamingpanel.sql) run prepared: planned once per connection, and
# again every DATABASE_PREPARED_PLAN_SECONDS.
# Turn off behind a pooler that hands one client several sessions (PgBouncer transaction mode).
DATABASE_PREPARED_STATEMENTS = env.bool("DATABASE_PREPARED_STATEMENTS", default=True)
# A prepared statement is planned again after this long, so that a plan made while a table was
# small does not outlive the table's growth (gamingpanel.sql._Prepares); 0: never again.
DATABASE_PREPARED_PLAN_SECONDS = env.int("DATABASE_PREPARED_PLAN_SECONDS", default=10)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env.str("REDIS_URL", default="")
# `make test` runs the suite in pytest-xdist workers, and every test empties its Redis database:
# worker gwN uses REDIS_URL's database + N. The processes a test starts inherit the result
# (GP_REDIS_PER_WORKER says it was applied), not the rule.
_worker = env.ENVIRON.get("PYTEST_XDIST_WORKER") if TESTING and REDIS_URL else None
if _worker and "GP_REDIS_PER_WORKER" not in env.ENVIRON:
    _url = urlsplit(REDIS_URL)
    if not (_url.path.strip("/") or "0").isdigit():
        raise ImproperlyConfigured(
            "Tests in pytest-xdist workers need REDIS_URL as redis://host:port/<database>: "
            "each worker takes that database + its number."
        )
    _db = int(_url.path.strip("/") or 0) + int(_worker.removeprefix("gw"))
    REDIS_URL = env.ENVIRON["REDIS_URL"] = urlunsplit(_url._replace(path=f"/{_db}"))
    env.ENVIRON["GP_REDIS_PER_WORKER"] = "1"
# Every Redis key and pub/sub channel (cache, rate limits, revocation markers and channel,
# Celery's queues and results) carries this prefix, so deployments sharing one Redis server stay
# apart: pub/sub ignores the DB number. Defaults to the database's name.
DEPLOYMENT_NAME = env.str("DEPLOYMENT_NAME", default=Path(str(DATABASES["default"]["NAME"])).name)
CACHE_KEY_PREFIX = env.str("CACHE_KEY_PREFIX", default=f"gp-{DEPLOYMENT_NAME}")
# How long a cache call waits for Redis to connect or answer before it fails (the callers then
# ask the database, or answer 503). redis-py waits for ever by default: a Redis that stopped
# answering without closing the connection would hold every request that reads a revocation
# marker until the kernel gave up on the connection, minutes later.
REDIS_SOCKET_TIMEOUT = env.float("REDIS_SOCKET_TIMEOUT", default=2.0)
# 0 makes redis-py's sockets non-blocking (every connect fails at once), a negative value is a
# ValueError in every cache call: either way no cache call would ever reach Redis.
if not REDIS_SOCKET_TIMEOUT > 0:
    raise ImproperlyConfigured(
        f"REDIS_SOCKET_TIMEOUT must be a number of seconds above 0; it is {REDIS_SOCKET_TIMEOUT}."
    )
# After a revocation-marker read, server-key read or rate-limit count could not reach Redis or
# timed out, those calls skip Redis for this long in that process (apps/accounts/hotcache.py):
# a hung Redis then delays one request per window, not every one. 0: always ask.
REDIS_BREAKER_SECONDS = env.float("REDIS_BREAKER_SECONDS", default=5.0)
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": CACHE_KEY_PREFIX,
            "OPTIONS": {
                "socket_timeout": REDIS_SOCKET_TIMEOUT,
                "socket_connect_timeout": REDIS_SOCKET_TIMEOUT,
            },
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = True
LOGIN_URL = "/admin/login/"
# A sign-in without a safe ?next= lands on the panel's home (Django's default, /accounts/profile/,
# is no page here).
LOGIN_REDIRECT_URL = "panel:home"
# Operators' sign-ins (Django sessions: the panel and the admin) last PANEL_SESSION_HOURS from
# the session's last save (the sign-in, a message shown). Players' and game servers' bearer
# tokens are not Django sessions: ACCESS_TOKEN_LIFETIME and REFRESH_TOKEN_LIFETIME rule them.
PANEL_SESSION_HOURS = env.int("PANEL_SESSION_HOURS", default=12)
if PANEL_SESSION_HOURS < 1:
    raise ImproperlyConfigured("PANEL_SESSION_HOURS must be at least 1.")
SESSION_COOKIE_AGE = PANEL_SESSION_HOURS * 3600

SESSION_COOKIE_SECURE = env.bool("DJANGO_SECURE_COOKIES", default=not DEBUG)
# Messages wait in the session (the database), not in a cookie: a new server key is shown
# through one, and a signed cookie is signed, not encrypted.
MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
# HTTPS behind a proxy (deploy/Caddyfile): the header the proxy sets to "https", trusted only
# because nothing reaches the web server but the proxy. Empty: no proxy, trust no header.
_PROXY_SSL_HEADER = env.str("DJANGO_SECURE_PROXY_SSL_HEADER", default="X-Forwarded-Proto")
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_" + _PROXY_SSL_HEADER.upper().replace("-", "_"), "https") if _PROXY_SSL_HEADER else None
)
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=False)
# The container's own health check asks over plain HTTP (gamingpanel/healthcheck.py), and so
# do a load balancer's probes and a Prometheus scraping `web` on the compose network
# (docs/operations/README.md); from outside, the TLS front redirects plain HTTP itself.
SECURE_REDIRECT_EXEMPT = [r"^api/v1/health(/live)?$", r"^metrics$"]
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", default=False)
SECURE_HSTS_PRELOAD = env.bool("DJANGO_SECURE_HSTS_PRELOAD", default=False)
# security.W003 looks for CsrfViewMiddleware by its dotted name; PanelCsrfViewMiddleware is that
# middleware for every page outside /api/ (tests/foundation/test_panel_only_middleware.py).
SILENCED_SYSTEM_CHECKS = ["security.W003"]

# Content-Security-Policy of every HTML page (gamingpanel.security.PageCspMiddleware): scripts
# and everything else only from this site; inline style allowed (the panel's charts set CSS
# variables in style attributes, Swagger UI and ReDoc inject their styles), inline script not.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "worker-src": ["'self'", "blob:"],  # ReDoc's search
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

# Operators' authenticator apps show their codes under this name (django-otp TOTP).
OTP_TOTP_ISSUER = env.str("OTP_TOTP_ISSUER", default="Gaming Panel")

# --- Operator logins (the admin's login form, which the panel uses): django-axes -----------
# After AXES_FAILURE_LIMIT failures for one username (from anywhere) or from one address (any
# usernames), logins there are refused with a 429 page for AXES_COOLOFF_MINUTES; each attempt
# during the pause starts it again. `manage.py axes_reset_username NAME` lifts it sooner.
# Failures and lock-outs are written to the audit log (apps/audit/receivers.py).
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
# axes locks a login out once its failures reach the limit (failures >= limit): at 0 or less
# even none do, and no operator could ever sign in.
_refuse_below(
    "AXES_FAILURE_LIMIT",
    AXES_FAILURE_LIMIT,
    1,
    "axes locks out at failures >= the limit, so no operator could ever sign in",
)
_AXES_COOLOFF_MINUTES = env.int("AXES_COOLOFF_MINUTES", default=15)
# axes counts only the failures of the last AXES_COOLOFF_TIME: at 0 none (and below 0 it deletes
# them all), so no login is ever paused and passwords can be guessed without limit. Past a year
# the pause is for good in practice (axes_reset_username lifts it), and from about 2000 years
# every login's count (now - the pause) is a date before year 1: an OverflowError, a 500.
if not 1 <= _AXES_COOLOFF_MINUTES <= 525_600:
    raise ImproperlyConfigured(
        "AXES_COOLOFF_MINUTES must be 1 to 525600 (a year); it is "
        f"{_AXES_COOLOFF_MINUTES}: axes counts the failures of that many last minutes, at 0 or "
        "less none (logins never paused: passwords guessed without limit), and far beyond a "
        "year every login fails on a date before year 1."
    )
AXES_COOLOFF_TIME = timedelta(minutes=_AXES_COOLOFF_MINUTES)
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_DISABLE_ACCESS_LOG = True  # successful logins: not a row each
# The address the API's rate limits count (RATELIMIT_IP_META_KEY behind a proxy).
AXES_CLIENT_IP_CALLABLE = "apps.accounts.ratelimit.login_client_address"
AXES_LOCKOUT_CALLABLE = "gamingpanel.security.login_locked_out"
# Masked in axes' log lines and its stored request data (the password always is).
AXES_SENSITIVE_PARAMETERS = ["username", "ip_address", "csrfmiddlewaretoken", "token", "code"]
# The sign-in form's authenticator code (apps.accounts.operator_login): a wrong password with a
# right code would otherwise store a code still valid for its 30 s window.
AXES_SENSITIVE_PARAMETERS += ["otp_token"]
# The admin's password change, whose wrong old passwords are failures too.
AXES_SENSITIVE_PARAMETERS += ["old_password", "new_password1", "new_password2"]

# --- API -----------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_PERMISSION_CLASSES": [],
    "UNAUTHENTICATED_USER": None,
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    # Accept: application/problem+json alone gets the JSON answer, not a 406.
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "gamingpanel.renderers.ProblemJsonNegotiation",
    "DEFAULT_PARSER_CLASSES": ["gamingpanel.parsers.JSONParser"],
    "EXCEPTION_HANDLER": "gamingpanel.problems.problem_exception_handler",
    "DEFAULT_SCHEMA_CLASS": "apps.devdocs.schema.NestedNamesAutoSchema",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Gaming Panel API",
    "DESCRIPTION": "Player login, tokens, economy, live-ops and game-server API (contract v1).",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    # Auth schemes, the shared Problem schema and the generic errors (apps/devdocs/schema.py).
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "apps.devdocs.schema.polish_schema",
    ],
}

# --- Secrets at rest -----------------------------------------------------------------------
# Fernet keys (urlsafe base64, 32 bytes), newest first. Add a new key in front to rotate; old
# values stay readable and `manage.py rotate_secrets` re-encrypts them with the newest key.
LOCAL_FIELD_KEY = "bG9jYWwtb25seS1maWVsZC1lbmNyeXB0aW9uLWtleSE="
FIELD_ENCRYPTION_KEYS = env.list(
    "FIELD_ENCRYPTION_KEYS", default=[LOCAL_FIELD_KEY] if DEBUG else env.NOTSET
)

# --- Tokens --------------------------------------------------------------------------------
ACCESS_TOKEN_LIFETIME = timedelta(seconds=env.int("ACCESS_TOKEN_LIFETIME_SECONDS", default=7200))
# At most 0 every access token a login or refresh issues has already expired: every call with it
# is a 401 and the client refreshes for ever.
if ACCESS_TOKEN_LIFETIME.total_seconds() < 1:
    raise ImproperlyConfigured(
        "ACCESS_TOKEN_LIFETIME_SECONDS must be at least 1; it is "
        f"{int(ACCESS_TOKEN_LIFETIME.total_seconds())}."
    )
REFRESH_TOKEN_LIFETIME = timedelta(
    seconds=env.int("REFRESH_TOKEN_LIFETIME_SECONDS", default=30 * 24 * 3600)
)
# At most 0 every session a login or refresh opens has already expired: every refresh is refused
# and the player logs in again each time an access token runs out.
if REFRESH_TOKEN_LIFETIME.total_seconds() < 1:
    raise ImproperlyConfigured(
        "REFRESH_TOKEN_LIFETIME_SECONDS must be at least 1; it is "
        f"{int(REFRESH_TOKEN_LIFETIME.total_seconds())}."
    )
REFRESH_REUSE_GRACE_SECONDS = env.int("REFRESH_REUSE_GRACE_SECONDS", default=30)
# 0 is no grace. Below it, no retry would ever be honoured; past an hour a stolen refresh token
# is honoured as a lost answer's retry that long (and past timedelta's range every refresh 500s).
if not 0 <= REFRESH_REUSE_GRACE_SECONDS <= 3600:
    raise ImproperlyConfigured(
        "REFRESH_REUSE_GRACE_SECONDS must be from 0 to 3600 (a lost answer's retry comes within "
        f"seconds); it is {REFRESH_REUSE_GRACE_SECONDS}."
    )
# Ended sessions are deleted this long after their refresh token expired (prune_sessions): until
# then a refresh with one says why it ended instead of `invalid_token`.
ENDED_SESSIONS_KEPT_DAYS = env.int("ENDED_SESSIONS_KEPT_DAYS", default=7)
# Below 0 the daily prune deleted live sessions (their players logged out); past a century, the
# prune's cutoff falls before the calendar's first day and the task fails every day.
if not 0 <= ENDED_SESSIONS_KEPT_DAYS <= 36_500:
    raise ImproperlyConfigured(
        "ENDED_SESSIONS_KEPT_DAYS must be from 0 to 36500 (a negative value deletes live "
        f"sessions); it is {ENDED_SESSIONS_KEPT_DAYS}."
    )
# Each web process mirrors revoked sessions and live server keys, kept current by Redis pub/sub,
# so a token check costs no round trip (apps/accounts/mirror.py). Needs REDIS_URL.
REVOCATION_MIRROR = env.bool("REVOCATION_MIRROR", default=not TESTING) and bool(REDIS_URL)
LOCAL_TOKEN_KEY = "bG9jYWwtb25seS10b2tlbi1lbmNyeXB0aW9uLWtleS0="
# JWE (dir, A256GCM) keys as "kid:base64url-32-bytes", newest first; the first encrypts.
TOKEN_ENCRYPTION_KEYS = env.list(
    "TOKEN_ENCRYPTION_KEYS", default=[f"local1:{LOCAL_TOKEN_KEY}"] if DEBUG else env.NOTSET
)
TOKEN_SIGNING_KEY = env.str("TOKEN_SIGNING_KEY", default=SECRET_KEY)
# The default is for the demo and tests: with DEBUG off, check_production requires a key of its own.
TOKEN_SIGNING_KEY_GIVEN = "TOKEN_SIGNING_KEY" in env.ENVIRON
# Signing keys retired within the last access-token lifetime: their tokens still verify (as
# Django's SECRET_KEY_FALLBACKS), new ones are signed with TOKEN_SIGNING_KEY only.
TOKEN_SIGNING_KEY_FALLBACKS = env.list("TOKEN_SIGNING_KEY_FALLBACKS", default=[])
# Access tokens each process keeps verified (apps.accounts.tokens), about 1 KB each.
VERIFIED_TOKENS_PER_PROCESS = env.int("VERIFIED_TOKENS_PER_PROCESS", default=10_000)
# How far ahead of this host's clock a token's iat (or nbf) may be: another web host issued it
# with a clock running ahead. Expiry is never stretched.
TOKEN_CLOCK_LEEWAY_SECONDS = env.int("TOKEN_CLOCK_LEEWAY_SECONDS", default=5)
if not 0 <= TOKEN_CLOCK_LEEWAY_SECONDS <= 300:
    raise ImproperlyConfigured("TOKEN_CLOCK_LEEWAY_SECONDS must be between 0 and 300.")
SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": ACCESS_TOKEN_LIFETIME,
    "ALGORITHM": "HS256",
    "SIGNING_KEY": TOKEN_SIGNING_KEY,
    "USER_ID_CLAIM": "sub",
    "USER_ID_FIELD": "id",
}
RATE_LIMIT_PER_HOUR = env.int("RATE_LIMIT_PER_HOUR", default=1000)
AUTH_RATE_LIMIT_PER_MINUTE = env.int("AUTH_RATE_LIMIT_PER_MINUTE", default=60)  # per address
AUTH_GAME_RATE_LIMIT_PER_MINUTE = env.int("AUTH_GAME_RATE_LIMIT_PER_MINUTE", default=3000)
# GET player/data-export per player and hour (docs/guide/privacy.md): an export reads every row
# the player has.
DATA_EXPORTS_PER_HOUR = env.int("DATA_EXPORTS_PER_HOUR", default=5)
# A request is refused when its position in the window is past the limit (apps.accounts.
# ratelimit.spend): with a limit of 0 or less the first request already is. RATELIMIT_ENABLE=0,
# not 0, turns the limits off.
for _name, _limit, _refused in (
    ("RATE_LIMIT_PER_HOUR", RATE_LIMIT_PER_HOUR, "every player request"),
    ("AUTH_RATE_LIMIT_PER_MINUTE", AUTH_RATE_LIMIT_PER_MINUTE, "every login, refresh and link"),
    (
        "AUTH_GAME_RATE_LIMIT_PER_MINUTE",
        AUTH_GAME_RATE_LIMIT_PER_MINUTE,
        "every login, refresh and link",
    ),
    ("DATA_EXPORTS_PER_HOUR", DATA_EXPORTS_PER_HOUR, "every data export"),
):
    _refuse_below(
        _name,
        _limit,
        1,
        f"{_refused} would be 429 rate_limited (RATELIMIT_ENABLE=0 turns the limits off)",
    )
# Behind a proxy, the META key (or dotted path of a function) holding the client address.
RATELIMIT_IP_META_KEY = env.str("RATELIMIT_IP_META_KEY", default="") or None
RATELIMIT_USE_CACHE = "default"
RATELIMIT_ENABLE = env.bool("RATELIMIT_ENABLE", default=True)
# Positions of a budget one Redis round trip reserves for a process (apps.accounts.ratelimit);
# 1 asks Redis on every request.
RATELIMIT_LEASE_SIZE = env.int("RATELIMIT_LEASE_SIZE", default=16)
_refuse_below(
    "RATELIMIT_LEASE_SIZE",
    RATELIMIT_LEASE_SIZE,
    1,
    "reserving no position, requests would never be counted and no limit would hold "
    "(1 asks Redis on every request)",
)

# --- Platforms (server-to-server login verification) ---------------------------------------
PLATFORM_HTTP_TIMEOUT = (
    env.float("PLATFORM_CONNECT_TIMEOUT", default=2.0),
    env.float("PLATFORM_READ_TIMEOUT", default=5.0),
)
# All platform calls of one login together (up to three in a row): a slow platform is a 503
# within this, never three full timeouts.
PLATFORM_LOGIN_DEADLINE_SECONDS = env.float("PLATFORM_LOGIN_DEADLINE_SECONDS", default=8.0)
# requests (urllib3) refuses a timeout of 0 or less with a ValueError in every call: no platform
# call would be made. A login budget of 0 or less is spent before the first call: every login
# that asks a platform would be 503 platform_unavailable.
for _name, _seconds in (
    ("PLATFORM_CONNECT_TIMEOUT", PLATFORM_HTTP_TIMEOUT[0]),
    ("PLATFORM_READ_TIMEOUT", PLATFORM_HTTP_TIMEOUT[1]),
    ("PLATFORM_LOGIN_DEADLINE_SECONDS", PLATFORM_LOGIN_DEADLINE_SECONDS),
):
    if not _seconds > 0:
        raise ImproperlyConfigured(
            f"{_name} must be a number of seconds above 0; it is {_seconds}."
        )
PLATFORM_DEV_ENABLED = env.bool("PLATFORM_DEV_ENABLED", default=True)
PLATFORM_JWKS_MIN_REFETCH_SECONDS = env.int("PLATFORM_JWKS_MIN_REFETCH_SECONDS", default=60)
_refuse_below(
    "PLATFORM_JWKS_MIN_REFETCH_SECONDS",
    PLATFORM_JWKS_MIN_REFETCH_SECONDS,
    1,
    "at 0 or below there is no limit: every login naming a made-up key id downloads the key set",
)
# After a failed key-set download, logins needing that set answer 503 at once for this long.
# 0: no backoff, every login tries the download again (below 0 the cache drops the mark at once:
# no backoff either, while the setting reads as one).
PLATFORM_JWKS_FAILURE_BACKOFF_SECONDS = env.int("PLATFORM_JWKS_FAILURE_BACKOFF_SECONDS", default=5)
_refuse_below(
    "PLATFORM_JWKS_FAILURE_BACKOFF_SECONDS",
    PLATFORM_JWKS_FAILURE_BACKOFF_SECONDS,
    0,
    "below 0 there is no backoff at all; 0 is how to turn it off",
)
STEAM_API_BASE_URL = env.str("STEAM_API_BASE_URL", default="https://partner.steam-api.com")
EPIC_API_BASE_URL = env.str("EPIC_API_BASE_URL", default="https://api.epicgames.dev")
GOOGLE_OAUTH_TOKEN_URL = env.str(
    "GOOGLE_OAUTH_TOKEN_URL", default="https://oauth2.googleapis.com/token"
)
GOOGLE_GAMES_API_BASE_URL = env.str(
    "GOOGLE_GAMES_API_BASE_URL", default="https://games.googleapis.com/games/v1"
)
APPLE_ID_BASE_URL = env.str("APPLE_ID_BASE_URL", default="https://appleid.apple.com")
APPLE_GAME_CENTER_KEY_HOSTS = env.list(
    "APPLE_GAME_CENTER_KEY_HOSTS", default=["static.gc.apple.com"]
)
# Game Center's trust anchor when a game configures none: DigiCert Trusted Root G4, vendored with
# its fingerprint (docs/platforms.md); and the hosts the key certificate's issuing CA may be
# fetched from (its AIA caIssuers link, always fetched over https).
APPLE_GAME_CENTER_TRUST_ANCHORS_FILE = env.str(
    "APPLE_GAME_CENTER_TRUST_ANCHORS_FILE",
    default=str(BASE_DIR / "apps" / "platforms" / "certs" / "game_center_roots.pem"),
)
APPLE_GAME_CENTER_CA_ISSUER_HOSTS = env.list(
    "APPLE_GAME_CENTER_CA_ISSUER_HOSTS", default=["cacerts.digicert.com"]
)
# Hosts a game's own platform URLs may name (jwks_url, token_url, verify_url, key_hosts...):
# each platform's real hosts; "*.example.com" is any name under it (docs/platforms.md).
APPLE_URL_HOSTS = env.list("APPLE_URL_HOSTS", default=["*.apple.com"])
IDCGAMES_URL_HOSTS = env.list("IDCGAMES_URL_HOSTS", default=["idcgames.com", "*.idcgames.com"])
NINTENDO_URL_HOSTS = env.list("NINTENDO_URL_HOSTS", default=["*.nintendo.com", "*.nintendo.net"])
PLAYSTATION_URL_HOSTS = env.list(
    "PLAYSTATION_URL_HOSTS",
    default=[
        "*.playstation.com",
        "*.playstation.net",
        "*.sonyentertainmentnetwork.com",
        "*.sony.com",
    ],
)
# Outbound calls never reach loopback, private or link-local addresses (cloud metadata, the
# database...) unless this is on: only for local fakes and tests (gamingpanel/outbound.py).
OUTBOUND_ALLOW_PRIVATE = env.bool("OUTBOUND_ALLOW_PRIVATE", default=False)
IDCGAMES_VERIFY_URL = env.str(
    "IDCGAMES_VERIFY_URL", default="https://www.idcgames.com/unilogin/getAccessData.php"
)
IDCGAMES_PROFILE_URL = env.str(
    "IDCGAMES_PROFILE_URL", default="https://www.idcgames.com/unilogin/getUserProfileInfo.php"
)

# --- Payments ------------------------------------------------------------------------------
PAYMENT_HTTP_TIMEOUT = (
    env.float("PAYMENT_CONNECT_TIMEOUT", default=2.0),
    env.float("PAYMENT_READ_TIMEOUT", default=10.0),
)
# As the platform timeouts: 0 or less is a ValueError in every processor call and callback.
for _name, _seconds in (
    ("PAYMENT_CONNECT_TIMEOUT", PAYMENT_HTTP_TIMEOUT[0]),
    ("PAYMENT_READ_TIMEOUT", PAYMENT_HTTP_TIMEOUT[1]),
):
    if not _seconds > 0:
        raise ImproperlyConfigured(
            f"{_name} must be a number of seconds above 0; it is {_seconds}."
        )
STRIPE_API_BASE_URL = env.str("STRIPE_API_BASE_URL", default="https://api.stripe.com")
STRIPE_WEBHOOK_TOLERANCE_SECONDS = env.int("STRIPE_WEBHOOK_TOLERANCE_SECONDS", default=300)
# Below 0 every webhook and sandbox callback is refused as too old; at 0 Stripe's library skips
# the age check (replays accepted) while the sandbox's refuses all but same-second callbacks.
if STRIPE_WEBHOOK_TOLERANCE_SECONDS < 1:
    raise ImproperlyConfigured(
        "STRIPE_WEBHOOK_TOLERANCE_SECONDS must be at least 1; it is "
        f"{STRIPE_WEBHOOK_TOLERANCE_SECONDS}."
    )
SANDBOX_PAYMENT_SECRET = env.str("SANDBOX_PAYMENT_SECRET", default=SECRET_KEY)
# Checkout links and the sandbox's signed callbacks point here: by default, the local server's port.
PUBLIC_BASE_URL = env.str(
    "PUBLIC_BASE_URL", default=f"http://127.0.0.1:{env.int('PORT', default=8000)}"
)
# The local default is for the demo and tests: with DEBUG off, check_production requires it.
PUBLIC_BASE_URL_GIVEN = "PUBLIC_BASE_URL" in env.ENVIRON
GOOGLE_PLAY_API_BASE_URL = env.str(
    "GOOGLE_PLAY_API_BASE_URL", default="https://androidpublisher.googleapis.com"
)
# Google's certificates for the OIDC tokens Pub/Sub push sends (Play notifications).
GOOGLE_OIDC_CERTS_URL = env.str(
    "GOOGLE_OIDC_CERTS_URL", default="https://www.googleapis.com/oauth2/v1/certs"
)
APPLE_APP_STORE_ROOT_CERTS = env.list("APPLE_APP_STORE_ROOT_CERTS", default=[])
# The App Store Server API (StoreKit 1 transaction lookups); production first, then sandbox.
APPLE_APP_STORE_API_BASE_URL = env.str(
    "APPLE_APP_STORE_API_BASE_URL", default="https://api.storekit.apple.com"
)
APPLE_APP_STORE_SANDBOX_API_BASE_URL = env.str(
    "APPLE_APP_STORE_SANDBOX_API_BASE_URL", default="https://api.storekit-sandbox.apple.com"
)
# OCSP revocation checks of Apple's signing certificates (app-store-server-library's online
# checks: the OCSP responder named in each certificate, over requests).
APPLE_APP_STORE_ONLINE_CHECKS = env.bool("APPLE_APP_STORE_ONLINE_CHECKS", default=False)
# Tests only (honoured when GP_TESTING is set): hold fulfilment open so a test can kill a worker.
PAYMENTS_TEST_FULFILMENT_PAUSE_SECONDS = env.float(
    "PAYMENTS_TEST_FULFILMENT_PAUSE_SECONDS", default=0.0
)
PAYMENTS_TEST_FULFILMENT_MARKER = env.str("PAYMENTS_TEST_FULFILMENT_MARKER", default="")
# The payments sweeper (a beat task): re-queues notifications left received or failed and sandbox
# callbacks left undelivered, each at most MAX_ATTEMPTS times, waiting BACKOFF × 2^n seconds
# between tries (capped at an hour); after the last it flags the row and logs an ALERT. GRACE:
# how old a row must be before the sweeper touches it (the normal path had its chance).
PAYMENTS_SWEEP_INTERVAL_SECONDS = env.float("PAYMENTS_SWEEP_INTERVAL_SECONDS", default=60.0)
# Beat's interval for the sweeper and the checkout expiry: at most 0 both are always due, and beat
# queues them back to back without a pause, flooding the broker and the workers.
if not PAYMENTS_SWEEP_INTERVAL_SECONDS >= 1:
    raise ImproperlyConfigured(
        "PAYMENTS_SWEEP_INTERVAL_SECONDS must be at least 1; it is "
        f"{PAYMENTS_SWEEP_INTERVAL_SECONDS}."
    )
PAYMENTS_SWEEP_GRACE_SECONDS = env.int("PAYMENTS_SWEEP_GRACE_SECONDS", default=120)
PAYMENTS_SWEEP_BACKOFF_SECONDS = env.int("PAYMENTS_SWEEP_BACKOFF_SECONDS", default=60)
# At most 0 a row's next sweep is due at once: it is queued again by every sweep (a minute
# apart), on top of its task's own retries, and its attempts are spent in minutes of an outage.
_refuse_below(
    "PAYMENTS_SWEEP_BACKOFF_SECONDS",
    PAYMENTS_SWEEP_BACKOFF_SECONDS,
    1,
    "a row would be queued again by every sweep, its attempts spent within minutes",
)
PAYMENTS_SWEEP_MAX_ATTEMPTS = env.int("PAYMENTS_SWEEP_MAX_ATTEMPTS", default=8)
# At most 0 the sweeper queues nothing again: it flags every notification and callback left
# undone with an ALERT at its first look (sweeps >= 0), and never looks at an unmatched refund.
_refuse_below(
    "PAYMENTS_SWEEP_MAX_ATTEMPTS",
    PAYMENTS_SWEEP_MAX_ATTEMPTS,
    1,
    "the sweeper would queue nothing again, flagging every row left undone at its first look",
)
PAYMENTS_SWEEP_BATCH = env.int("PAYMENTS_SWEEP_BATCH", default=200)
# Each sweep takes its rows [:PAYMENTS_SWEEP_BATCH]: at 0 none (nothing is ever re-queued),
# below 0 every row but the last few, unbounded.
if PAYMENTS_SWEEP_BATCH < 1:
    raise ImproperlyConfigured(
        f"PAYMENTS_SWEEP_BATCH must be at least 1; it is {PAYMENTS_SWEEP_BATCH}."
    )
# A leaderboard payout the economy refuses (an item owned, a cap reached) is tried again by the
# 10-minute sweep this many times in all, then left for an operator (an ALERT log line).
LEADERBOARD_PAYOUT_ATTEMPTS = env.int("LEADERBOARD_PAYOUT_ATTEMPTS", default=6)
# A payout is always tried once: at most 0 its first refusal leaves it to an operator (as 1 does)
# while the setting reads as "never tried".
_refuse_below(
    "LEADERBOARD_PAYOUT_ATTEMPTS",
    LEADERBOARD_PAYOUT_ATTEMPTS,
    1,
    "a payout is always tried once (1: never again by the sweep)",
)
# A leaderboard submission id is remembered this many days (a retry within them changes nothing;
# the id sent again after is a new score): the daily prune deletes older submissions.
LEADERBOARD_SUBMISSION_RETENTION_DAYS = env.int("LEADERBOARD_SUBMISSION_RETENTION_DAYS", default=30)
if LEADERBOARD_SUBMISSION_RETENTION_DAYS < 1:
    raise ImproperlyConfigured("LEADERBOARD_SUBMISSION_RETENTION_DAYS must be at least 1.")
# The rank index's count check (every minute) compares an open period of this many entries or
# more at most once every this many minutes (0: in every round, as a smaller one).
LEADERBOARD_INDEX_CHECK_LARGE_ENTRIES = env.int(
    "LEADERBOARD_INDEX_CHECK_LARGE_ENTRIES", default=100_000
)
LEADERBOARD_INDEX_CHECK_LARGE_MINUTES = env.int("LEADERBOARD_INDEX_CHECK_LARGE_MINUTES", default=10)
# Past a year Redis refused the claim's expiry (far enough) and large boards were never checked.
if not 0 <= LEADERBOARD_INDEX_CHECK_LARGE_MINUTES <= 525_600:
    raise ImproperlyConfigured(
        "LEADERBOARD_INDEX_CHECK_LARGE_MINUTES must be from 0 (every round) to 525600 (a year); "
        f"it is {LEADERBOARD_INDEX_CHECK_LARGE_MINUTES}."
    )
# How long a real-money checkout (Stripe, sandbox) may wait to be paid, counted from its purchase:
# then the purchase expires and gives back its stock and limit slot (apps.payments.tasks.
# expire_checkouts). 24 h is Stripe's own session lifetime (its default, sent as no expires_at);
# shorter is sent to Stripe as the session's expires_at, which Stripe takes from 30 min after it
# opens the session: an hour leaves room for a retry that opens it up to
# PAYMENTS_UNOPENED_CHECKOUT_SECONDS late.
CHECKOUT_EXPIRY_SECONDS = env.int("CHECKOUT_EXPIRY_SECONDS", default=86400)
if not 3600 <= CHECKOUT_EXPIRY_SECONDS <= 86400:
    raise ImproperlyConfigured("CHECKOUT_EXPIRY_SECONDS must be 3600 (1 h) to 86400 (24 h).")
# A checkout whose opening never finished (the process died between our row and the processor's
# answer) this long after its purchase began: the purchase is closed and its stock and limit slot
# freed, the key answers 503 payment_provider_unavailable (a new key buys again).
PAYMENTS_UNOPENED_CHECKOUT_SECONDS = env.int("PAYMENTS_UNOPENED_CHECKOUT_SECONDS", default=900)
# At most 0 the sweeper closes checkouts a purchase is opening right now (their processor has not
# answered yet): the buyer pays a checkout whose purchase already failed.
if PAYMENTS_UNOPENED_CHECKOUT_SECONDS < 1:
    raise ImproperlyConfigured(
        "PAYMENTS_UNOPENED_CHECKOUT_SECONDS must be at least 1; it is "
        f"{PAYMENTS_UNOPENED_CHECKOUT_SECONDS}."
    )
# A checkout the buyer submitted whose processor has not decided this long after (a bank debit
# Stripe reports days later): its purchase and payment are flagged needs_attention, with an ALERT,
# once. Nothing is closed (the money may still come). 15 days: SEPA debits take up to 14.
PAYMENTS_UNDECIDED_ALERT_SECONDS = env.int("PAYMENTS_UNDECIDED_ALERT_SECONDS", default=15 * 86400)

# --- Multiplayer ---------------------------------------------------------------------------
SERVER_HEARTBEAT_TTL_SECONDS = env.int("SERVER_HEARTBEAT_TTL_SECONDS", default=30)
# Live servers per game: a server joining the list past it is refused (409 too_many_servers).
MULTIPLAYER_MAX_LIVE_SERVERS = env.int("MULTIPLAYER_MAX_LIVE_SERVERS", default=2000)
# Servers not heard from for this long are deleted (prune_servers, hourly).
MULTIPLAYER_SERVER_RETENTION_HOURS = env.int("MULTIPLAYER_SERVER_RETENTION_HOURS", default=24)
if MULTIPLAYER_MAX_LIVE_SERVERS < 1 or MULTIPLAYER_SERVER_RETENTION_HOURS < 1:
    raise ImproperlyConfigured(
        "MULTIPLAYER_MAX_LIVE_SERVERS and MULTIPLAYER_SERVER_RETENTION_HOURS must be at least 1."
    )
# The cap is a LIMIT in PostgreSQL (a bigint: larger made every server-info a 500); past a
# century the hourly prune's cutoff falls before the calendar's first day and the task fails.
if MULTIPLAYER_MAX_LIVE_SERVERS > 2**63 - 1:
    raise ImproperlyConfigured(
        f"MULTIPLAYER_MAX_LIVE_SERVERS must be at most {2**63 - 1} (PostgreSQL's largest "
        f"LIMIT); it is {MULTIPLAYER_MAX_LIVE_SERVERS}."
    )
if MULTIPLAYER_SERVER_RETENTION_HOURS > 876_000:
    raise ImproperlyConfigured(
        "MULTIPLAYER_SERVER_RETENTION_HOURS must be at most 876000 (a century); it is "
        f"{MULTIPLAYER_SERVER_RETENTION_HOURS}."
    )
# At most 0 no server is ever listed; at the retention or beyond, the hourly prune deletes
# servers that are still listed (live).
if not 1 <= SERVER_HEARTBEAT_TTL_SECONDS < MULTIPLAYER_SERVER_RETENTION_HOURS * 3600:
    raise ImproperlyConfigured(
        "SERVER_HEARTBEAT_TTL_SECONDS must be at least 1 and below "
        "MULTIPLAYER_SERVER_RETENTION_HOURS * 3600 (the retention in seconds, "
        f"{MULTIPLAYER_SERVER_RETENTION_HOURS * 3600}); it is {SERVER_HEARTBEAT_TTL_SECONDS}."
    )

# --- Analytics -----------------------------------------------------------------------------
ANALYTICS_RAW_RETENTION_DAYS = env.int("ANALYTICS_RAW_RETENTION_DAYS", default=400)
# How old a client event may be: a game buffers events while offline (7 days by default); each
# lands in the aggregates of the day it happened (older than yesterday: re-aggregated next run).
ANALYTICS_MAX_CLOCK_SKEW_SECONDS = env.int("ANALYTICS_MAX_CLOCK_SKEW_SECONDS", default=7 * 86400)
_refuse_below(
    "ANALYTICS_MAX_CLOCK_SKEW_SECONDS",
    ANALYTICS_MAX_CLOCK_SKEW_SECONDS,
    60,
    "an event reaches the panel a moment after it happens, so below a minute (and at 0 or "
    "below, every time but the future) nearly every client event is refused as event_out_of_range",
)
# An event accepted that old must still be kept raw when the next runs aggregate its day.
if ANALYTICS_RAW_RETENTION_DAYS * 86400 <= ANALYTICS_MAX_CLOCK_SKEW_SECONDS + 2 * 86400:
    raise ImproperlyConfigured(
        "ANALYTICS_RAW_RETENTION_DAYS must keep raw events longer than "
        "ANALYTICS_MAX_CLOCK_SKEW_SECONDS accepts them, by more than two days: events accepted "
        "would be pruned before they are counted."
    )
# Client events may be buffered offline (up to the age above) but not dated in the future.
ANALYTICS_MAX_FUTURE_SECONDS = env.int("ANALYTICS_MAX_FUTURE_SECONDS", default=300)
# At most 0 an event stamped with a device clock a moment ahead (or, below 0, stamped now) is
# refused as event_out_of_range.
if ANALYTICS_MAX_FUTURE_SECONDS < 1:
    raise ImproperlyConfigured(
        f"ANALYTICS_MAX_FUTURE_SECONDS must be at least 1; it is {ANALYTICS_MAX_FUTURE_SECONDS}."
    )
ANALYTICS_MAX_BATCH = env.int("ANALYTICS_MAX_BATCH", default=100)
# At most 0 every batch, even of one event, is batch_too_large: no client event is ever stored.
if ANALYTICS_MAX_BATCH < 1:
    raise ImproperlyConfigured(
        f"ANALYTICS_MAX_BATCH must be at least 1; it is {ANALYTICS_MAX_BATCH}."
    )
ANALYTICS_MAX_PROPERTIES_BYTES = env.int("ANALYTICS_MAX_PROPERTIES_BYTES", default=4096)
_refuse_below(
    "ANALYTICS_MAX_PROPERTIES_BYTES",
    ANALYTICS_MAX_PROPERTIES_BYTES,
    2,
    "every client event would be refused as properties_too_large (no properties, {}, is 2 bytes)",
)
# Distinct client event names per game: a new one past it is refused (too_many_event_names).
ANALYTICS_MAX_EVENT_NAMES = env.int("ANALYTICS_MAX_EVENT_NAMES", default=500)
if ANALYTICS_MAX_EVENT_NAMES < 1:
    raise ImproperlyConfigured("ANALYTICS_MAX_EVENT_NAMES must be at least 1.")
ANALYTICS_AGGREGATION_WORK_MEM = env.str("ANALYTICS_AGGREGATION_WORK_MEM", default="256MB").strip()


_MEMORY_UNITS = {"B": 1 / 1024, "kB": 1, "MB": 1024, "GB": 1024**2, "TB": 1024**3}


def _work_mem_kilobytes(value: str) -> int | None:
    """The kB PostgreSQL makes of a memory value: a number, whole or not, and a unit (B, kB, MB,
    GB or TB, its case as PostgreSQL wants it; none: kB). As PostgreSQL does, a fraction is rounded
    to the next smaller unit, then to kB. None when it is not such a value (PostgreSQL also takes
    exponents and hexadecimal, which this refuses)."""
    match = re.fullmatch(r"([0-9]+(?:\.[0-9]+)?) *(B|kB|MB|GB|TB)?", value)
    if match is None:
        return None
    number, unit = float(match[1]), match[2] or "kB"
    if number >= 2**63:  # up to inf, for a number of hundreds of digits
        return None
    units = list(_MEMORY_UNITS)
    if match[2] and "." in match[1] and unit != "B":
        smaller = units[units.index(unit) - 1]
        number = round(number * _MEMORY_UNITS[unit] / _MEMORY_UNITS[smaller])
        unit = smaller
    return round(number * _MEMORY_UNITS[unit])


# Set for each aggregation transaction (apps/analytics/aggregation.py, SET LOCAL work_mem, text in
# the statement): a value PostgreSQL refuses would fail every day's aggregation (an ALERT, the day
# left dirty for ever), and anything but a number and a unit would be SQL of the setting's making.
# PostgreSQL's range: 64 kB to 2147483647 kB.
if not 64 <= (_work_mem_kilobytes(ANALYTICS_AGGREGATION_WORK_MEM) or 0) <= 2_147_483_647:
    raise ImproperlyConfigured(
        "ANALYTICS_AGGREGATION_WORK_MEM must be a PostgreSQL memory size from 64kB to "
        "2147483647kB, a number and one of the units B, kB, MB, GB, TB (as 256MB); it is "
        f"{ANALYTICS_AGGREGATION_WORK_MEM!r}."
    )
# The longest range the dashboard and its CSV exports read (apps/panel/forms.py refuses more).
ANALYTICS_DASHBOARD_MAX_DAYS = 366
ANALYTICS_DASHBOARD_DEFAULT_DAYS = env.int("ANALYTICS_DASHBOARD_DEFAULT_DAYS", default=30)
# At 0 or below the default range ended before it began (an empty dashboard and CSV); past the
# longest range, the default was read as no form would let an operator ask.
if not 1 <= ANALYTICS_DASHBOARD_DEFAULT_DAYS <= ANALYTICS_DASHBOARD_MAX_DAYS:
    raise ImproperlyConfigured(
        f"ANALYTICS_DASHBOARD_DEFAULT_DAYS must be from 1 to {ANALYTICS_DASHBOARD_MAX_DAYS} (the "
        f"longest range the dashboard reads); it is {ANALYTICS_DASHBOARD_DEFAULT_DAYS}."
    )
# Repeating events (weekly, monthly) are created this many days before they start.
EVENT_REPEAT_HORIZON_DAYS = env.int("EVENT_REPEAT_HORIZON_DAYS", default=35)
# At 0 or below a repeat was made only once it had started (players saw it late, its start gone);
# past the calendar's end (millions of days) the task failed every run and no series repeated.
if not 1 <= EVENT_REPEAT_HORIZON_DAYS <= 3650:
    raise ImproperlyConfigured(
        "EVENT_REPEAT_HORIZON_DAYS must be from 1 to 3650 (ten years); it is "
        f"{EVENT_REPEAT_HORIZON_DAYS}."
    )
# Remote config's sizes, counted as PostgreSQL keeps the JSON (gamingpanel.storable.stored_json):
# one value (a key's default or an override's) and a whole release (every key with its overrides,
# as publish stores it). Unbounded, a draft too large for jsonb made publish a 500, and every
# client's GET config serialises the resolved answer.
REMOTE_CONFIG_MAX_VALUE_BYTES = env.int("REMOTE_CONFIG_MAX_VALUE_BYTES", default=65_536)
REMOTE_CONFIG_MAX_RELEASE_BYTES = env.int("REMOTE_CONFIG_MAX_RELEASE_BYTES", default=1_048_576)
_refuse_below(
    "REMOTE_CONFIG_MAX_VALUE_BYTES",
    REMOTE_CONFIG_MAX_VALUE_BYTES,
    1,
    "every remote-config value would be refused (the shortest JSON, 0, is 1 byte)",
)
_refuse_below(
    "REMOTE_CONFIG_MAX_RELEASE_BYTES",
    REMOTE_CONFIG_MAX_RELEASE_BYTES,
    1,
    "no remote-config key could be saved, nor any release published",
)

# --- Celery --------------------------------------------------------------------------------
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL or "memory://")
CELERY_RESULT_BACKEND = env.str("CELERY_RESULT_BACKEND", default=REDIS_URL or "cache+memory://")
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=TESTING or not REDIS_URL)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_DEFAULT_QUEUE = env.str("CELERY_TASK_DEFAULT_QUEUE", default="gamingpanel")
# Seconds before Redis hands an unacknowledged task (its worker died) to another worker.
# The sweep that hands them over runs every interval × throttle seconds (kombu's defaults: 10, 10)
# and skips a round while another process holds its mutex (expiring after 300 s).
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT_SECONDS", default=300),
    "unacked_restore_interval": env.int("CELERY_UNACKED_RESTORE_INTERVAL_SECONDS", default=10),
    "unacked_restore_throttle": env.int("CELERY_UNACKED_RESTORE_THROTTLE", default=10),
    "unacked_mutex_expire": env.int("CELERY_UNACKED_MUTEX_EXPIRE_SECONDS", default=300),
    "global_keyprefix": f"{CACHE_KEY_PREFIX}:",
}
# The longest wait of a task's retries (autoretry's retry_backoff_max). A retry is a message due
# later that a worker takes at once and holds, unacknowledged, until it is due: held past the
# visibility timeout it is handed to another worker as well and runs twice.
TASK_RETRY_BACKOFF_MAX_SECONDS = CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"] * 4 // 5
# At most 0 every task still running (or a retry waiting) is handed to another worker at the next
# restore sweep: tasks run twice. At 1 the retry cap above is 0: Celery's waits are
# min(cap, 2 × 2^n) (jittered), so every retry would run at once, a payment task's 8 retries
# spent back to back within moments of an outage. 2, the smallest that works, caps them at 1 s
# (tests/payments/test_worker_crash.py uses it, for a fast redelivery); production wants
# minutes (300).
_refuse_below(
    "CELERY_VISIBILITY_TIMEOUT_SECONDS",
    CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"],
    2,
    "task retries wait at most TASK_RETRY_BACKOFF_MAX_SECONDS, four fifths of it rounded down, "
    "which below 2 is 0: every retry would run at once, a task's retries all spent back to "
    "back",
)
CELERY_RESULT_BACKEND_TRANSPORT_OPTIONS = {
    "global_keyprefix": f"{CACHE_KEY_PREFIX}:",
    # Celery's default (20 reconnects a second apart) held a web request ~19 s when Redis was
    # down, then left the process's result consumer broken for good.
    "retry_policy": {"max_retries": 1, "interval_start": 0, "interval_step": 0.2},
}
# An enqueue from a web request never waits long on a broker that is down or hung: connects and
# commands of at most 0.4 / 0.5 s, one retry (a pooled connection may be stale after a Redis
# restart), so about a second in the worst case. What was not queued is found again by the
# payments sweeper (the notification or callback row is committed first).
CELERY_BROKER_CONNECTION_TIMEOUT = env.float("CELERY_BROKER_CONNECTION_TIMEOUT", default=0.4)
CELERY_BROKER_TRANSPORT_OPTIONS["socket_connect_timeout"] = CELERY_BROKER_CONNECTION_TIMEOUT
CELERY_BROKER_TRANSPORT_OPTIONS["socket_timeout"] = env.float(
    "CELERY_BROKER_SOCKET_TIMEOUT", default=0.5
)
# Workers (gamingpanel/celery.py, at worker start) wait longer on a broker command.
CELERY_WORKER_BROKER_SOCKET_TIMEOUT = env.float("CELERY_WORKER_BROKER_SOCKET_TIMEOUT", default=10.0)
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.1,
    "interval_max": 0.1,
}
CELERY_REDIS_SOCKET_CONNECT_TIMEOUT = CELERY_BROKER_CONNECTION_TIMEOUT
CELERY_TIMEZONE = "UTC"
# Cloud-save Idempotency-Key receipts are forgotten after this many days (apps.cloudsave).
CLOUDSAVE_RECEIPT_DAYS = env.int("CLOUDSAVE_RECEIPT_DAYS", default=7)
# At most 0 the daily prune forgets every receipt, however recent: a retry of a write that
# succeeded just before it is judged as a new write (refused on its now stale If-Match).
if CLOUDSAVE_RECEIPT_DAYS < 1:
    raise ImproperlyConfigured(
        f"CLOUDSAVE_RECEIPT_DAYS must be at least 1; it is {CLOUDSAVE_RECEIPT_DAYS}."
    )
# Deleted cloud-save documents (tombstones) and their kept versions are pruned after this many days.
CLOUDSAVE_TOMBSTONE_DAYS = env.int("CLOUDSAVE_TOMBSTONE_DAYS", default=30)
if CLOUDSAVE_TOMBSTONE_DAYS < 1:
    raise ImproperlyConfigured("CLOUDSAVE_TOMBSTONE_DAYS must be at least 1.")
CELERY_BEAT_SCHEDULE: dict[str, dict] = {
    "aggregate-analytics": {
        "task": "apps.analytics.tasks.aggregate_recent_days",
        "schedule": 300.0,
    },
    # The daily and hourly housekeeping runs at fixed times (crontab, UTC), not "a day after the
    # last run": beat's restart (a deploy recreates its container) counts an interval from the
    # start, so restarted more often than the interval it would never run them.
    "prune-analytics": {
        "task": "apps.analytics.tasks.prune_raw_events",
        "schedule": crontab(hour=3, minute=10),
    },
    "prune-sessions": {
        "task": "apps.accounts.tasks.prune_sessions",
        "schedule": crontab(hour=3, minute=20),
    },
    "schedule-event-repeats": {
        "task": "apps.events.tasks.schedule_event_repeats",
        "schedule": crontab(minute=5),
    },
    "sweep-payments": {
        "task": "apps.payments.tasks.sweep_payments",
        "schedule": PAYMENTS_SWEEP_INTERVAL_SECONDS,
    },
    # Checkouts unpaid CHECKOUT_EXPIRY_SECONDS after their purchase: expired, stock and slots back.
    "expire-checkouts": {
        "task": "apps.payments.tasks.expire_checkouts",
        "schedule": PAYMENTS_SWEEP_INTERVAL_SECONDS,
    },
    "prune-save-receipts": {
        "task": "apps.cloudsave.tasks.prune_receipts",
        "schedule": crontab(hour=3, minute=30),
    },
    "prune-save-tombstones": {
        "task": "apps.cloudsave.tasks.prune_tombstones",
        "schedule": crontab(hour=3, minute=40),
    },
    # Hourly: servers silent for MULTIPLAYER_SERVER_RETENTION_HOURS (one can register many ids).
    "prune-game-servers": {
        "task": "apps.multiplayer.tasks.prune_servers",
        "schedule": crontab(minute=50),
    },
    # Leaderboard periods end on time (within this interval); their payouts follow in a task.
    "close-leaderboard-periods": {
        "task": "apps.leaderboards.tasks.close_due_periods",
        "schedule": 30.0,
    },
    # A closed period's payouts that never ran to the end (a lost or exhausted task) run again.
    "pay-unpaid-leaderboard-periods": {
        "task": "apps.leaderboards.tasks.pay_unpaid_periods",
        "schedule": 600.0,
    },
    # A timed ban that ran out: its ended sessions' tokens say log in again within a minute.
    "lift-lapsed-bans": {"task": "apps.accounts.tasks.lift_lapsed_bans", "schedule": 60.0},
    # A timed ban's end puts the player's entries back in the rank index within a minute.
    "restore-lapsed-leaderboard-bans": {
        "task": "apps.leaderboards.tasks.restore_lapsed_bans",
        "schedule": 60.0,
    },
    # Rank indexes whose drop failed with Redis, or whose count shows them wrong, are dropped.
    "repair-leaderboard-rank-indexes": {
        "task": "apps.leaderboards.tasks.repair_rank_indexes",
        "schedule": 60.0,
    },
    # Submissions past LEADERBOARD_SUBMISSION_RETENTION_DAYS (their ids are forgotten).
    "prune-leaderboard-submissions": {
        "task": "apps.leaderboards.tasks.prune_submissions",
        "schedule": crontab(hour=4, minute=0),
    },
    # Segment actions stopped partway (a slice never queued, failed in an outage) run again.
    "resume-segment-actions": {"task": "apps.panel.tasks.resume_segment_actions", "schedule": 60.0},
    # Member lists of segment actions done more than SEGMENT_MEMBERS_KEPT_DAYS ago.
    "prune-segment-members": {
        "task": "apps.panel.tasks.prune_done_segment_members",
        "schedule": crontab(hour=3, minute=55),
    },
}

# A segment action runs a slice of this many seconds per task, then queues the next slice:
# every task ends well inside the visibility timeout above. The slice ends after the chunk (500
# players) that used it up, so it may take at most half the timeout, the other half left for
# that chunk: a task still running at the timeout is handed to a second worker, and every
# timeout again. 0: one chunk per task. The default is 60, or half a shorter timeout's.
_SEGMENT_SLICE_MAX = CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"] // 2
SEGMENT_RUN_SLICE_SECONDS = env.int(
    "SEGMENT_RUN_SLICE_SECONDS", default=min(60, _SEGMENT_SLICE_MAX)
)
if not 0 <= SEGMENT_RUN_SLICE_SECONDS <= _SEGMENT_SLICE_MAX:
    raise ImproperlyConfigured(
        f"SEGMENT_RUN_SLICE_SECONDS must be 0 to {_SEGMENT_SLICE_MAX}, half "
        "CELERY_VISIBILITY_TIMEOUT_SECONDS; it is "
        f"{SEGMENT_RUN_SLICE_SECONDS}: a segment task runs its slice and then the chunk under "
        "way, and one still running at the visibility timeout is handed to a second worker "
        "(0: one chunk per task)."
    )
# A segment action's member list (who it was for, one row per player) is deleted this many days
# after the action is done (prune-segment-members, daily); its counts and refusals stay on it.
SEGMENT_MEMBERS_KEPT_DAYS = env.int("SEGMENT_MEMBERS_KEPT_DAYS", default=30)
if SEGMENT_MEMBERS_KEPT_DAYS < 1:
    raise ImproperlyConfigured("SEGMENT_MEMBERS_KEPT_DAYS must be at least 1.")

# --- Monitoring (docs/guide/monitoring.md, docs/operations/) -------------------------------
# GET /metrics answers only `Authorization: Bearer <METRICS_TOKEN>`; empty: no endpoint (404).
# Several processes: set PROMETHEUS_MULTIPROC_DIR (an empty directory) in their environment.
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
ACCESS_LOG = env.bool("ACCESS_LOG", default=True)  # one JSON line per request
# Read by prometheus-client itself at import (gamingpanel/metrics.py); here for the record.
PROMETHEUS_MULTIPROC_DIR = env.str("PROMETHEUS_MULTIPROC_DIR", default="")
# Opt-in, off when empty: errors to Sentry, traces over OTLP/HTTP (gamingpanel/observability.py).
SENTRY_DSN = env.str("SENTRY_DSN", default="")
SENTRY_ENVIRONMENT = env.str("SENTRY_ENVIRONMENT", default=DEPLOYMENT_NAME)
SENTRY_TRACES_SAMPLE_RATE = env.float("SENTRY_TRACES_SAMPLE_RATE", default=0.0)
OTEL_EXPORTER_OTLP_ENDPOINT = env.str("OTEL_EXPORTER_OTLP_ENDPOINT", default="")
OTEL_SERVICE_NAME = env.str("OTEL_SERVICE_NAME", default="gamingpanel")
OTEL_TRACES_SAMPLE_RATE = env.float("OTEL_TRACES_SAMPLE_RATE", default=1.0)
# Shares of requests traced, 0 (none) to 1 (all). Outside, Sentry drops every trace (a warning in
# its own log, so tracing is silently off) and OpenTelemetry's sampler raises a ValueError when
# a process starts its tracing (gamingpanel.observability).
for _name, _rate in (
    ("SENTRY_TRACES_SAMPLE_RATE", SENTRY_TRACES_SAMPLE_RATE),
    ("OTEL_TRACES_SAMPLE_RATE", OTEL_TRACES_SAMPLE_RATE),
):
    if not 0 <= _rate <= 1:
        raise ImproperlyConfigured(
            f"{_name} must be 0 to 1 (the share of requests traced); it is {_rate}: Sentry "
            "would drop every trace, OpenTelemetry refuse to start tracing."
        )

# --- CORS: browser builds (WebGL, HTML5) call /api/ from the origins each game lists --------
# The game's `cors_allowed_origins` (admin) decide (apps/accounts/cors.py); CORS_ALLOWED_ORIGINS
# adds origins allowed for every game. No cookies: the API authenticates by header only.
CORS_URLS_REGEX = r"^/api/"
CORS_ALLOWED_ORIGINS = env.list("CORS_ALLOWED_ORIGINS", default=[])
CORS_ALLOW_CREDENTIALS = False
# Every request header a game client sends and every answer header it reads: a browser asks
# (preflight) before sending any other header, and shows a page no other answer header.
CORS_ALLOW_HEADERS = (
    "accept",
    "authorization",
    "content-type",
    "x-game-key",
    "idempotency-key",
    "x-request-id",
    "if-match",  # cloud save writes
    "if-none-match",  # cloud save creates and conditional reads, remote config
    "x-client-version",  # remote config
    "x-client-platform",
)
CORS_EXPOSE_HEADERS = (
    "x-request-id",
    "ratelimit-limit",
    "ratelimit-remaining",
    "ratelimit-reset",
    "retry-after",
    "etag",  # cloud save versions, remote config
    "link",  # paged lists: the next page
    "x-next-cursor",
)
CORS_PREFLIGHT_MAX_AGE = 3600

# --- Logging: structured JSON lines, secrets scrubbed --------------------------------------
LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
# Django's error page (DEBUG) shows the settings: a password in a URL setting is scrubbed too.
DEFAULT_EXCEPTION_REPORTER_FILTER = "gamingpanel.security.SecretsReporterFilter"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "request_id": {"()": "gamingpanel.logging.RequestIdFilter"},
        "scrub": {"()": "gamingpanel.logging.ScrubSecretsFilter"},
    },
    "formatters": {"json": {"()": "gamingpanel.logging.JsonFormatter"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json",
            "filters": ["request_id", "scrub"],
        }
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        # Django's loggers (django.request, django.security…) without Django's own handlers,
        # which disable_existing_loggers=False would keep and which print each request warning
        # a second time, plain, with its path as it came: their lines reach only the root's
        # scrubbed handler (and whatever else listens at the root, as pytest's caplog does).
        "django": {"handlers": [], "level": LOG_LEVEL, "propagate": True},
        "django.db.backends": {"level": "WARNING"},
        # runserver's access lines ("GET /path?query" …): a checkout page's token in the path
        # and a query string's token come out redacted (gamingpanel.logging.scrub).
        "django.server": {"handlers": ["console"], "level": "INFO", "propagate": False},
    },
}


DEMO_CLIENT_KEY = "demo-client-key"
DEMO_SERVER_KEY = "demo-server-key"


# Every example secret in .env.example says it is one ("change-me-…", "REPLACE-with-…"):
# with DEBUG off a secret holding either word (any case) stops start-up.
EXAMPLE_SECRET_MARKERS = ("change-me", "replace")


def is_example_secret(value: str) -> bool:
    return any(marker in value.lower() for marker in EXAMPLE_SECRET_MARKERS)


def check_production() -> None:
    """Refuse to run in production with a value meant only for a laptop."""
    if DEBUG or TESTING:
        return
    problems = []
    if SECRET_KEY == LOCAL_SECRET_KEY or len(SECRET_KEY) < 32:
        problems.append("DJANGO_SECRET_KEY is the local default or shorter than 32 characters")
    if not TOKEN_SIGNING_KEY_GIVEN or TOKEN_SIGNING_KEY == SECRET_KEY:
        # Its default, DJANGO_SECRET_KEY, would tie players' tokens to the operators' sessions:
        # rotating either would rotate both, and one leaked would be both leaked.
        problems.append(
            "TOKEN_SIGNING_KEY is required: a key of its own, not DJANGO_SECRET_KEY "
            "(50 random characters, as .env.example says)"
        )
    elif len(TOKEN_SIGNING_KEY) < 32:
        problems.append("TOKEN_SIGNING_KEY is shorter than 32 characters")
    secrets = {
        "DJANGO_SECRET_KEY": [SECRET_KEY],
        # These two default to DJANGO_SECRET_KEY: named only when set to something else.
        "TOKEN_SIGNING_KEY": [TOKEN_SIGNING_KEY] if TOKEN_SIGNING_KEY != SECRET_KEY else [],
        "SANDBOX_PAYMENT_SECRET": (
            [SANDBOX_PAYMENT_SECRET] if SANDBOX_PAYMENT_SECRET != SECRET_KEY else []
        ),
        "TOKEN_SIGNING_KEY_FALLBACKS": TOKEN_SIGNING_KEY_FALLBACKS,
        "FIELD_ENCRYPTION_KEYS": FIELD_ENCRYPTION_KEYS,
        "TOKEN_ENCRYPTION_KEYS": TOKEN_ENCRYPTION_KEYS,
        "METRICS_TOKEN": [METRICS_TOKEN],
    }
    examples = [name for name, values in secrets.items() if any(map(is_example_secret, values))]
    if examples:
        problems.append(
            f"{', '.join(examples)}: .env.example's example values are not secrets; put real "
            "ones in (.env.example says what each is, or the command that makes it)"
        )
    if not DATABASE_URL_GIVEN or not IS_POSTGRES:
        # The SQLite default would answer health checks while losing data to a container's
        # recreation, and would never be shared by the web, worker and beat containers.
        problems.append("DATABASE_URL is required: the PostgreSQL database (postgres://…)")
    if not (PUBLIC_BASE_URL_GIVEN and PUBLIC_BASE_URL):
        # The local default (http://127.0.0.1:8000) would send buyers' checkout links and the
        # sandbox's callbacks to the server's own loopback address.
        problems.append("PUBLIC_BASE_URL is required: the panel's public https:// URL")
    if not (ALLOWED_HOSTS_GIVEN and ALLOWED_HOSTS):
        # The local default would answer every request to the real host name with a 400.
        problems.append("DJANGO_ALLOWED_HOSTS is required: the host names the panel answers to")
    elif "*" in ALLOWED_HOSTS:
        problems.append("DJANGO_ALLOWED_HOSTS must list host names, not '*'")
    if LOCAL_FIELD_KEY in FIELD_ENCRYPTION_KEYS:
        problems.append("FIELD_ENCRYPTION_KEYS still holds the local key")
    if any(key.endswith(LOCAL_TOKEN_KEY) for key in TOKEN_ENCRYPTION_KEYS):
        problems.append("TOKEN_ENCRYPTION_KEYS still holds the local key")
    if SECURE_PROXY_SSL_HEADER and not RATELIMIT_IP_META_KEY:
        # Behind a proxy every request comes from the proxy's address: the per-address login
        # budget and the sign-in lockout would be shared by every player and operator.
        problems.append(
            "DJANGO_SECURE_PROXY_SSL_HEADER trusts a proxy, so RATELIMIT_IP_META_KEY must name "
            "the header holding the client's address (HTTP_X_REAL_IP behind deploy/Caddyfile); "
            "with no proxy in front, set DJANGO_SECURE_PROXY_SSL_HEADER empty"
        )
    if not REDIS_URL:
        # Rate limits, revocations and replay marks live in the shared cache: per-process memory
        # would let every web process count and forget on its own.
        problems.append("REDIS_URL is required: rate limits and revocations need a shared cache")
    if problems:
        raise ImproperlyConfigured("Unsafe production settings: " + "; ".join(problems))


# Last, so that every beat entry gets it wherever above it was added: each one's message expires
# when the next is due (unless the entry sets its own `expires`), so a worker outage leaves one
# run of each pending instead of one per interval (gamingpanel/beat.py).
expire_at_next_run(CELERY_BEAT_SCHEDULE)
check_production()
