"""Hostile bodies get a clear 4xx on every route of the OpenAPI schema, never a 5xx: JSON nested
too deep to parse is `malformed_json`, a body over DATA_UPLOAD_MAX_MEMORY_SIZE is
`payload_too_large`, with or without a credential."""

from __future__ import annotations

import pytest
from django.conf import settings
from rest_framework.test import APIClient

from apps.accounts.models import Game
from apps.devdocs.postman import openapi_schema
from apps.platforms.models import PlatformCredential

PROBLEM = "application/problem+json"
SCHEMA = openapi_schema()
BODY_ROUTES = sorted(
    (method, path)
    for path, item in SCHEMA["paths"].items()
    for method, operation in item.items()
    if method in {"post", "put", "patch"}
)
# Deeper than any recursion limit: the JSON decoder gives up with a RecursionError.
DEEP = b"[" * 100_000 + b"]" * 100_000


def _oversized() -> bytes:
    padding = b" " * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)
    return b'{"padding": "x"}' + padding


def _schemes(method: str, path: str) -> set[str]:
    return {name for need in SCHEMA["paths"][path][method].get("security") or [] for name in need}


@pytest.fixture
def credentials(game: Game, server_key: str) -> dict[str, str]:
    """Headers that pass each security scheme, so the body is what gets refused."""
    PlatformCredential.objects.create(game=game, platform="dev", enabled=True)
    login = APIClient().post(
        "/api/v1/auth/third-party/login",
        {"platform": "dev", "credentials": {"user_id": "alice"}},
        HTTP_X_GAME_KEY=game.client_key,
    )
    assert login.status_code == 200, login.content
    return {
        "playerToken": f"Bearer {login.json()['access_token']}",
        "serverKey": server_key,
        "gameKey": game.client_key,
    }


WEBHOOK_BAD_BODY = {
    "/api/v1/payments/webhooks/apple": "invalid_notification",
    "/api/v1/payments/webhooks/google-play": "invalid_notification",
    "/api/v1/payments/webhooks/stripe": "invalid_signature",
    "/api/v1/payments/webhooks/sandbox": "invalid_signature",
}
HEADER_OF_SCHEME = {
    "playerToken": "HTTP_AUTHORIZATION",
    "serverKey": "HTTP_X_SERVER_KEY",
    "gameKey": "HTTP_X_GAME_KEY",
}


def _send(method: str, path: str, body: bytes, headers: dict[str, str]) -> object:
    client = APIClient()
    send = getattr(client, method)
    # Purchases want an Idempotency-Key before they read the body; other routes ignore it.
    headers = {"HTTP_IDEMPOTENCY_KEY": "hostile-1", **headers}
    return send(path, data=body, content_type="application/json", **headers)


def _authenticated(method: str, path: str, credentials: dict[str, str]) -> dict[str, str]:
    return {HEADER_OF_SCHEME[name]: credentials[name] for name in _schemes(method, path)}


def test_the_schema_has_body_routes_to_attack():
    assert ("post", "/api/v1/shop/purchase") in BODY_ROUTES
    assert ("post", "/api/v1/payments/webhooks/apple") in BODY_ROUTES
    assert len(BODY_ROUTES) >= 15


@pytest.mark.parametrize(("method", "path"), BODY_ROUTES)
def test_deep_json_is_refused_as_bad_json_never_a_5xx(method, path, credentials):
    response = _send(method, path, DEEP, _authenticated(method, path, credentials))
    assert response.status_code < 500, response.content[:300]
    if "requestBody" not in SCHEMA["paths"][path][method]:
        assert response.status_code == 204  # logout reads no body
        return
    assert response.status_code == 400, response.content[:300]
    assert response["Content-Type"] == PROBLEM
    # Webhooks read their raw bytes (the signature covers them), in the processor's terms.
    assert response.json()["code"] == WEBHOOK_BAD_BODY.get(path, "malformed_json")


@pytest.mark.parametrize(("method", "path"), BODY_ROUTES)
@pytest.mark.parametrize("authenticated", [True, False], ids=["credential", "anonymous"])
def test_an_oversized_body_is_413_payload_too_large(method, path, authenticated, credentials):
    headers = _authenticated(method, path, credentials) if authenticated else {}
    response = _send(method, path, _oversized(), headers)
    assert response.status_code == 413, response.content[:300]
    assert response["Content-Type"] == PROBLEM
    problem = response.json()
    assert problem["code"] == "payload_too_large"
    assert problem["status"] == 413
    assert problem["type"] == "/docs/errors#payload_too_large"


def test_a_body_at_the_limit_is_not_refused_for_its_size(credentials):
    body = b'{"token": "x"}'
    body += b" " * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE - len(body))
    response = _send(
        "post", "/api/v1/auth/validate", body, {"HTTP_X_SERVER_KEY": credentials["serverKey"]}
    )
    assert response.status_code != 413
    assert response.status_code < 500
