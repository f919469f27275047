"""OpenAPI polish that needs no change in the endpoint apps.

- Component names for serializers nested in views (`PurchaseApi.OutputSerializer` →
  `PurchaseApiOutput`), so two views' `OutputSerializer`s never overwrite each other: the schema
  class `NestedNamesAutoSchema` (`DEFAULT_SCHEMA_CLASS`).
- Security schemes for the two authentication classes (bearer access token, `X-Server-Key`) and
  the client key (`X-Game-Key`) that login takes before any token exists.
- Request examples with the demo game's data (from `postman_demo`) and response examples
  recorded from the demo (`manage.py record_api_examples`), where a view has none.
- One `Problem` schema (RFC 9457) that every 4xx/5xx response of the API points at, and the
  errors the foundation itself answers for every endpoint of a kind (bad JSON, rate limit, the
  backing services out of reach), added where the endpoint does not already document that status.
- The refusals of each view's authentication and permission classes (a missing, unknown or
  expired credential, the wrong kind of one, a banned player), derived from those classes and
  named under their status even where the endpoint documents its own 401 or 403.

The hook runs after drf-spectacular built the schema (`POSTPROCESSING_HOOKS` in settings).
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import get_class
from drf_spectacular.utils import Direction
from rest_framework.permissions import AllowAny
from rest_framework.serializers import Serializer

from apps.accounts.authentication import IsGameServer, IsPlayer
from apps.devdocs.postman_demo import example_body
from gamingpanel.renderers import PROBLEM_CONTENT_TYPE

BEARER, SERVER_KEY, GAME_KEY = "playerToken", "serverKey", "gameKey"
SERVER_KEY_QUERY = "serverKeyQuery"  # Photon's custom authentication sends no header of ours
PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}
EXAMPLES_FILE = Path(__file__).resolve().parent / "api_examples.json"

# Login runs before a token exists and names its game by the client key. The view reads the
# header itself (`require_game`), so no authentication class tells drf-spectacular about it.
GAME_KEY_OPERATIONS = {("post", "/api/v1/auth/third-party/login")}
# Webhooks read the raw bytes (no parser: the signature covers them), so they never answer the
# foundation's body errors (`malformed_json`, `unsupported_media_type`); they document their own.
RAW_BODY_PATH_PREFIX = "/api/v1/payments/webhooks/"
# Any operation answers this when PostgreSQL or Redis is out of reach
# (gamingpanel.problems.backing_service_down); the health probes say so in their own body.
BACKING_SERVICE_DOWN = (
    "`service_unavailable`: the panel's database or cache is out of reach; nothing was changed. "
    "Retry after `Retry-After` seconds."
)
HEALTH_PATH_PREFIX = "/api/v1/health"
# What any operation may answer, whatever its credential or body: DRF's content negotiation and
# the exception handler stand in front of every view.
EVERY_OPERATION_ERRORS = [
    (
        406,
        "`not_acceptable`: `Accept` names neither `application/json` nor "
        "`application/problem+json` (nor a wildcard covering them).",
    ),
    (500, "`internal_error`: a bug on the panel's side; quote its request id to support."),
]

GUIDE_LINKS = (
    "\n\nStart with the [integration guide](/docs/): login and tokens, "
    "[every error code](/docs/errors), game servers, rate limits. "
    "The demo game's client key is `demo-client-key`, its server key `demo-server-key`."
)

PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "An RFC 9457 problem. `code` is stable: branch on it, never on `title`.",
    "properties": {
        "type": {"type": "string", "example": "/docs/errors#insufficient_funds"},
        "title": {"type": "string", "example": "Insufficient funds"},
        "status": {"type": "integer", "example": 409},
        "detail": {"type": "string", "example": "Needs 120 gold, has 80."},
        "code": {"type": "string", "example": "insufficient_funds"},
        "errors": {
            "type": "object",
            "additionalProperties": True,
            "description": "Field errors (only with code `validation_error`).",
        },
        "request_id": {"type": "string", "description": "Only on 500: quote it to support."},
    },
    "required": ["type", "title", "status", "detail", "code"],
    "additionalProperties": True,
}

SECURITY_SCHEMES: dict[str, dict[str, Any]] = {
    BEARER: {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWE",
        "description": "The player's access token from `auth/third-party/login` (2 hours).",
    },
    SERVER_KEY: {
        "type": "apiKey",
        "in": "header",
        "name": "X-Server-Key",
        "description": "A game server's secret key. Never ship it in a game client.",
    },
    SERVER_KEY_QUERY: {
        "type": "apiKey",
        "in": "query",
        "name": "key",
        "description": "A game server's secret key as a query parameter, for Photon's custom "
        "authentication only (typed into the Photon dashboard).",
    },
    GAME_KEY: {
        "type": "apiKey",
        "in": "header",
        "name": "X-Game-Key",
        "description": "The game's public client key; only login takes it.",
    },
}

# Marks, until polish_operation removes it, an operation whose view spends the session's budget
# but is never refused over it (PlayerApi.refused_over_budget = False: logout): no bearer 429.
NEVER_OVER_BUDGET = "x-gp-never-over-budget"

# Errors the shared layers answer, by what an operation requires: (status, description).
GENERIC_ERRORS: dict[str, list[tuple[int, str]]] = {
    "body": [
        (400, "`validation_error` (see `errors`) or `malformed_json`."),
        (415, "`unsupported_media_type`: send `Content-Type: application/json`."),
    ],
    # Refused before anything reads the body, webhooks included (gamingpanel/middleware.py).
    "sized body": [(413, "`payload_too_large`: the body is over 2.5 MB.")],
    # A credential's 401 and 403 come from its view's classes (NestedNamesAutoSchema below).
    BEARER: [
        (
            429,
            "`rate_limited`: wait `Retry-After` seconds (1000 requests/hour per login session: "
            "a refresh keeps its budget).",
        ),
    ],
    GAME_KEY: [
        (401, "`invalid_game_key`: X-Game-Key missing or unknown."),
        (429, "`rate_limited`: too many logins from this address; wait `Retry-After`."),
    ],
}


def _view_permissions(auto_schema: Any) -> list[type]:
    return list(getattr(auto_schema.view, "permission_classes", []) or [])


def _only_for(auto_schema: Any, permission: type) -> bool:
    """The view authenticates both kinds (to answer wrong_credential_kind) but admits one."""
    perms = _view_permissions(auto_schema)
    return any(issubclass(p, permission) for p in perms if isinstance(p, type))


class PlayerTokenScheme(OpenApiAuthenticationExtension):
    target_class = "apps.accounts.authentication.PlayerTokenAuthentication"
    name = BEARER

    def get_security_requirement(self, auto_schema: Any) -> dict[str, list] | list[dict[str, list]]:
        if _only_for(auto_schema, IsGameServer):
            return []  # no requirement of this scheme
        return {self.name: []}

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        return SECURITY_SCHEMES[BEARER]


class ServerKeyQueryScheme(OpenApiAuthenticationExtension):
    target_class = "apps.accounts.authentication.ServerKeyQueryAuthentication"
    name = SERVER_KEY_QUERY

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        return SECURITY_SCHEMES[SERVER_KEY_QUERY]


class ServerKeyScheme(OpenApiAuthenticationExtension):
    target_class = "apps.accounts.authentication.ServerKeyAuthentication"
    name = SERVER_KEY

    def get_security_requirement(self, auto_schema: Any) -> dict[str, list] | list[dict[str, list]]:
        if _only_for(auto_schema, IsPlayer):
            return []  # no requirement of this scheme
        return {self.name: []}

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        return SECURITY_SCHEMES[SERVER_KEY]


# (status, the codes, how a description names them)
Refusal = tuple[int, tuple[str, ...], str]

# What a view's authentication class refuses, by its security scheme (the extensions above map
# each class to one). TAKEN: the endpoint takes that credential. WRONG_KIND: the view only reads
# it to refuse it (a player endpoint still authenticates a server key, to answer
# wrong_credential_kind), yet an unknown or expired one is refused as such first.
TAKEN_REFUSALS: dict[str, tuple[Refusal, ...]] = {
    BEARER: (
        (401, ("token_expired",), "`token_expired` (refresh, then retry once)"),
        (
            401,
            ("invalid_token", "token_revoked"),
            "`invalid_token` or `token_revoked` (log in again; a `token_revoked` with "
            '`"account_deleted": true`: the player deleted the account)',
        ),
        (403, ("player_banned",), "`player_banned` (the player is banned)"),
    ),
    SERVER_KEY: ((401, ("invalid_server_key",), "`invalid_server_key` (unknown or revoked)"),),
    SERVER_KEY_QUERY: (
        (401, ("invalid_server_key",), "`invalid_server_key` (unknown or revoked)"),
    ),
}
WRONG_KIND_REFUSALS: dict[str, tuple[Refusal, ...]] = {
    BEARER: (
        (
            401,
            ("invalid_token", "token_expired", "token_revoked"),
            "`invalid_token`, `token_expired` or `token_revoked` (a player token was sent, and "
            "it is not valid)",
        ),
        (403, ("player_banned",), "`player_banned` (a banned player's token was sent)"),
        (
            403,
            ("wrong_credential_kind",),
            "`wrong_credential_kind` (a player token was sent where a server key belongs)",
        ),
    ),
    SERVER_KEY: (
        (
            401,
            ("invalid_server_key",),
            "`invalid_server_key` (a server key was sent, and it is unknown or revoked)",
        ),
        (
            403,
            ("wrong_credential_kind",),
            "`wrong_credential_kind` (a server key was sent where a player token belongs)",
        ),
    ),
}
CREDENTIAL_NOUN = {BEARER: "token", SERVER_KEY: "key", SERVER_KEY_QUERY: "key"}
# What a permission class refuses itself, beyond refusing a call with no credential.
PERMISSION_REFUSALS: dict[type, tuple[Refusal, ...]] = {
    IsPlayer: (
        (
            403,
            ("permission_missing",),
            "`permission_missing` (the token lacks the player permission)",
        ),
    ),
}


def name_refusals(responses: dict[str, Any], refusals: list[Refusal]) -> None:
    """Name each refusal under its status: the endpoint's own 401 or 403 replaces the generic
    one, so what it leaves unnamed is appended to it (as the 503 is in polish_operation)."""
    missing: dict[str, list[str]] = {}
    for status, codes, text in refusals:
        described = responses.get(str(status), {}).get("description", "")
        if any(f"`{code}`" not in described for code in codes):
            texts = missing.setdefault(str(status), [])
            if text not in texts:
                texts.append(text)
    for key, texts in missing.items():
        named = ", ".join(texts) + "."
        response = responses.setdefault(key, {})
        own = response.get("description", "")
        response["description"] = f"{own} Or {named}" if own else named


class NestedNamesAutoSchema(AutoSchema):
    """Names a view's nested serializers after the view: `PurchaseApi.OutputSerializer` becomes
    the component `PurchaseApiOutput`. The house style nests `InputSerializer`/`OutputSerializer` in
    every view; named by class alone they would all be "Output" and overwrite each other.
    Names every refusal of the view's authentication and permission classes in its 401 and 403.
    (`DEFAULT_SCHEMA_CLASS` in settings.)"""

    def get_serializer_name(self, serializer: Serializer, direction: Direction) -> str:
        parts = get_class(serializer).__qualname__.split(".")
        if len(parts) == 1:
            return super().get_serializer_name(serializer, direction)
        return "".join(part.removesuffix("Serializer") for part in parts)

    def get_operation(self, *args: Any, **kwargs: Any) -> dict[str, Any] | None:
        operation = super().get_operation(*args, **kwargs)
        if operation is not None:
            name_refusals(operation.setdefault("responses", {}), self.auth_refusals())
            if getattr(self.view, "refused_over_budget", True) is False:
                operation[NEVER_OVER_BUDGET] = True  # read (and removed) by polish_operation
        return operation

    def auth_refusals(self) -> list[Refusal]:
        """What the view answers before its handler runs (DRF's `initial()`), by its classes."""
        taken: list[str] = []
        wrong_kind: list[str] = []
        for authenticator in self.view.get_authenticators():
            scheme = OpenApiAuthenticationExtension.get_match(authenticator)
            if scheme is None or not isinstance(scheme.name, str):
                continue
            # A scheme with no requirement here is one the view's permission refuses.
            admitted = scheme.get_security_requirement(self)
            (taken if admitted else wrong_kind).append(scheme.name)
        permissions = self.view.get_permissions()
        refusals: list[Refusal] = []
        # DRF's answer when no authenticator recognised a credential and a permission refuses
        # the anonymous call.
        if (
            (taken or wrong_kind)
            and permissions
            and not any(isinstance(permission, AllowAny) for permission in permissions)
        ):
            nouns = " or ".join(
                dict.fromkeys(CREDENTIAL_NOUN.get(name, "credential") for name in taken)
            )
            missing = f"no {nouns}" if nouns else "no credential"
            refusals.append((401, ("not_authenticated",), f"`not_authenticated` ({missing})"))
        for name in taken:
            refusals += TAKEN_REFUSALS.get(name, ())
        for name in wrong_kind:
            refusals += WRONG_KIND_REFUSALS.get(name, ())
        for permission_class, refused in PERMISSION_REFUSALS.items():
            if any(isinstance(permission, permission_class) for permission in permissions):
                refusals += refused
        return refusals


@cache
def recorded_examples() -> dict[str, dict[str, Any]]:
    """Real answers of the demo (`manage.py record_api_examples`), by operation and status."""
    if not EXAMPLES_FILE.exists():
        return {}
    return json.loads(EXAMPLES_FILE.read_text(encoding="utf-8"))


def _problem_content() -> dict[str, Any]:
    return {PROBLEM_CONTENT_TYPE: {"schema": PROBLEM_REF}}


# A cloud-save write's 412 carries what the device must merge with (apps.cloudsave.errors):
# `current` for one key, `conflicts` for a batch.
SAVES_PATH_PARTS = ("/api/v1/player/saves", "/api/v1/saves/")
STALE_PROBLEM_SCHEMA: dict[str, Any] = {
    "allOf": [
        PROBLEM_REF,
        {
            "type": "object",
            "properties": {
                "current": {
                    "description": "One key: the document as it is now; null when there is none.",
                    "allOf": [{"$ref": "#/components/schemas/Document"}],
                    "nullable": True,
                },
                "conflicts": {
                    "type": "array",
                    "description": "A batch: every stale key with its current document.",
                    "items": {
                        "type": "object",
                        "properties": {
                            "key": {"type": "string"},
                            "current": {
                                "allOf": [{"$ref": "#/components/schemas/Document"}],
                                "nullable": True,
                            },
                        },
                        "required": ["key", "current"],
                    },
                },
            },
        },
    ]
}


def _problem_content_for(status: str, path: str) -> dict[str, Any]:
    if status == "412" and path.startswith(SAVES_PATH_PARTS):
        return {PROBLEM_CONTENT_TYPE: {"schema": STALE_PROBLEM_SCHEMA}}
    return _problem_content()


def _schemes_of(operation: dict[str, Any]) -> set[str]:
    return {name for requirement in operation.get("security", []) for name in requirement}


def polish_operation(method: str, path: str, operation: dict[str, Any]) -> None:
    if (method, path) in GAME_KEY_OPERATIONS and not operation.get("security"):
        operation["security"] = [{GAME_KEY: []}]
    responses = operation.setdefault("responses", {})
    never_over_budget = operation.pop(NEVER_OVER_BUDGET, False)
    needs = [
        name
        for name in (BEARER, SERVER_KEY, SERVER_KEY_QUERY, GAME_KEY)
        if name in _schemes_of(operation)
    ]
    if "requestBody" in operation:
        needs.append("sized body")
    if "requestBody" in operation and not path.startswith(RAW_BODY_PATH_PREFIX):
        needs.append("body")
    for need in needs:
        for status, description in GENERIC_ERRORS.get(need, []):
            if need == BEARER and status == 429 and never_over_budget:
                continue
            responses.setdefault(str(status), {"description": description})
    for status, description in EVERY_OPERATION_ERRORS:
        responses.setdefault(str(status), {"description": description})
    if not path.startswith(HEALTH_PATH_PREFIX):
        unavailable = responses.setdefault("503", {"description": BACKING_SERVICE_DOWN})
        if "`service_unavailable`" not in unavailable.get("description", ""):
            unavailable["description"] = f"{unavailable['description']} Or {BACKING_SERVICE_DOWN}"
    body = operation.get("requestBody", {}).get("content", {}).get("application/json")
    example = example_body((method, path.removeprefix("/api/v1/")))
    if body is not None and example is not None and not ("example" in body or "examples" in body):
        body["examples"] = {"demo": {"summary": "The demo game", "value": example}}
    answers = recorded_examples().get(f"{method} {path}", {})
    for status, response in responses.items():
        media = response.get("content", {}).get("application/json")
        if (
            status in answers
            and media is not None
            and not ("example" in media or "examples" in media)
        ):
            media["examples"] = {"demo": {"summary": "The demo game", "value": answers[status]}}
        if status[0] in "45":
            # Whatever the endpoint documented (often only a description), the body is a problem.
            response["content"] = _problem_content_for(status, path)


def polish_schema(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict:
    """drf-spectacular post-processing hook (listed after the default enum hook)."""
    info = result.setdefault("info", {})
    if GUIDE_LINKS not in info.get("description", ""):
        info["description"] = info.get("description", "") + GUIDE_LINKS
    components = result.setdefault("components", {})
    components.setdefault("schemas", {})["Problem"] = PROBLEM_SCHEMA
    schemes = components.setdefault("securitySchemes", {})
    for name, definition in SECURITY_SCHEMES.items():
        schemes.setdefault(name, definition)
    for path, operations in result.get("paths", {}).items():
        for method, operation in operations.items():
            if isinstance(operation, dict) and "responses" in operation:
                polish_operation(method, path, operation)
    return result
