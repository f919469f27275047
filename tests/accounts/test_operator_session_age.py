"""PANEL_SESSION_HOURS (SESSION_COOKIE_AGE) is the operators' Django sessions only: a player's
login sets no session cookie, and its tokens live ACCESS_TOKEN_LIFETIME / REFRESH_TOKEN_LIFETIME
whatever the session age is."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.utils import timezone

from apps.accounts.tokens import decode_access_token

pytestmark = pytest.mark.django_db


def test_the_default_is_twelve_hours():
    assert django_settings.PANEL_SESSION_HOURS == 12
    assert django_settings.SESSION_COOKIE_AGE == 12 * 3600


def test_player_tokens_do_not_follow_the_operator_session_age(login, settings):
    settings.SESSION_COOKIE_AGE = 60
    body = login("alice")
    assert body["expires_in"] == int(settings.ACCESS_TOKEN_LIFETIME.total_seconds())
    assert body["refresh_expires_in"] == int(settings.REFRESH_TOKEN_LIFETIME.total_seconds())
    left = decode_access_token(body["access_token"]).expires_at - timezone.now()
    assert settings.ACCESS_TOKEN_LIFETIME - timedelta(seconds=30) < left
    assert left <= settings.ACCESS_TOKEN_LIFETIME
