"""The schema publishes the ETag every GET of one document answers, a game server's as a
player's: a generated client reads only the headers the schema names."""

from __future__ import annotations

import pytest

from apps.devdocs.postman import openapi_schema

ONE_DOCUMENT = [
    "/api/v1/player/saves/{key}",
    "/api/v1/saves/public/{player_id}/{key}",
    "/api/v1/saves/players/{player_id}/{key}",
]


@pytest.fixture(scope="module")
def paths() -> dict:
    return openapi_schema()["paths"]


@pytest.mark.parametrize("path", ONE_DOCUMENT)
def test_a_documents_get_publishes_its_etag_on_200_and_304(paths, path):
    responses = paths[path]["get"]["responses"]
    for status in ("200", "304"):
        assert "ETag" in responses[status].get("headers", {}), (path, status)
