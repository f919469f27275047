from __future__ import annotations

from types import SimpleNamespace

import pytest
import requests
from responses import matchers

from apps.platforms.verifiers import base, get_verifier
from apps.platforms.verifiers.base import VerifiedIdentity
from tests.platforms.helpers import (
    ATTACKER_KEY,
    PLATFORM_KEY,
    claims,
    expired_claims,
    jwks,
    raises_problem,
    sign,
)

pytestmark = pytest.mark.usefixtures("upstream")

EPIC = "https://epic.test"
CONNECT_KEYS = f"{EPIC}/auth/v1/oauth/jwks"
ACCOUNT_KEYS = f"{EPIC}/epic/oauth/v2/.well-known/jwks.json"
TOKEN_INFO = f"{EPIC}/epic/oauth/v2/tokenInfo"
ACCOUNT = "a1b2c3d4e5f60718293a4b5c6d7e8f90"
OWNERSHIP = f"{EPIC}/epic/ecom/v1/platforms/EPIC/identities/{ACCOUNT}/ownership"
CONFIG = {
    "client_id": "xyza7891client",
    "product_id": "prod-1",
    "sandbox_id": "sandbox-1",
    "deployment_id": "deploy-1",
}
EAS_CONFIG = {**CONFIG, "mode": "eas"}
OWNERSHIP_CONFIG = {**EAS_CONFIG, "catalog_item_id": "item-1"}


def epic_claims(**overrides):
    body = {
        "iss": f"{EPIC}/auth/v1/oauth",
        "aud": CONFIG["client_id"],
        "sub": "0002puid",
        "pfpid": "prod-1",
        "pfsid": "sandbox-1",
        "pfdid": "deploy-1",
        "act": {"eat": "epicgames", "eaid": ACCOUNT, "pltfm": "other"},
        **overrides,
    }
    return claims(**body)


def account_claims(**overrides):
    return epic_claims(
        iss=f"{EPIC}/epic/oauth/v1", sub=ACCOUNT, dn="Jazz Jackrabbit", act=None, **overrides
    )


def verify(config, credentials):
    return get_verifier("epic").verify(config, credentials)


def test_connect_token_is_the_product_user_id(upstream):
    upstream.get(CONNECT_KEYS, json=jwks(("key-1", PLATFORM_KEY)))

    identity = verify(CONFIG, {"id_token": sign(epic_claims())})

    assert identity == VerifiedIdentity("0002puid", None, entitlement_checked=True)


def test_account_token_is_the_epic_account_with_its_display_name(upstream):
    upstream.get(ACCOUNT_KEYS, json=jwks(("key-1", PLATFORM_KEY)))

    identity = verify(EAS_CONFIG, {"id_token": sign(account_claims())})

    assert identity == VerifiedIdentity(ACCOUNT, "Jazz Jackrabbit", entitlement_checked=True)


def test_token_for_another_client_is_401(upstream):
    upstream.get(CONNECT_KEYS, json=jwks(("key-1", PLATFORM_KEY)))

    with raises_problem("invalid_credentials", 401):
        verify(CONFIG, {"id_token": sign(epic_claims(aud="someone-elses-client"))})


@pytest.mark.parametrize("claim", ["pfpid", "pfsid", "pfdid"])
def test_token_for_another_product_sandbox_or_deployment_is_401(upstream, claim):
    upstream.get(CONNECT_KEYS, json=jwks(("key-1", PLATFORM_KEY)))

    with raises_problem("invalid_credentials", 401):
        verify(CONFIG, {"id_token": sign(epic_claims(**{claim: "other"}))})


@pytest.mark.parametrize(
    "issuer", ["https://evil.test/auth/v1/oauth", "https://epic.test.evil.test/x", None]
)
def test_token_from_another_issuer_is_401(upstream, issuer):
    upstream.get(CONNECT_KEYS, json=jwks(("key-1", PLATFORM_KEY)))

    with raises_problem("invalid_credentials", 401):
        verify(CONFIG, {"id_token": sign(epic_claims(iss=issuer))})


def test_expired_token_is_401(upstream):
    upstream.get(CONNECT_KEYS, json=jwks(("key-1", PLATFORM_KEY)))
    body = epic_claims()
    body.update(expired_claims())

    with raises_problem("invalid_credentials", 401):
        verify(CONFIG, {"id_token": sign(body)})


