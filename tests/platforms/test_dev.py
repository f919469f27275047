from __future__ import annotations

import pytest

from apps.platforms.verifiers import get_verifier
from apps.platforms.verifiers.base import VerifiedIdentity
from tests.platforms.helpers import raises_problem

pytestmark = pytest.mark.usefixtures("upstream")

SANDBOX = {"sandbox": True}


def verify(config, credentials):
    return get_verifier("dev").verify(config, credentials)


def test_sandbox_game_accepts_any_valid_user_id_without_calling_out(upstream):
    identity = verify(SANDBOX, {"user_id": "tester_1.a-b", "display_name": "Tester"})

    assert identity == VerifiedIdentity("tester_1.a-b", "Tester", entitlement_checked=True)
    assert not upstream.calls


def test_display_name_is_optional(upstream):
    assert verify(SANDBOX, {"user_id": "alice"}).display_name is None


@pytest.mark.parametrize("config", [{"sandbox": False}, {}, {"sandbox": "true"}])
def test_game_not_in_sandbox_is_refused(upstream, config):
    with raises_problem("platform_not_configured", 400):
        verify(config, {"user_id": "alice"})


def test_disabled_on_the_server_is_refused_even_in_sandbox(upstream, settings):
    settings.PLATFORM_DEV_ENABLED = False

    with raises_problem("platform_not_configured", 400):
        verify(SANDBOX, {"user_id": "alice"})


@pytest.mark.parametrize(
    "user_id", [None, "", "a" * 65, "bad id", "ünïcode", "alice\n", "../etc", 123]
)
def test_invalid_user_id_is_validation_error(upstream, user_id):
    credentials = {} if user_id is None else {"user_id": user_id}

    with raises_problem("validation_error", 400):
        verify(SANDBOX, credentials)
