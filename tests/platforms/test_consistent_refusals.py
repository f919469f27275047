"""One answer per kind of refusal, whatever the platform (apps/platforms/errors.py):

- a valid account whose platform says it does not own the game is `403 not_entitled` (Steam,
  Epic and IDC Games each have such a check), never `401 invalid_credentials`;
- the platform refusing *our* client's call is a 503 and an ALERT, not the player's fault;
- an answer of the wrong shape (a list for an object, a field missing or of the wrong type) is
  `503 platform_unavailable`, never a 401, a 403, a 500 or a login;
- a user id no identity row can store is a 503 that says so, before any further call.
"""

from __future__ import annotations

import logging

import pytest

from apps.accounts.models import PlatformIdentity
from apps.platforms.verifiers import get_verifier
from apps.platforms.verifiers.base import MAX_PLATFORM_USER_ID_LENGTH
from tests.platforms import test_apple_sign_in as apple
from tests.platforms import test_epic as epic
from tests.platforms import test_google_play as google
from tests.platforms import test_idcgames as idc
from tests.platforms import test_nintendo as nintendo
from tests.platforms import test_playstation as playstation
from tests.platforms import test_steam as steam
from tests.platforms.helpers import PLATFORM_KEY, jwks, raises_problem, sign

pytestmark = pytest.mark.usefixtures("upstream")

EPIC_CREDENTIALS = {"access_token": "access-1"}
TOO_LONG = "7" * (MAX_PLATFORM_USER_ID_LENGTH + 1)


def test_the_stored_length_is_the_identity_column_s():
    field = PlatformIdentity._meta.get_field("platform_user_id")
    assert field.max_length == MAX_PLATFORM_USER_ID_LENGTH


# --- "valid account, does not own the game": 403 not_entitled everywhere --------------------


def steam_non_owner(upstream):
    upstream.get(steam.AUTH_URL, json=steam.authenticated())
    steam.owns(upstream, ownsapp=False)
    return lambda: steam.verify()


def steam_borrower_refused(upstream):
    upstream.get(steam.AUTH_URL, json=steam.authenticated(ownersteamid=steam.LENDER))
    return lambda: steam.verify({**steam.CONFIG, "allow_family_sharing": False})


def steam_shared_license_refused(upstream):
    upstream.get(steam.AUTH_URL, json=steam.authenticated())
    steam.owns(upstream, permanent=False)
    return lambda: steam.verify({**steam.CONFIG, "allow_family_sharing": False})


def epic_non_owner(upstream):
    epic.ownership_ok(upstream, owned=False)
    credentials = {"id_token": sign(epic.account_claims()), **EPIC_CREDENTIALS}
    return lambda: epic.verify(epic.OWNERSHIP_CONFIG, credentials)


def idc_non_owner(owns):
    def arrange(upstream):
        upstream.get(idc.VERIFY_URL, json={**idc.DOCUMENTED_OK, "owns": owns})
        return lambda: idc.verify({**idc.CONFIG, "owns_field": "owns"})

    return arrange


@pytest.mark.parametrize(
    "arrange",
    [
        steam_non_owner,
        steam_borrower_refused,
        steam_shared_license_refused,
        epic_non_owner,
        idc_non_owner(0),
        idc_non_owner(False),
        idc_non_owner("no"),
        idc_non_owner("FALSE"),
    ],
    ids=[
        "steam-ownsapp-false",
        "steam-family-sharing-borrower",
        "steam-shared-license",
        "epic-owned-false",
        "idc-0",
        "idc-false",
        "idc-no",
        "idc-FALSE",
    ],
)
def test_a_valid_account_that_does_not_own_the_game_is_403_not_entitled(upstream, arrange):
    login = arrange(upstream)

    with raises_problem("not_entitled", 403):
        login()


@pytest.mark.parametrize("owns", [1, True, "yes", "TRUE"])
def test_an_idc_owner_logs_in(upstream, owns):
    upstream.get(idc.VERIFY_URL, json={**idc.DOCUMENTED_OK, "owns": owns})

    assert idc.verify({**idc.CONFIG, "owns_field": "owns", "fetch_profile": False}).may_play


