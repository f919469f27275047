"""The OpenAPI schema against the code: every route is in it, every operation states its auth
and its errors, and real answers of the demo match what it documents."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.urls import URLPattern, URLResolver, get_resolver, resolve
from django.utils import timezone
from rest_framework.test import APIRequestFactory

from apps.accounts.models import AuthSession, Player
from apps.accounts.services.bans import ban_player
from apps.accounts.services.sessions import open_session, revoke_sessions
from apps.accounts.tokens import issue_access_token
from apps.devdocs.demo_walk import API, SCENARIOS, start_walk
from apps.devdocs.postman import openapi_schema
from apps.devdocs.schema import recorded_examples
from tests.devdocs.openapi_check import SchemaChecker
from tests.devdocs.test_guide import DRF_CODES, codes_in_code_base

NOT_OPERATIONS = {"/api/v1/schema/", "/api/v1/docs/", "/api/v1/redoc/"}
# Operations without a security scheme, and what authenticates them instead.
PUBLIC_OPERATIONS = {
    ("get", "/api/v1/health"): "nothing: a load balancer calls it",
    ("get", "/api/v1/health/live"): "nothing: a container's health check calls it",
    ("post", "/api/v1/auth/refresh"): "the refresh token in the body",
    ("post", "/api/v1/payments/webhooks/stripe"): "the processor's signature",
    ("post", "/api/v1/payments/webhooks/apple"): "Apple's signed notification",
    ("post", "/api/v1/payments/webhooks/google-play"): "the Pub/Sub push",
    ("post", "/api/v1/payments/webhooks/sandbox"): "the sandbox processor's signature",
}
# Drift the owning area must fix in its own app: strict xfails, so the fix turns them into
# failures until the entry is removed here. Keep each reason specific.
KNOWN_DRIFT: dict[str, str] = {}
ROUTE_CONVERTER = re.compile(r"<(?:\w+:)?(\w+)>")
# Backticked words of error descriptions that name a field, a parameter or a value, not a code.
NOT_CODES = {
    "errors",
    "id",
    "type",
    "token",
    "before_id",
    "limit",
    "mode",
    "occurred_at",
    "reason",
    "region",
    "sold_out",
}
PROBLEM = "application/problem+json"

SCHEMA = openapi_schema()
CHECKER = SchemaChecker(SCHEMA)
OPERATIONS = sorted(
    (method, path)
    for path, item in SCHEMA["paths"].items()
    for method in item
    if method in {"get", "post", "put", "patch", "delete"}
)


def _routes(resolver: URLResolver, prefix: str = "/") -> list[tuple[str, object]]:
    found = []
    for pattern in resolver.url_patterns:
        route = ROUTE_CONVERTER.sub(r"{\1}", prefix + str(pattern.pattern))
        if isinstance(pattern, URLResolver):
            found += _routes(pattern, route)
        elif isinstance(pattern, URLPattern):
            found.append((route, pattern.callback))
    return found


def _is_placeholder(operation: dict) -> bool:
    return set(operation["responses"]) == {"501"}


def test_every_api_route_and_method_is_in_the_schema():
    missing = []
    for route, view in _routes(get_resolver()):
        if not route.startswith(API) or route in NOT_OPERATIONS:
            continue
        view_class = getattr(view, "cls", None) or getattr(view, "view_class", None)
        methods = [
            method
            for method in ("get", "post", "put", "patch", "delete")
            if view_class is not None and hasattr(view_class, method)
        ]
        missing += [
            f"{method.upper()} {route}"
            for method in methods
            if method not in SCHEMA["paths"].get(route, {})
        ]

    assert missing == []


def _params(cases: list, ids: list[str]) -> list:
    return [
        pytest.param(*(case if isinstance(case, tuple) else (case,)), id=case_id, marks=marks)
        for case, case_id in zip(cases, ids, strict=True)
        for marks in [
            [pytest.mark.xfail(reason=KNOWN_DRIFT[case_id], strict=True)]
            if case_id in KNOWN_DRIFT
            else []
        ]
    ]


@pytest.mark.parametrize(
    ("method", "path"), _params(OPERATIONS, [f"{m} {p}" for m, p in OPERATIONS])
)
def test_operation_documents_its_auth_success_and_problem_errors(method, path):
    operation = SCHEMA["paths"][path][method]
    if _is_placeholder(operation):
        pytest.skip(f"{method.upper()} {path} is still a 501 placeholder")
    responses = operation["responses"]

    if (method, path) not in PUBLIC_OPERATIONS:
        assert operation.get("security"), "no security scheme: who may call this?"
    assert any(status.startswith("2") for status in responses), "no success response"
    errors = {status: r for status, r in responses.items() if status[0] in "45"}
    if path not in {"/api/v1/health", "/api/v1/health/live"}:  # a status, never a problem
        assert errors, "no error response documented"
        # Every operation reaches PostgreSQL or Redis: out of reach, it answers this 503.
        assert "`service_unavailable`" in errors.get("503", {}).get("description", "")
    for status, response in errors.items():
        assert list(response["content"]) == [PROBLEM], status
        schema = response["content"][PROBLEM]["schema"]
        # A problem, or one with fields of its own after it (a cloud-save 412's `current`).
        assert schema.get("allOf", [schema])[0] == {"$ref": "#/components/schemas/Problem"}


def test_error_descriptions_name_only_codes_the_api_answers():
    known = codes_in_code_base() | DRF_CODES | NOT_CODES
    invented = sorted(
        f"{method} {path} {status}: {word}"
        for path, item in SCHEMA["paths"].items()
        for method, operation in item.items()
        if method in {"get", "post", "put", "patch", "delete"}
        for status, response in operation["responses"].items()
        if status[0] in "45"
        # "(with `field`)" names what a problem carries besides its code
        for word in re.findall(
            r"`([a-z][a-z0-9_]*)`", re.sub(r"\(with [^)]*\)", "", response["description"])
        )
        if word not in known
    )

    assert invented == []


def test_schema_declares_the_three_credentials():
    schemes = SCHEMA["components"]["securitySchemes"]

    assert schemes["playerToken"] == {**schemes["playerToken"], "type": "http", "scheme": "bearer"}
    assert schemes["serverKey"]["name"] == "X-Server-Key" and schemes["serverKey"]["in"] == "header"
    assert schemes["gameKey"]["name"] == "X-Game-Key" and schemes["gameKey"]["in"] == "header"
    login = SCHEMA["paths"]["/api/v1/auth/third-party/login"]["post"]
    assert login["security"] == [{"gameKey": []}]
    assert SCHEMA["paths"]["/api/v1/player/stats"]["get"]["security"] == [{"playerToken": []}]
    validate = SCHEMA["paths"]["/api/v1/multiplayer/validate-token"]["post"]
    assert validate["security"] == [{"serverKey": []}]


def _codes(description: str) -> set[str]:
    return set(re.findall(r"`([a-z][a-z0-9_]*)`", description))


def test_login_and_link_name_their_credentials_refusals_beside_the_platforms():
    """Their own 401 and 403 (the platform refused or did not confirm) replace the ones the
    credential's layer documents, so they must name that layer's codes too."""
    login = SCHEMA["paths"]["/api/v1/auth/third-party/login"]["post"]["responses"]
    link = SCHEMA["paths"]["/api/v1/auth/link"]["post"]["responses"]
    platform_403 = {"not_entitled", "player_banned"}

    assert _codes(login["401"]["description"]) == {"invalid_game_key", "invalid_credentials"}
    assert _codes(login["403"]["description"]) == platform_403
    assert _codes(link["401"]["description"]) == {
        "not_authenticated",
        "token_expired",
        "invalid_token",
        "token_revoked",
        "invalid_server_key",  # a server key sent to a player endpoint (name_refusals)
        "invalid_credentials",
    }
    assert _codes(link["403"]["description"]) == {
        "wrong_credential_kind",
        "permission_missing",
        *platform_403,
    }


ROUTE_PARAMETER = re.compile(r"\{\w+\}")
# Every code an API view's authentication and permission classes answer with.
AUTH_CODES = {
    "not_authenticated",
    "invalid_server_key",
    "invalid_token",
    "token_expired",
    "token_revoked",
    "player_banned",
    "permission_missing",
    "wrong_credential_kind",
}


def _auth_refusal(method: str, path: str, query: str, headers: dict[str, str]) -> tuple | None:
    """What the operation's view answers in DRF's `initial()` (authentication, then the
    permissions, before its handler runs): (status, code), or None when it lets the call in."""
    concrete = ROUTE_PARAMETER.sub("1", path)
    match = resolve(concrete)
    view = match.func.cls(**match.func.initkwargs)
    django_request = getattr(APIRequestFactory(), method)(f"{concrete}{query}", **headers)
    view.setup(django_request, **match.kwargs)
    request = view.initialize_request(django_request, **match.kwargs)
    view.request, view.headers = request, view.default_response_headers
    try:
        view.initial(request, **match.kwargs)
    except Exception as refused:  # noqa: BLE001 - whatever it is, the view answers it
        response = view.handle_exception(refused)
        return response.status_code, response.data["code"]
    return None


@pytest.mark.django_db
def test_every_refusal_of_an_operations_auth_classes_is_named_in_its_schema(
    game, server_key, django_capture_on_commit_callbacks
):
    """An endpoint's own 401 or 403 replaces the schema's generic one: every code its view's
    authentication and permission classes answer with, for any credential a caller may send,
    must still be named under that status."""
    now = timezone.now()
    player = Player.objects.create(game=game, display_name="alice")
    banned = Player.objects.create(game=game, display_name="mallory")
    live = open_session(player=player, platform="dev", now=now)
    ended = open_session(player=player, platform="dev", now=now)
    doomed = open_session(player=banned, platform="dev", now=now)
    with django_capture_on_commit_callbacks(execute=True):
        revoke_sessions(
            sessions=AuthSession.objects.filter(pk=ended.session.pk),
            reason=AuthSession.RevokeReason.LOGOUT,
        )
        ban_player(player=banned, reason="contract test", until=None, actor=None)

    def token(**claims: object) -> str:
        return issue_access_token(
            player_id=player.pk, game_id=game.pk, session_id=live.session.pk, **claims
        ).token

    credentials: dict[str, tuple[str, dict[str, str]]] = {
        "no credential": ("", {}),
        "an unknown server key": ("", {"HTTP_X_SERVER_KEY": "unknown"}),
        "an unknown server key as ?key": ("?key=unknown", {}),
        "the game's server key": ("", {"HTTP_X_SERVER_KEY": server_key}),
        "the game's server key as ?key": (f"?key={server_key}", {}),
        **{
            description: ("", {"HTTP_AUTHORIZATION": f"Bearer {raw_token}"})
            for description, raw_token in {
                "a player's token": live.access_token,
                "a malformed token": "not-a-token",
                "an expired token": token(now=now - timedelta(hours=3)),
                "a token of an ended session": ended.access_token,
                "a banned player's token": doomed.access_token,
                "a token without the player permission": token(permissions=()),
            }.items()
        },
    }

    unnamed, answered = [], set()
    for method, path in OPERATIONS:
        responses = SCHEMA["paths"][path][method]["responses"]
        for description, (query, headers) in credentials.items():
            refusal = _auth_refusal(method, path, query, headers)
            if refusal is None:
                continue
            status, code = refusal
            answered.add(code)
            if f"`{code}`" not in responses.get(str(status), {}).get("description", ""):
                unnamed.append(f"{method.upper()} {path}: {status} `{code}` ({description})")

    assert answered == AUTH_CODES  # every credential above reached the refusal it is for
    assert unnamed == []


def test_config_and_saves_document_their_cache_headers_and_what_a_412_carries():
    config = SCHEMA["paths"]["/api/v1/config"]["get"]
    for status in ("200", "304"):
        assert set(config["responses"][status]["headers"]) >= {"ETag", "Cache-Control", "Vary"}
    queries = {p["name"] for p in config["parameters"] if p["in"] == "query"}
    assert queries == {"client_version", "platform"}

    one = SCHEMA["paths"]["/api/v1/player/saves/{key}"]
    assert "ETag" in one["get"]["responses"]["200"]["headers"]
    assert "ETag" in one["put"]["responses"]["200"]["headers"]
    for method, carried in (("put", "current"), ("delete", "current")):
        stale = one[method]["responses"]["412"]["content"][PROBLEM]["schema"]
        assert stale["allOf"][0] == {"$ref": "#/components/schemas/Problem"}
        assert carried in stale["allOf"][1]["properties"]
    batch = SCHEMA["paths"]["/api/v1/player/saves"]["post"]["responses"]["412"]
    assert "conflicts" in batch["content"][PROBLEM]["schema"]["allOf"][1]["properties"]


def test_nested_serializers_of_different_views_get_different_components():
    names = SCHEMA["components"]["schemas"]

    assert "Output" not in names and "Input" not in names
    login = SCHEMA["paths"]["/api/v1/auth/third-party/login"]["post"]["responses"]["200"]
    ref = login["content"]["application/json"]["schema"]["$ref"]
    assert set(names[ref.rsplit("/", 1)[1]]["properties"]) >= {"access_token", "player"}


# --- real answers of the demo, validated against the schema --------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("scenario", _params(list(SCENARIOS), list(SCENARIOS)))
def test_real_answers_match_the_schema(scenario):
    call_command("seed_demo", quiet=True)
    demo = start_walk(f"contract-{scenario}")

    SCENARIOS[scenario](demo)

    mismatches = []
    for method, path, response in demo.seen:
        operation = CHECKER.operation(method, path)
        if _is_placeholder(operation):
            continue
        body = response.json() if response.content else None
        mismatches += CHECKER.problems(
            method, path, response.status_code, response.get("Content-Type", ""), body
        )
    assert not mismatches, "\n".join(mismatches)


def test_recorded_response_examples_still_match_the_schema():
    examples = recorded_examples()

    assert len(examples) >= 15, "run `manage.py record_api_examples`"
    mismatches = []
    for operation, by_status in examples.items():
        method, path = operation.split(" ", 1)
        assert method in SCHEMA["paths"].get(path, {}), f"{operation} is no longer in the schema"
        for status, body in by_status.items():
            mismatches += CHECKER.problems(method, path, int(status), "application/json", body)
    assert not mismatches, "\n".join(mismatches)


def test_schema_carries_the_recorded_examples():
    stats = SCHEMA["paths"]["/api/v1/player/stats"]["get"]["responses"]["200"]

    example = stats["content"]["application/json"]["examples"]["demo"]["value"]
    assert {"player_id", "level", "xp", "stats"} <= set(example)
