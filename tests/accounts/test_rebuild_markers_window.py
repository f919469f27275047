"""rebuild_markers() writes markers for the same window the mirror loads and the markers live
(marker_seconds(): an access token's lifetime and a minute's margin), so a rebuild after Redis
lost its markers leaves none of those revocations out."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

from apps.accounts.markers import READY_KEY, marker_key, marker_seconds, rebuild_markers
from apps.accounts.models import AuthSession
from apps.accounts.tokens import decode_access_token

pytestmark = pytest.mark.django_db


def test_a_session_revoked_inside_the_margin_gets_its_marker_on_rebuild(login):
    inside, outside = (
        decode_access_token(login(name)["access_token"]).session_id for name in ("alice", "bob")
    )
    now = timezone.now()
    margin = timedelta(seconds=marker_seconds()) - settings.ACCESS_TOKEN_LIFETIME
    assert margin > timedelta(seconds=10)  # what this test is about: a margin to fall in
    AuthSession.objects.filter(pk=inside).update(
        revoked_at=now - settings.ACCESS_TOKEN_LIFETIME - margin / 2,
        revoke_reason=AuthSession.RevokeReason.LOGOUT,
    )
    AuthSession.objects.filter(pk=outside).update(
        revoked_at=now - timedelta(seconds=marker_seconds()) - timedelta(minutes=5),
        revoke_reason=AuthSession.RevokeReason.LOGOUT,
    )
    cache.delete_many([READY_KEY, marker_key(inside), marker_key(outside)])  # Redis lost them

    rebuild_markers()

    assert cache.get(marker_key(inside)) == "logout"
    assert cache.get(marker_key(outside)) is None
    assert cache.get(READY_KEY) is not None