# --- Epic: its ownership endpoint refusing our call is ours to fix ---------------------------


def epic_with_token_info(upstream):
    upstream.get(epic.ACCOUNT_KEYS, json=jwks(("key-1", PLATFORM_KEY)))
    upstream.post(epic.TOKEN_INFO, json={"active": True, "account_id": epic.ACCOUNT})
    return {"id_token": sign(epic.account_claims()), **EPIC_CREDENTIALS}


@pytest.mark.parametrize("status", [401, 403])
def test_epic_ownership_refusing_our_call_is_503_and_alerts(upstream, caplog, status):
    # tokenInfo has just vouched for the access token: a refusal now is our client's policy.
    credentials = epic_with_token_info(upstream)
    upstream.get(epic.OWNERSHIP, status=status, json={"errorCode": "errors.com.epicgames.denied"})

    with (
        caplog.at_level(logging.ERROR, logger="apps.platforms"),
        raises_problem("platform_unavailable", 503),
    ):
        epic.verify(epic.OWNERSHIP_CONFIG, credentials)
    assert "ALERT epic ownership answered HTTP" in caplog.text
    assert "access-1" not in caplog.text


@pytest.mark.parametrize(
    "records",
    [
        [],
        [{"namespace": "sandbox-1", "itemId": "another-item", "owned": True}],
        [{"namespace": "sandbox-1", "itemId": "item-1"}],
        [{"namespace": "sandbox-1", "itemId": "item-1", "owned": "false"}],
        [{"namespace": "sandbox-1", "itemId": 1, "owned": True}],
        ["item-1"],
        [None],
    ],
    ids=[
        "empty",
        "no-record-for-our-item",
        "no-owned",
        "owned-as-text",
        "item-id-not-text",
        "record-not-an-object",
        "record-null",
    ],
)
def test_epic_ownership_records_of_the_wrong_shape_are_503_not_a_refusal(upstream, records):
    credentials = epic_with_token_info(upstream)
    upstream.get(epic.OWNERSHIP, json=records)

    with raises_problem("platform_unavailable", 503):
        epic.verify(epic.OWNERSHIP_CONFIG, credentials)


@pytest.mark.parametrize(
    "answer",
    [
        {"active": "true", "account_id": epic.ACCOUNT},
        {"active": 1, "account_id": epic.ACCOUNT},
        {"account_id": epic.ACCOUNT},
        {"active": True, "account_id": epic.ACCOUNT, "client_id": 7},
    ],
    ids=["active-as-text", "active-as-number", "no-active", "client-id-not-text"],
)
def test_epic_token_info_of_the_wrong_shape_is_503_not_a_refusal(upstream, answer):
    credentials = epic.with_token_info(upstream, json=answer)

    with raises_problem("platform_unavailable", 503):
        epic.verify(epic.OWNERSHIP_CONFIG, credentials)
    assert len(upstream.calls) == 2  # never asked about ownership


# --- Steam: answers of the wrong shape --------------------------------------------------------


@pytest.mark.parametrize(
    "params",
    [
        {"result": None},
        {"result": ["OK"]},
        {"steamid": None},
        {"steamid": ""},
        {"steamid": "not-a-steam-id"},
        {"steamid": True},
        {"steamid": [steam.PLAYER]},
        {"steamid": 7.5},
        {"steamid": "7" * 21},
    ],
    ids=[
        "no-result",
        "result-not-text",
        "no-steamid",
        "empty-steamid",
        "junk-steamid",
        "steamid-true",
        "steamid-list",
        "steamid-fraction",
        "steamid-too-long",
    ],
)
def test_steam_confirming_a_ticket_without_a_usable_steamid_is_503(upstream, params):
    answer = steam.authenticated(**params)
    answer["response"]["params"] = {
        key: value for key, value in answer["response"]["params"].items() if value is not None
    }
    upstream.get(steam.AUTH_URL, json=answer)

    with raises_problem("platform_unavailable", 503):
        steam.verify()
    assert steam.paths(upstream) == [steam.AUTH_URL]