def test_token_with_a_forged_signature_is_401(upstream):
    upstream.get(CONNECT_KEYS, json=jwks(("key-1", PLATFORM_KEY)))

    with raises_problem("invalid_credentials", 401):
        verify(CONFIG, {"id_token": sign(epic_claims(), key=ATTACKER_KEY)})


def test_connect_token_is_not_checked_against_account_keys(upstream):
    upstream.get(ACCOUNT_KEYS, json=jwks(("key-1", ATTACKER_KEY)))
    upstream.get(CONNECT_KEYS, json=jwks(("key-1", PLATFORM_KEY)))

    with raises_problem("invalid_credentials", 401):
        verify(CONFIG, {"id_token": sign(epic_claims(), key=ATTACKER_KEY)})


@pytest.mark.parametrize(
    "answer",
    [
        {"body": requests.exceptions.ReadTimeout()},
        {"status": 503, "json": {}},
        {"body": "<html>", "content_type": "text/html"},
    ],
    ids=["timeout", "5xx", "html"],
)
def test_key_set_unavailable_is_503(upstream, answer):
    upstream.get(CONNECT_KEYS, **answer)

    with raises_problem("platform_unavailable", 503):
        verify(CONFIG, {"id_token": sign(epic_claims())})


def ownership_ok(upstream, owned=True, account=ACCOUNT):
    upstream.get(ACCOUNT_KEYS, json=jwks(("key-1", PLATFORM_KEY)))
    upstream.post(
        TOKEN_INFO,
        json={"active": True, "account_id": account, "client_id": CONFIG["client_id"]},
        match=[matchers.urlencoded_params_matcher({"token": "access-1"})],
    )
    upstream.get(
        OWNERSHIP,
        json=[{"namespace": "sandbox-1", "itemId": "item-1", "owned": owned}],
        match=[
            matchers.query_param_matcher({"nsCatalogItemId": "sandbox-1:item-1"}),
            matchers.header_matcher({"Authorization": "Bearer access-1"}),
        ],
    )


def test_owner_passes_the_ownership_check(upstream):
    ownership_ok(upstream)

    identity = verify(
        OWNERSHIP_CONFIG, {"id_token": sign(account_claims()), "access_token": "access-1"}
    )

    assert identity.platform_user_id == ACCOUNT
    assert len(upstream.calls) == 3


def test_non_owner_is_403_not_entitled(upstream):
    ownership_ok(upstream, owned=False)

    with raises_problem("not_entitled", 403):
        verify(OWNERSHIP_CONFIG, {"id_token": sign(account_claims()), "access_token": "access-1"})


def test_access_token_of_another_account_is_401(upstream):
    ownership_ok(upstream, account="someone-else")

    with raises_problem("invalid_credentials", 401):
        verify(OWNERSHIP_CONFIG, {"id_token": sign(account_claims()), "access_token": "access-1"})
    assert len(upstream.calls) == 2  # never asked about ownership


def test_inactive_access_token_is_401(upstream):
    upstream.get(ACCOUNT_KEYS, json=jwks(("key-1", PLATFORM_KEY)))
    upstream.post(TOKEN_INFO, json={"active": False})

    with raises_problem("invalid_credentials", 401):
        verify(OWNERSHIP_CONFIG, {"id_token": sign(account_claims()), "access_token": "access-1"})


def test_ownership_service_down_is_503(upstream):
    upstream.get(ACCOUNT_KEYS, json=jwks(("key-1", PLATFORM_KEY)))
    upstream.post(TOKEN_INFO, json={"active": True, "account_id": ACCOUNT})
    upstream.get(OWNERSHIP, status=502, body="bad gateway")

    with raises_problem("platform_unavailable", 503):
        verify(OWNERSHIP_CONFIG, {"id_token": sign(account_claims()), "access_token": "access-1"})


def test_ownership_needs_the_access_token(upstream):
    with raises_problem("validation_error", 400):
        verify(OWNERSHIP_CONFIG, {"id_token": sign(account_claims())})
    assert not upstream.calls


def test_ownership_in_connect_mode_is_not_configured(upstream):
    with raises_problem("platform_not_configured", 400):
        verify({**CONFIG, "catalog_item_id": "item-1"}, {"id_token": "x"})


@pytest.mark.parametrize("missing", ["client_id", "product_id", "sandbox_id", "deployment_id"])
def test_missing_config_is_platform_not_configured(upstream, missing):
    config = {key: value for key, value in CONFIG.items() if key != missing}

    with raises_problem("platform_not_configured", 400):
        verify(config, {"id_token": sign(epic_claims())})
    assert not upstream.calls


