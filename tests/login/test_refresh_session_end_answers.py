"""What a refresh answers for a session its platform or its account no longer carries: a platform
this server dropped ends the session (401 token_revoked), and an erased account says so even if
its player is banned."""

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from apps.accounts.models import AuthSession, Player
from tests.accounts.conftest import REFRESH, assert_problem

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.accounts.server_urls")]


def refresh(raw: str):
    return APIClient().post(REFRESH, {"refresh_token": raw})


def test_a_session_of_a_platform_this_server_no_longer_supports_ends_at_its_refresh(tokens):
    # As a session opened with a platform whose verifier a later release removed.
    AuthSession.objects.update(platform="ouya")

    body = assert_problem(refresh(tokens["refresh_token"]), 401, "token_revoked")

    assert "account_deleted" not in body
    session = AuthSession.objects.get()
    assert session.revoked_at is not None and session.revoke_reason == "operator"
    assert_problem(refresh(tokens["refresh_token"]), 401, "token_revoked")


def test_a_live_session_of_an_erased_and_banned_player_says_the_account_is_deleted(tokens):
    # A session left live by a login that raced the erasure (its player once banned: the
    # tombstone keeps banned_until). A revoked one answers the same (test_refresh.py).
    Player.objects.update(erased_at=timezone.now(), banned_until=timezone.now() + timedelta(days=3))

    body = assert_problem(refresh(tokens["refresh_token"]), 401, "token_revoked")

    assert body["account_deleted"] is True
