"""Hostile bodies get a clear 4xx on every route of the OpenAPI schema, never a 5xx: JSON nested
too deep to parse is `malformed_json`, a body over DATA_UPLOAD_MAX_MEMORY_SIZE is
`payload_too_large`, with or without a credential."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.conf import settings
from rest_framework.test import APIClient

from apps.accounts.models import Game, Player
from apps.devdocs.postman import openapi_schema
from apps.platforms.models import PlatformCredential
from apps.shop.models import Offer, Purchase

PROBLEM = "application/problem+json"
SCHEMA = openapi_schema()
BODY_ROUTES = sorted(
    (method, path)
    for path, item in SCHEMA["paths"].items()
    for method, operation in item.items()
    if method in {"post", "put", "patch"}
)
# Every operation of the schema, whatever its method: a GET sent a body must not crash either.
ALL_ROUTES = sorted(
    (method, path)
    for path, item in SCHEMA["paths"].items()
    for method in item
    if method in {"get", "post", "put", "patch", "delete"}
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
        "serverKeyQuery": f"key={server_key}",  # Photon's custom authentication
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
    "serverKeyQuery": "QUERY_STRING",  # the test client's query string, as Photon sends the key
    "gameKey": "HTTP_X_GAME_KEY",
}


def _send(
    method: str, path: str, body: bytes, headers: dict[str, str], *, generic: bool = False
) -> Any:
    client = APIClient()
    # Purchases want an Idempotency-Key before they read the body; other routes ignore it.
    headers = {"HTTP_IDEMPOTENCY_KEY": "hostile-1", **headers}
    if generic:  # the body as the request's body whatever the method (get() would make a query)
        return client.generic(
            method.upper(), path, data=body, content_type="application/json", **headers
        )
    send = getattr(client, method)
    return send(path, data=body, content_type="application/json", **headers)


def _authenticated(method: str, path: str, credentials: dict[str, str]) -> dict[str, str]:
    return {HEADER_OF_SCHEME[name]: credentials[name] for name in _schemes(method, path)}


def test_the_schema_has_body_routes_to_attack():
    assert ("post", "/api/v1/shop/purchase") in BODY_ROUTES
    assert ("post", "/api/v1/payments/webhooks/apple") in BODY_ROUTES
    assert len(BODY_ROUTES) >= 15


@pytest.mark.parametrize(("method", "path"), BODY_ROUTES)
def test_deep_json_is_refused_as_bad_json_never_a_5xx(method, path, credentials, concrete_ids):
    url = _concrete(method, path, concrete_ids)
    response = _send(method, url, DEEP, _authenticated(method, path, credentials))
    assert response.status_code < 500, response.content[:300]
    if "requestBody" not in SCHEMA["paths"][path][method]:
        # Logout reads no body (204); nor does Photon's authenticate (its verdict, a 200).
        assert response.status_code == (200 if "photon" in path else 204)
        return
    if _unfilled(path, concrete_ids):  # a made-up id may be looked up before the body is read
        assert response.status_code in {400, 404}, response.content[:300]
        return
    assert response.status_code == 400, response.content[:300]
    assert response["Content-Type"] == PROBLEM
    # Webhooks read their raw bytes (the signature covers them), in the processor's terms.
    assert response.json()["code"] == WEBHOOK_BAD_BODY.get(path, "malformed_json")


@pytest.mark.parametrize(("method", "path"), BODY_ROUTES)
@pytest.mark.parametrize("authenticated", [True, False], ids=["credential", "anonymous"])
def test_an_oversized_body_is_413_payload_too_large(
    method, path, authenticated, credentials, concrete_ids
):
    headers = _authenticated(method, path, credentials) if authenticated else {}
    response = _send(method, _concrete(method, path, concrete_ids), _oversized(), headers)
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


@pytest.fixture
def concrete_ids(credentials: dict[str, str], game: Game) -> dict[str, str]:
    """Path parameters filled with rows that exist, so a route gets past its lookup: the purchase
    is the logged-in player's own. A parameter not named here gets a plausible value of its type
    (the route then answers 404, which is still no 5xx)."""
    player = Player.objects.get(game=game)
    offer = Offer.objects.create(game=game, name="Hostile", price_currency="gold", price_amount=1)
    purchase = Purchase.objects.create(
        game=game, player=player, offer=offer, price_currency="gold", price_amount=1
    )
    return {"purchase_id": str(purchase.pk), "player_id": str(player.pk)}


def _unfilled(path: str, ids: dict[str, str]) -> set[str]:
    return set(re.findall(r"\{(\w+)\}", path)) - set(ids)


def _concrete(method: str, path: str, ids: dict[str, str]) -> str:
    operation = SCHEMA["paths"][path][method]
    types = {
        parameter["name"]: parameter.get("schema", {}).get("type", "string")
        for parameter in operation.get("parameters", [])
        if parameter["in"] == "path"
    }

    def fill(match: re.Match[str]) -> str:
        name = match.group(1)
        return ids.get(name) or ("1" if types.get(name) == "integer" else "x")

    return re.sub(r"\{(\w+)\}", fill, path)


def test_concrete_ids_reach_the_row():
    """The filled path is a real row's, not a 404 the route answers before reading anything."""
    assert ("get", "/api/v1/shop/purchases/{purchase_id}") in ALL_ROUTES
    assert {method for method, _ in ALL_ROUTES} >= {"get", "post"}


def test_a_filled_purchase_path_answers_the_purchase(credentials, concrete_ids):
    path = _concrete("get", "/api/v1/shop/purchases/{purchase_id}", concrete_ids)
    response = _send(
        "get", path, b"", {"HTTP_AUTHORIZATION": credentials["playerToken"]}, generic=True
    )
    assert response.status_code == 200, response.content[:300]
    assert response.json()["purchase_id"] == int(concrete_ids["purchase_id"])


@pytest.mark.parametrize(("method", "path"), ALL_ROUTES)
def test_every_route_answers_deep_json_without_a_5xx(method, path, credentials, concrete_ids):
    url = _concrete(method, path, concrete_ids)
    response = _send(method, url, DEEP, _authenticated(method, path, credentials), generic=True)
    assert response.status_code < 500, response.content[:300]
    if response.status_code >= 400:
        assert response["Content-Type"] == PROBLEM, response.content[:300]


@pytest.mark.parametrize(("method", "path"), ALL_ROUTES)
def test_every_route_answers_an_oversized_body_413(method, path, credentials, concrete_ids):
    url = _concrete(method, path, concrete_ids)
    headers = _authenticated(method, path, credentials)
    response = _send(method, url, _oversized(), headers, generic=True)
    assert response.status_code == 413, response.content[:300]
    assert response["Content-Type"] == PROBLEM
    assert response.json()["code"] == "payload_too_large"
