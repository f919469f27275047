"""The process that revoked a session or a server key refuses it on its very next request: its
mirror, trusted for up to TRUST_SECONDS between checks, must not wait for the change's message
to come back through Redis (a logout answered 204 took the same token on the next call)."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from rest_framework.test import APIClient

from apps.accounts.mirror import mirror
from apps.accounts.models import ServerKey
from apps.accounts.services.tenancy import revoke_server_key
from tests.accounts.conftest import LOGOUT, VALIDATE, assert_problem, bearer
from tests.accounts.test_mirror import trusted
from tests.conftest import eventually

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.django_db(transaction=True)]

LINKED = "/api/v1/auth/link"


@pytest.fixture
def messages_held(running_mirror: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The mirror's thread holds every message it receives (as a busy process would) until the
    test ends: only what the revoking process does itself can tell its mirror."""
    release = threading.Event()
    apply = mirror._apply

    def held(data: bytes) -> None:
        release.wait(10)
        apply(data)

    monkeypatch.setattr(mirror, "_apply", held)
    try:
        yield
    finally:
        release.set()


def test_a_logged_out_token_is_refused_by_the_process_that_logged_it_out(tokens, messages_held):
    eventually(trusted, within=3)
    client = bearer(tokens["access_token"])
    assert client.get(LINKED).status_code == 200

    assert client.post(LOGOUT).status_code == 204

    assert_problem(client.get(LINKED), 401, "token_revoked")


def test_an_erased_players_token_is_refused_by_the_process_that_erased_it(tokens, messages_held):
    eventually(trusted, within=3)
    client = bearer(tokens["access_token"])
    assert client.get(LINKED).status_code == 200

    assert client.delete("/api/v1/player?confirm=delete%20my%20account").status_code == 204

    body = assert_problem(client.get("/api/v1/player/data-export"), 401, "token_revoked")
    assert body["account_deleted"] is True


def test_a_revoked_server_key_is_refused_by_the_process_that_revoked_it(
    tokens, server_key, messages_held
):
    eventually(trusted, within=3)
    server = APIClient()
    server.credentials(HTTP_X_SERVER_KEY=server_key)
    assert server.post(VALIDATE, {"token": tokens["access_token"]}).status_code == 200

    revoke_server_key(server_key=ServerKey.objects.get())

    assert_problem(
        server.post(VALIDATE, {"token": tokens["access_token"]}), 401, "invalid_server_key"
    )