def test_steam_steamid_as_a_json_number_is_read_as_its_digits(upstream):
    upstream.get(steam.AUTH_URL, json=steam.authenticated(steamid=int(steam.PLAYER)))
    steam.owns(upstream)
    steam.persona(upstream)

    assert steam.verify().platform_user_id == steam.PLAYER


@pytest.mark.parametrize("permanent", [None, "false", 0], ids=["absent", "text", "number"])
def test_steam_ownership_without_a_permanent_flag_is_503_when_sharing_is_refused(
    upstream, permanent
):
    upstream.get(steam.AUTH_URL, json=steam.authenticated())
    ownership = {"ownsapp": True} | ({} if permanent is None else {"permanent": permanent})
    upstream.get(steam.OWNERSHIP_URL, json={"appownership": ownership})

    with raises_problem("platform_unavailable", 503):
        steam.verify({**steam.CONFIG, "allow_family_sharing": False})


# --- IDC Games: flags of the wrong type ----------------------------------------------------


@pytest.mark.parametrize(
    "status",
    [{"code": 0}, [0], 0.0],
    ids=["object", "list", "fraction"],
)
def test_idc_status_of_the_wrong_type_is_503_not_a_refusal(upstream, status):
    upstream.get(idc.VERIFY_URL, json={**idc.DOCUMENTED_OK, "status": status})

    with raises_problem("platform_unavailable", 503):
        idc.verify()


@pytest.mark.parametrize(
    "owns",
    [{"owned": True}, [1], 0.5, "maybe", ""],
    ids=["object", "list", "fraction", "unknown-word", "empty"],
)
def test_idc_ownership_flag_we_cannot_read_is_503_not_a_refusal(upstream, owns):
    upstream.get(idc.VERIFY_URL, json={**idc.DOCUMENTED_OK, "owns": owns})

    with raises_problem("platform_unavailable", 503):
        idc.verify({**idc.CONFIG, "owns_field": "owns"})


# --- Google Play: a scope of the wrong type -----------------------------------------------


def test_google_scope_of_the_wrong_type_is_503_not_a_refusal(upstream):
    upstream.post(
        google.TOKEN_URL, json={"access_token": "ya29.access", "scope": [google.GAMES_SCOPE]}
    )

    with raises_problem("platform_unavailable", 503):
        google.verify()
    assert len(upstream.calls) == 1


# --- user ids no identity can store -----------------------------------------------------------


def test_an_idc_user_id_too_long_to_store_is_503_before_the_profile_call(upstream, caplog):
    upstream.get(idc.VERIFY_URL, json={"status": 0, "user": {"userid": TOO_LONG}})
    upstream.get(idc.PROFILE_URL, json={"nick": "Paco"})

    with (
        caplog.at_level(logging.ERROR, logger="apps.platforms"),
        raises_problem("platform_unavailable", 503) as caught,
    ):
        idc.verify()
    assert "cannot store" in caught.value.detail
    assert f"{len(TOO_LONG)} characters" in caplog.text
    assert len(upstream.calls) == 1  # the id never went on to the profile call


def test_an_idc_user_id_as_long_as_the_column_logs_in(upstream):
    longest = "7" * MAX_PLATFORM_USER_ID_LENGTH
    upstream.get(idc.VERIFY_URL, json={"status": 0, "user": {"userid": longest}})

    assert idc.verify({**idc.CONFIG, "fetch_profile": False}).platform_user_id == longest


def test_a_google_player_id_too_long_to_store_is_503(upstream):
    google.token_ok(upstream)
    upstream.get(google.VERIFY_URL, json={"player_id": TOO_LONG})
    upstream.get(google.ME_URL, json={"playerId": TOO_LONG, "displayName": "Ann"})

    with raises_problem("platform_unavailable", 503) as caught:
        google.verify()
    assert "cannot store" in caught.value.detail


