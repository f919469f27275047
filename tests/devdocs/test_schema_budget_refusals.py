"""The bearer endpoints' generic 429 is documented only where the session's budget refuses: not
on logout, which is counted but never refused (PlayerApi.refused_over_budget)."""

from __future__ import annotations

from apps.accounts.api_base import PlayerApi
from apps.devdocs.postman import openapi_schema
from apps.devdocs.schema import BEARER, NEVER_OVER_BUDGET

SCHEMA = openapi_schema()
LOGOUT = SCHEMA["paths"]["/api/v1/auth/logout"]["post"]


def bearer_operations() -> dict[str, dict]:
    return {
        f"{method} {path}": operation
        for path, item in SCHEMA["paths"].items()
        for method, operation in item.items()
        if isinstance(operation, dict)
        and any(BEARER in requirement for requirement in operation.get("security", []))
    }


def test_logout_documents_no_429():
    assert any(BEARER in requirement for requirement in LOGOUT["security"])
    assert "429" not in LOGOUT["responses"]


def test_other_bearer_endpoints_keep_their_429():
    operations = bearer_operations()
    assert PlayerApi.refused_over_budget is True
    assert len(operations) > 5
    missing = [
        name
        for name, operation in operations.items()
        if name != "post /api/v1/auth/logout" and "429" not in operation["responses"]
    ]
    assert missing == []


def test_the_marker_never_reaches_the_schema():
    assert not any(NEVER_OVER_BUDGET in operation for operation in bearer_operations().values())
