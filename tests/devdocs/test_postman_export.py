"""`manage.py export_postman`: the committed collection is what the schema generates today."""

from __future__ import annotations

import json
import re

import pytest
from django.core.management import call_command

from apps.devdocs.management.commands.export_postman import (
    COLLECTION_FILE,
    ENVIRONMENT_FILE,
    POSTMAN_DIR,
    exported_files,
)
from apps.devdocs.postman import build_collection, openapi_schema

LAYER_FOLDERS = ["Authentication", "Game Data", "Multiplayer", "Events & Progression", "Analytics"]


@pytest.fixture(scope="module")
def schema() -> dict:
    return openapi_schema()


@pytest.fixture(scope="module")
def collection(schema) -> dict:
    return build_collection(schema)


def _requests(collection: dict) -> dict[tuple[str, str], dict]:
    return {
        (item["request"]["method"].lower(), _schema_path(item["request"]["url"]["path"])): item
        for folder in collection["item"]
        for item in folder["item"]
    }


def _schema_path(segments: list[str]) -> str:
    """Postman's `:name` path variables back to OpenAPI's `{name}`."""
    return "/" + "/".join(f"{{{s[1:]}}}" if s.startswith(":") else s for s in segments)


def test_committed_postman_files_match_the_schema():
    stale = [
        name
        for name, content in exported_files().items()
        if not (POSTMAN_DIR / name).exists()
        or (POSTMAN_DIR / name).read_text(encoding="utf-8") != content
    ]

    assert stale == [], (
        f"{stale} are stale: run `manage.py export_postman` and commit docs/postman/"
    )


def test_command_writes_both_files(tmp_path):
    call_command("export_postman", output_dir=str(tmp_path), stdout=open("/dev/null", "w"))  # noqa: SIM115

    collection = json.loads((tmp_path / COLLECTION_FILE).read_text())
    environment = json.loads((tmp_path / ENVIRONMENT_FILE).read_text())
    assert collection["info"]["schema"].endswith("/v2.1.0/collection.json")
    assert {value["key"]: value["value"] for value in environment["values"]} == {
        "base_url": "http://127.0.0.1:8000",
        "game_key": "demo-client-key",
        "server_key": "demo-server-key",
    }


def test_every_schema_operation_has_one_request(schema, collection):
    operations = {
        (method, path)
        for path, item in schema["paths"].items()
        for method in item
        if method in {"get", "post", "put", "patch", "delete"}
    }

    assert set(_requests(collection)) == operations
    assert sum(len(folder["item"]) for folder in collection["item"]) == len(operations)


def test_folders_follow_the_api_layers(collection):
    names = [folder["name"] for folder in collection["item"]]

    assert names[: len(LAYER_FOLDERS)] == LAYER_FOLDERS
    by_folder = {folder["name"]: folder["item"] for folder in collection["item"]}
    assert all(
        "/auth/" in "/" + "/".join(i["request"]["url"]["path"]) + "/"
        for i in by_folder["Authentication"]
    )


def test_collection_declares_the_studio_variables(collection):
    keys = [variable["key"] for variable in collection["variable"]]

    assert keys[:5] == ["base_url", "game_key", "server_key", "access_token", "refresh_token"]


def test_login_comes_first_and_its_test_stores_the_tokens(collection):
    login = collection["item"][0]["item"][0]
    script = "\n".join(login["event"][0]["script"]["exec"])
    body = json.loads(login["request"]["body"]["raw"])

    assert login["request"]["url"]["path"][-2:] == ["third-party", "login"]
    assert body["platform"] == "dev"
    assert "pm.collectionVariables.set('access_token', body.access_token)" in script
    assert "pm.collectionVariables.set('refresh_token', body.refresh_token)" in script


def test_each_request_uses_the_auth_its_schema_operation_declares(schema, collection):
    expected = {
        "playerToken": "bearer",
        "serverKey": "apikey",
        "serverKeyQuery": "apikey",
        "gameKey": "apikey",
    }
    for (method, path), item in _requests(collection).items():
        security = schema["paths"][path][method].get("security", [])
        auth = item["request"]["auth"]
        if not security:
            assert auth["type"] == "noauth", path
            continue
        scheme = next(iter(security[0]))
        assert auth["type"] == expected[scheme], path
        if scheme == "serverKey":
            assert {"key": "key", "value": "X-Server-Key", "type": "string"} in auth["apikey"]
        if scheme == "serverKeyQuery":  # Photon's custom authentication: ?key=
            assert {"key": "in", "value": "query", "type": "string"} in auth["apikey"]


def test_every_request_checks_status_content_type_and_required_fields(collection):
    for (_, path), item in _requests(collection).items():
        script = "\n".join(item["event"][0]["script"]["exec"])
        assert "pm.expect(pm.response.code).to.be.oneOf(expected)" in script, path
        assert "content type is" in script, path
        assert "body has the required fields" in script, path


def test_bodies_are_valid_json_once_numeric_variables_are_filled(collection):
    for item in _requests(collection).values():
        raw = item["request"].get("body", {}).get("raw")
        if raw is None:
            continue
        # Numeric variables are written bare ({{offer_id}}); string ones sit inside quotes.
        body = json.loads(re.sub(r'(?<!")\{\{[a-z_]+\}\}(?!")', "1", raw))
        assert isinstance(body, dict | list), raw