def test_unknown_mode_is_platform_not_configured(upstream):
    with raises_problem("platform_not_configured", 400):
        verify({**CONFIG, "mode": "magic"}, {"id_token": sign(epic_claims())})


@pytest.mark.parametrize("credentials", [{}, {"id_token": ""}, {"id_token": ["a", "b"]}])
def test_missing_id_token_is_validation_error(upstream, credentials):
    with raises_problem("validation_error", 400):
        verify(CONFIG, credentials)
    assert not upstream.calls


@pytest.mark.parametrize(
    "body",
    [
        account_claims(aud="another-client"),
        {**account_claims(), **expired_claims()},
        account_claims(pfdid="another-deployment"),
    ],
    ids=["another-client", "expired", "another-deployment"],
)
def test_account_token_failing_a_check_is_401(upstream, body):
    upstream.get(ACCOUNT_KEYS, json=jwks(("key-1", PLATFORM_KEY)))

    with raises_problem("invalid_credentials", 401):
        verify(EAS_CONFIG, {"id_token": sign(body)})


def test_account_token_with_a_forged_signature_is_401(upstream):
    upstream.get(ACCOUNT_KEYS, json=jwks(("key-1", PLATFORM_KEY)))

    with raises_problem("invalid_credentials", 401):
        verify(EAS_CONFIG, {"id_token": sign(account_claims(), key=ATTACKER_KEY)})


def with_token_info(upstream, **answer):
    upstream.get(ACCOUNT_KEYS, json=jwks(("key-1", PLATFORM_KEY)))
    upstream.post(TOKEN_INFO, **answer)
    return {"id_token": sign(account_claims()), "access_token": "access-1"}


@pytest.mark.parametrize(
    "answer",
    [
        {"body": requests.exceptions.ReadTimeout()},
        {"status": 500, "json": {}},
        {"body": "<html>", "content_type": "text/html"},
        {"json": ["active"]},
        {"json": {"active": True}},
        {"json": {"active": True, "account_id": 7}},
    ],
    ids=["timeout", "5xx", "html", "not-an-object", "no-account", "account-not-text"],
)
def test_token_info_unavailable_or_malformed_is_503(upstream, answer):
    credentials = with_token_info(upstream, **answer)

    with raises_problem("platform_unavailable", 503):
        verify(OWNERSHIP_CONFIG, credentials)
    assert len(upstream.calls) == 2  # never asked about ownership


def test_access_token_of_another_client_is_401(upstream):
    answer = {"active": True, "account_id": ACCOUNT, "client_id": "another-game-client"}
    credentials = with_token_info(upstream, json=answer)

    with raises_problem("invalid_credentials", 401):
        verify(OWNERSHIP_CONFIG, credentials)
    assert len(upstream.calls) == 2


@pytest.mark.parametrize(
    "answer",
    [
        {"body": requests.exceptions.ConnectTimeout()},
        {"body": "<html>", "content_type": "text/html"},
        {"json": {"items": []}},
    ],
    ids=["timeout", "html", "not-a-list"],
)
def test_ownership_answer_unavailable_or_malformed_is_503(upstream, answer):
    upstream.get(ACCOUNT_KEYS, json=jwks(("key-1", PLATFORM_KEY)))
    upstream.post(TOKEN_INFO, json={"active": True, "account_id": ACCOUNT})
    upstream.get(OWNERSHIP, **answer)

    with raises_problem("platform_unavailable", 503):
        verify(OWNERSHIP_CONFIG, {"id_token": sign(account_claims()), "access_token": "access-1"})


@pytest.mark.parametrize("access_token", ["eg1~abc\r\nX-Injected: 1", "with space", "tab\t"])
def test_access_token_that_is_not_a_bearer_token_is_validation_error(upstream, access_token):
    with raises_problem("validation_error", 400):
        verify(OWNERSHIP_CONFIG, {"id_token": sign(account_claims()), "access_token": access_token})
    assert not upstream.calls