def test_an_epic_account_id_too_long_to_store_is_503_before_the_ownership_calls(upstream):
    upstream.get(epic.ACCOUNT_KEYS, json=jwks(("key-1", PLATFORM_KEY)))
    body = epic.epic_claims(iss=f"{epic.EPIC}/epic/oauth/v1", sub=TOO_LONG, act=None)
    credentials = {"id_token": sign(body), **EPIC_CREDENTIALS}

    with raises_problem("platform_unavailable", 503):
        epic.verify(epic.OWNERSHIP_CONFIG, credentials)
    assert len(upstream.calls) == 1  # the key set only


def test_a_nintendo_sub_too_long_to_store_is_503(upstream):
    upstream.get(nintendo.KEYS_URL, json=jwks(("key-1", PLATFORM_KEY)))

    with raises_problem("platform_unavailable", 503):
        nintendo.verify(nintendo.nsa_token(nintendo.nsa_claims(sub=TOO_LONG)))


def test_a_playstation_user_too_long_to_store_is_503(upstream):
    upstream.get(playstation.KEYS_URL, json=jwks(("key-1", PLATFORM_KEY)))
    token = sign(playstation.psn_claims(sub=TOO_LONG))

    with raises_problem("platform_unavailable", 503):
        get_verifier("playstation").verify(playstation.TOKEN_ONLY_CONFIG, {"id_token": token})


def test_a_sign_in_with_apple_sub_too_long_to_store_is_503_and_leaves_the_token_unspent(upstream):
    upstream.get(apple.KEYS_URL, json=jwks(("key-1", PLATFORM_KEY)))
    token = sign(apple.apple_claims(sub=TOO_LONG))

    with raises_problem("platform_unavailable", 503):
        apple.verify({"identity_token": token, "nonce": apple.NONCE})
    with raises_problem("platform_unavailable", 503):  # not "already used": nothing was spent
        apple.verify({"identity_token": token, "nonce": apple.NONCE})


# --- a required setting of blanks only: 400 platform_not_configured, nothing sent -----------

APPLE_TOKEN = {"identity_token": sign(apple.apple_claims())}


@pytest.mark.parametrize(
    ("platform", "config", "blank", "credentials"),
    [
        ("steam", steam.CONFIG, {"app_id": "  "}, {"ticket": steam.TICKET}),
        ("steam", steam.CONFIG, {"identity": " "}, {"ticket": steam.TICKET}),
        ("epic", epic.CONFIG, {"deployment_id": " "}, {"id_token": sign(epic.epic_claims())}),
        ("google_play", google.CONFIG, {"application_id": "\t"}, google.CODE),
        ("idcgames", idc.CONFIG, {"app_id": " "}, idc.CREDENTIALS),
        ("apple", apple.CONFIG, {"client_ids": " "}, APPLE_TOKEN),
        ("apple", apple.CONFIG, {"client_ids": [" ", ""]}, APPLE_TOKEN),
        ("nintendo", nintendo.CONFIG, {"application_id": " "}, {"id_token": "a.b.c"}),
        ("playstation", playstation.TOKEN_ONLY_CONFIG, {"issuer": " "}, {"id_token": "a.b.c"}),
    ],
    ids=[
        "steam-app-id",
        "steam-identity",
        "epic-deployment",
        "google-application",
        "idc-app-id",
        "apple-client-ids-text",
        "apple-client-ids-list",
        "nintendo-application",
        "playstation-issuer",
    ],
)
def test_a_required_setting_of_blanks_only_is_not_configured_and_nothing_is_sent(
    upstream, platform, config, blank, credentials
):
    """Read, the setting is stripped to nothing: the platform would be asked with an empty app
    id (every player refused as a 401, or a 503), instead of the game being told to set it."""
    with raises_problem("platform_not_configured", 400) as caught:
        get_verifier(platform).verify({**config, **blank}, credentials)
    assert next(iter(blank)) in caught.value.detail
    assert not upstream.calls
