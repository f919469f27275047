"""An operation's documented errors against what its view answers: every code named under a
status answers that status, and what the cheap wrong requests below draw from an operation's
view is named under the status it came with (a 400 the view documents itself replaces the
schema's generic one, so it must name the foundation's `malformed_json` too)."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlencode

import pytest
from django.conf import settings
from django.urls import resolve
from rest_framework.test import APIClient

from apps.accounts.models import Game, Player
from apps.cloudsave.models import SaveKey, SaveSettings
from apps.devdocs.postman import openapi_schema
from apps.leaderboards.models import Board
from apps.platforms.models import PlatformCredential
from gamingpanel.shortcache import clear_every_cache
from tests.foundation.test_problem_codes_documented import answered_codes, expected_statuses
from tests.shop.conftest import access_token, bearer

SCHEMA = openapi_schema()
CODE = re.compile(r"`([a-z][a-z0-9_]*)`")
METHODS = ("get", "post", "put", "patch", "delete")
# The apps whose operations are probed here (their views' own errors, read in their api.py).
PROBED_APPS = (
    "apps.battlepass.",
    "apps.cloudsave.",
    "apps.inventory.",
    "apps.leaderboards.",
    "apps.login.",
    "apps.remoteconfig.",
    "apps.stats.",
)


def _named(description: str) -> set[str]:
    """The codes a description names ("(with `field`)" names a member, not a code)."""
    return set(CODE.findall(re.sub(r"\(with [^)]*\)", "", description)))


def _view_module(path: str) -> str:
    view = resolve(re.sub(r"\{\w+\}", "1", path)).func
    return str(getattr(view, "cls").__module__)  # noqa: B009 - DRF's as_view() sets it


SAVES = "/api/v1/player/saves"
BIG = str(settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)
PROBED = sorted(
    (method, path)
    for path, item in SCHEMA["paths"].items()
    for method in item
    if method in METHODS and _view_module(path).startswith(PROBED_APPS)
)


def test_every_code_named_under_a_status_answers_that_status():
    misfiled = sorted(
        f"{method.upper()} {path} {status}: `{code}` answers {sorted(statuses)}"
        for path, item in SCHEMA["paths"].items()
        for method, operation in item.items()
        if method in METHODS
        for status, response in operation["responses"].items()
        if status[0] in "45"
        for code in _named(response["description"])
        if code in answered_codes()
        for statuses in [expected_statuses(code)]
        if statuses and int(status) not in statuses
    )

    assert misfiled == []


# --- wrong requests, with the caller's right credential -------------------------------------


def _example_body(operation: dict[str, Any]) -> Any:
    media = operation.get("requestBody", {}).get("content", {}).get("application/json", {})
    return media.get("examples", {}).get("demo", {}).get("value")


def _probes(operation: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """(what it is, the request's parts): a body that is no JSON, one that is no object, the demo
    body with each of its fields in turn made a string no field takes, each header and query
    parameter sent empty and as a value none takes, and the request with none of them."""
    probes: list[tuple[str, dict[str, Any]]] = [("nothing sent", {})]
    if "requestBody" in operation:
        probes += [
            ("a body that is no JSON", {"raw": "{"}),
            ("a body that is no object", {"body": []}),
            ("an empty object", {"body": {}}),
            # Refused by its declared length, before anything reads it (gamingpanel.middleware).
            ("a body declared over the limit", {"body": {}, "meta": {"CONTENT_LENGTH": BIG}}),
        ]
        example = _example_body(operation)
        if isinstance(example, dict):
            probes.append(("the demo body", {"body": example}))
            probes += [
                (f"the demo body, `{name}` wrong", {"body": {**example, name: "?!"}})
                for name in example
            ]
    for parameter in operation.get("parameters", []):
        if parameter["in"] not in {"query", "header"}:
            continue
        for value in ("", "?!"):
            probes.append(
                (
                    f"{parameter['in']} {parameter['name']}={value!r}",
                    {parameter["in"]: {parameter["name"]: value}},
                )
            )
    return probes


def _send(
    client: APIClient, method: str, path: str, parts: dict[str, Any], credential: dict[str, str]
) -> Any:
    headers = {
        f"HTTP_{name.upper().replace('-', '_')}": value
        for name, value in parts.get("header", {}).items()
    }
    headers |= credential | parts.get("meta", {})
    if query := parts.get("query"):
        path = f"{path}?{urlencode(query)}"
    call = getattr(client, method)
    if "raw" in parts:
        return call(path, parts["raw"], content_type="application/json", **headers)
    if "body" in parts:
        return call(path, parts["body"], format="json", **headers)
    return call(path, **headers)


@pytest.mark.django_db
@pytest.mark.parametrize(("method", "path"), PROBED, ids=[f"{m} {p}" for m, p in PROBED])
def test_what_wrong_requests_draw_from_an_operation_is_named_in_its_schema(
    method, path, game: Game, player: Player, server_key: str
):
    # What the probes name exists, so that they reach past the lookups into the view's checks.
    PlatformCredential.objects.create(game=game, platform="dev", enabled=True)
    Board.objects.create(game=game, slug="weekly", name="Weekly", allow_client_submissions=True)
    operation = SCHEMA["paths"][path][method]
    schemes = {name for requirement in operation.get("security", []) for name in requirement}
    credential = (
        {"HTTP_AUTHORIZATION": f"Bearer {access_token(player)}"}
        if "playerToken" in schemes
        else {"HTTP_X_SERVER_KEY": server_key}
        if "serverKey" in schemes
        else {"HTTP_X_GAME_KEY": game.client_key}
        if "gameKey" in schemes
        else {}
    )
    concrete = (
        path.replace("{key}", "k1")
        .replace("{player_id}", str(player.pk))
        .replace("{slug}", "weekly")
        .replace("{number}", "1")
    )

    unnamed = []
    for probe, parts in _probes(operation):
        response = _send(APIClient(), method, concrete, parts, credential)
        if response.status_code < 400:
            continue
        code = response.json()["code"]
        documented = operation["responses"].get(str(response.status_code), {})
        if code not in _named(documented.get("description", "")):
            unnamed.append(f"{probe}: {response.status_code} `{code}`")

    assert unnamed == []


# --- codes an operation's errors once named and its view never answers ------------------------


def _codes_under(method: str, path: str, status: int) -> set[str]:
    responses = SCHEMA["paths"][path][method]["responses"]
    return _named(responses.get(str(status), {}).get("description", ""))


@pytest.mark.django_db
def test_a_save_batch_reads_no_precondition_header_and_no_key_from_its_path(
    player: Player, server_key: str
):
    """A batch's keys and versions are in its body: a key the body's rules refuse is a
    `validation_error`, and If-Match or If-None-Match headers are not read at all."""
    alice = bearer(access_token(player))
    server = APIClient(HTTP_X_SERVER_KEY=server_key)
    headers: dict[str, Any] = {"HTTP_IF_MATCH": "not a version", "HTTP_IF_NONE_MATCH": "nor this"}
    writes = {"writes": [{"key": "slot1", "value": 1}]}
    bad_key = {"writes": [{"key": "..", "value": 1}]}

    taken = alice.post(SAVES, writes, format="json", **headers)
    server_taken = server.post(
        f"/api/v1/saves/players/{player.pk}", {"writes": [{"key": "slot2", "value": 1}]},
        format="json", **headers,
    )  # fmt: skip
    refused = alice.post(SAVES, bad_key, format="json")

    assert taken.status_code == 200 and server_taken.status_code == 200
    assert (refused.status_code, refused.json()["code"]) == (400, "validation_error")
    for path in ("/api/v1/player/saves", "/api/v1/saves/players/{player_id}"):
        named = _codes_under("post", path, 400)
        assert {"validation_error", "malformed_json", "idempotency_key_required"} <= named
        assert not {"invalid_save_key", "invalid_precondition"} & named, path


@pytest.mark.django_db
def test_a_save_delete_reads_no_body(player: Player, server_key: str):
    alice = bearer(access_token(player))
    server = APIClient(HTTP_X_SERVER_KEY=server_key)
    assert (
        alice.put(f"{SAVES}/a", {"value": 1}, format="json", HTTP_IF_NONE_MATCH="*").status_code
        == 201
    )
    assert (
        alice.put(f"{SAVES}/b", {"value": 1}, format="json", HTTP_IF_NONE_MATCH="*").status_code
        == 201
    )

    mine = alice.delete(f"{SAVES}/a", "{", content_type="application/json", HTTP_IF_MATCH='"1"')
    theirs = server.delete(
        f"/api/v1/saves/players/{player.pk}/b", "{", content_type="application/json",
        HTTP_IF_MATCH='"1"',
    )  # fmt: skip

    assert mine.status_code == 204 and theirs.status_code == 204
    for path in ("/api/v1/player/saves/{key}", "/api/v1/saves/players/{player_id}/{key}"):
        named = _codes_under("delete", path, 400)
        assert {"invalid_save_key", "invalid_precondition", "idempotency_key_required"} <= named
        assert not {"validation_error", "malformed_json"} & named, path


@pytest.mark.django_db
def test_a_game_servers_delete_is_never_refused_a_key(game: Game, player: Player, server_key: str):
    """A server writes every key the game takes, and a key it no longer takes may still be
    deleted: a server's delete never answers `save_key_not_writable`; a player's does only for a
    key servers alone write."""
    server = APIClient(HTTP_X_SERVER_KEY=server_key)
    url = f"/api/v1/saves/players/{player.pk}"
    for key in ("rank", "slot1", "old"):
        created = server.put(f"{url}/{key}", {"value": 1}, format="json", HTTP_IF_NONE_MATCH="*")
        assert created.status_code == 201
    SaveSettings.objects.create(game=game, undeclared_keys=False)
    SaveKey.objects.create(game=game, key="rank", writer=SaveKey.Writer.SERVER)
    SaveKey.objects.create(game=game, key="slot1", writer=SaveKey.Writer.CLIENT)
    clear_every_cache()  # the game's rules are kept for a few seconds

    for key in ("rank", "slot1", "old"):
        assert server.delete(f"{url}/{key}", HTTP_IF_MATCH='"1"').status_code == 204, key
    assert "save_key_not_writable" not in _codes_under(
        "delete", "/api/v1/saves/players/{player_id}/{key}", 403
    )
    player_403 = SCHEMA["paths"]["/api/v1/player/saves/{key}"]["delete"]["responses"]["403"]
    assert "declared keys only" not in player_403["description"]


@pytest.mark.django_db
def test_a_game_servers_score_is_never_refused_as_a_clients(
    game: Game, player: Player, server_key: str
):
    Board.objects.create(game=game, slug="servers-only", name="Servers only")
    server = APIClient(HTTP_X_SERVER_KEY=server_key)

    taken = server.post(
        "/api/v1/leaderboards/servers-only/scores",
        {"submission_id": "s1", "score": 5, "player_id": player.pk},
        format="json",
    )

    assert taken.status_code == 201
    server_403 = _codes_under("post", "/api/v1/leaderboards/{slug}/scores", 403)
    client_403 = _codes_under("post", "/api/v1/leaderboards/{slug}/my-score", 403)
    assert "client_submissions_not_allowed" not in server_403
    assert "client_submissions_not_allowed" in client_403