def test_a_token_is_accepted_once_when_the_game_allows_no_reuse(upstream):
    upstream.get(CONNECT_KEYS, json=jwks(("key-1", PLATFORM_KEY)))
    token = sign(epic_claims())
    single_use = {**CONFIG, "reuse_window_seconds": 0}
    verify(single_use, {"id_token": token})

    with raises_problem("invalid_credentials", 401):
        verify(single_use, {"id_token": token})
    assert verify({**CONFIG, "allow_token_reuse": "true"}, {"id_token": token}).platform_user_id


@pytest.fixture
def clock(monkeypatch):
    """The replay marks' clock (apps.platforms.verifiers.base) alone, in seconds."""
    now = [1_000_000.0]
    monkeypatch.setattr(base, "time", SimpleNamespace(time=lambda: now[0]))
    return now


GAME_A = {**CONFIG, "game_id": 1}


def test_a_token_again_within_the_window_is_the_same_user_later_a_replay(upstream, clock):
    upstream.get(CONNECT_KEYS, json=jwks(("key-1", PLATFORM_KEY)))
    token = sign(epic_claims())
    first = verify(GAME_A, {"id_token": token})

    clock[0] += 59
    assert verify(GAME_A, {"id_token": token}) == first  # the client's retry
    clock[0] += 2  # 61 s after the first use; the retry did not extend the window
    with raises_problem("invalid_credentials", 401):
        verify(GAME_A, {"id_token": token})


def test_the_window_is_per_game_setting(upstream, clock):
    upstream.get(CONNECT_KEYS, json=jwks(("key-1", PLATFORM_KEY)))
    token = sign(epic_claims())
    config = {**GAME_A, "reuse_window_seconds": "5"}
    verify(config, {"id_token": token})

    clock[0] += 5
    assert verify(config, {"id_token": token}).platform_user_id == "0002puid"
    clock[0] += 1
    with raises_problem("invalid_credentials", 401):
        verify(config, {"id_token": token})


def test_a_token_used_by_one_game_is_a_replay_for_another_even_within_the_window(upstream, clock):
    upstream.get(CONNECT_KEYS, json=jwks(("key-1", PLATFORM_KEY)))
    token = sign(epic_claims())
    verify(GAME_A, {"id_token": token})

    with raises_problem("invalid_credentials", 401):
        verify({**CONFIG, "game_id": 2}, {"id_token": token})


@pytest.mark.parametrize("window", [-1, "soon", True])
def test_a_bad_reuse_window_is_not_configured(upstream, window):
    with raises_problem("platform_not_configured", 400):
        verify({**CONFIG, "reuse_window_seconds": window}, {"id_token": sign(epic_claims())})
    assert not upstream.calls


def test_a_token_refused_for_ownership_is_not_remembered(upstream):
    ownership_ok(upstream, owned=False)
    credentials = {"id_token": sign(account_claims()), "access_token": "access-1"}
    with raises_problem("not_entitled", 403):
        verify(OWNERSHIP_CONFIG, credentials)

    assert verify(EAS_CONFIG, credentials).platform_user_id == ACCOUNT


@pytest.mark.parametrize(
    "act",
    [None, {}, {"eat": ""}, {"eat": "deviceid"}, {"eat": "DeviceID", "pltfm": "other"}],
)
def test_anonymous_device_id_token_is_refused_by_default_and_not_spent(upstream, act):
    upstream.get(CONNECT_KEYS, json=jwks(("key-1", PLATFORM_KEY)))
    token = sign(epic_claims(act=act))

    with raises_problem("invalid_credentials", 401):
        verify(CONFIG, {"id_token": token})

    allowing = {**CONFIG, "allowed_account_types": ["steam", "deviceid"]}
    assert verify(allowing, {"id_token": token}).platform_user_id == "0002puid"


def test_only_the_configured_identity_providers_are_accepted(upstream):
    upstream.get(CONNECT_KEYS, json=jwks(("key-1", PLATFORM_KEY)))
    config = {**CONFIG, "allowed_account_types": "steam, psn"}
    steam = sign(epic_claims(act={"eat": "steam", "eaid": "76561197960287930"}))
    epic = sign(epic_claims(act={"eat": "epicgames", "eaid": ACCOUNT}))

    assert verify(config, {"id_token": steam}).platform_user_id == "0002puid"
    with raises_problem("invalid_credentials", 401):
        verify(config, {"id_token": epic})


def test_allowed_account_types_of_the_wrong_type_is_not_configured(upstream):
    with raises_problem("platform_not_configured", 400):
        verify({**CONFIG, "allowed_account_types": {"steam": True}}, {"id_token": "a.b.c"})
