from __future__ import annotations

import json
import logging
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import responses
from responses import matchers

from apps.platforms.verifiers import get_verifier
from apps.platforms.verifiers.base import VerifiedIdentity
from tests.platforms.helpers import TOO_DEEP_JSON, raises_problem

pytestmark = pytest.mark.usefixtures("upstream")

STEAM = "https://steam.test"
AUTH_URL = f"{STEAM}/ISteamUserAuth/AuthenticateUserTicket/v1/"
OWNERSHIP_URL = f"{STEAM}/ISteamUser/CheckAppOwnership/v4/"
SUMMARIES_URL = f"{STEAM}/ISteamUser/GetPlayerSummaries/v2/"
PUBLISHER_KEY = "PUBLISHERKEY0123456789"
IDENTITY = "gp-login"
CONFIG = {"app_id": "480", "publisher_key": PUBLISHER_KEY, "identity": IDENTITY}
OPTED_OUT = {**CONFIG, "check_ownership": False}
TICKET = "140000006a7f1e0c"
PLAYER = "76561197960287930"
LENDER = "76561197960287931"


def verify(config=CONFIG, credentials=None):
    credentials = {"ticket": TICKET} if credentials is None else credentials
    return get_verifier("steam").verify(config, credentials)


def authenticated(**params):
    return {
        "response": {
            "params": {
                "result": "OK",
                "steamid": PLAYER,
                "ownersteamid": PLAYER,
                "vacbanned": False,
                "publisherbanned": False,
                **params,
            }
        }
    }


def rejected(code=101, description="Invalid ticket"):
    return {"response": {"error": {"errorcode": code, "errordesc": description}}}


def persona(upstream, name="Gabe"):
    upstream.get(SUMMARIES_URL, json={"response": {"players": [{"personaname": name}]}})


def owns(upstream, *, ownsapp=True, permanent=True):
    """CheckAppOwnership v4's answer, as Valve documents it."""
    upstream.get(
        OWNERSHIP_URL,
        json={
            "appownership": {
                "ownsapp": ownsapp,
                "permanent": permanent,
                "timestamp": "2024-05-01T10:00:00Z",
                "ownersteamid": PLAYER,
                "sitelicense": False,
                "result": "OK",
            }
        },
    )


def paths(upstream):
    return [call.request.url.split("?")[0] for call in upstream.calls]


def test_valid_ticket_of_an_owner_is_the_steam_id_with_persona_name(upstream):
    expected = {"key": PUBLISHER_KEY, "appid": "480", "ticket": TICKET, "identity": IDENTITY}
    upstream.get(AUTH_URL, json=authenticated(), match=[matchers.query_param_matcher(expected)])
    owns(upstream)
    persona(upstream)

    assert verify() == VerifiedIdentity(PLAYER, "Gabe", entitlement_checked=True)


@pytest.mark.parametrize(
    ("name", "kept"), [("Ga\x00be", "Gabe"), ("Gabe\ud800", "Gabe"), ("\x00 \udfff", None)]
)
def test_a_persona_name_keeps_only_what_a_column_can_store(upstream, name, kept):
    upstream.get(AUTH_URL, json=authenticated())
    owns(upstream)
    persona(upstream, name)

    assert verify() == VerifiedIdentity(PLAYER, kept, entitlement_checked=True)


def test_ownership_is_checked_by_default_for_the_ticket_s_steam_id(upstream):
    upstream.get(AUTH_URL, json=authenticated())
    upstream.get(
        OWNERSHIP_URL,
        json={"appownership": {"ownsapp": True, "permanent": True, "result": "OK"}},
        match=[
            matchers.query_param_matcher({"key": PUBLISHER_KEY, "steamid": PLAYER, "appid": "480"})
        ],
    )
    persona(upstream)

    identity = verify()

    assert identity.entitlement_checked is True and identity.entitlement_waived is False
    assert paths(upstream) == [AUTH_URL, OWNERSHIP_URL, SUMMARIES_URL]


def test_configured_identity_is_sent_with_the_ticket(upstream):
    def steam(request):  # like Steam: the ticket was made with the identity "studio-backend"
        identity = parse_qs(urlsplit(request.url).query).get("identity")
        return (
            200,
            {},
            json.dumps(authenticated() if identity == ["studio-backend"] else rejected()),
        )

    upstream.add_callback(responses.GET, AUTH_URL, callback=steam)
    owns(upstream)
    persona(upstream)

    assert verify({**CONFIG, "identity": "studio-backend"}).platform_user_id == PLAYER
    with raises_problem("invalid_credentials", 401):
        verify({**CONFIG, "identity": "another-service"})


@pytest.mark.parametrize(
    ("code", "description"),
    [(101, "Invalid ticket"), (102, "Ticket for other app"), (100, "Expired ticket")],
)
def test_ticket_steam_rejects_is_401(upstream, code, description):
    upstream.get(AUTH_URL, json=rejected(code, description))

    with raises_problem("invalid_credentials", 401) as caught:
        verify()
    assert caught.value.extra["platform_code"] == code
    assert len(upstream.calls) == 1  # no name lookup for a rejected ticket


def test_ticket_for_another_app_is_401(upstream):
    def steam(request):  # like Steam: the ticket was made for app 480 only
        appid = parse_qs(urlsplit(request.url).query)["appid"]
        return 200, {}, json.dumps(authenticated() if appid == ["480"] else rejected())

    upstream.add_callback(responses.GET, AUTH_URL, callback=steam)

    with raises_problem("invalid_credentials", 401):
        verify({**CONFIG, "app_id": "999"})


def test_publisher_banned_account_is_401(upstream):
    upstream.get(AUTH_URL, json=authenticated(publisherbanned=True))

    with raises_problem("invalid_credentials", 401):
        verify()


def test_vac_ban_does_not_refuse_by_default(upstream):
    upstream.get(AUTH_URL, json=authenticated(vacbanned=True))
    owns(upstream)
    persona(upstream)

    assert verify().platform_user_id == PLAYER


def test_vac_banned_account_is_401_when_the_game_refuses_them(upstream):
    upstream.get(AUTH_URL, json=authenticated(vacbanned=True))

    with raises_problem("invalid_credentials", 401):
        verify({**CONFIG, "refuse_vac_banned": True})
    assert len(upstream.calls) == 1


def test_a_game_refusing_vac_bans_still_admits_the_unbanned(upstream):
    upstream.get(AUTH_URL, json=authenticated(vacbanned=False))
    owns(upstream)
    persona(upstream)

    assert verify({**CONFIG, "refuse_vac_banned": "true"}).platform_user_id == PLAYER


def test_answer_without_the_vac_flag_is_503_when_the_game_refuses_vac_bans(upstream):
    answer = authenticated()
    del answer["response"]["params"]["vacbanned"]
    upstream.get(AUTH_URL, json=answer)

    with raises_problem("platform_unavailable", 503):
        verify({**CONFIG, "refuse_vac_banned": True})


@pytest.mark.parametrize("owner", [None, "", "not-an-id"], ids=["absent", "empty", "junk"])
def test_answer_without_an_owner_is_503_when_the_game_refuses_sharing(upstream, owner):
    answer = authenticated(ownersteamid=owner)
    if owner is None:
        del answer["response"]["params"]["ownersteamid"]
    upstream.get(AUTH_URL, json=answer)

    with raises_problem("platform_unavailable", 503):
        verify({**CONFIG, "allow_family_sharing": False})


def test_family_sharing_borrower_is_accepted_by_default(upstream):
    upstream.get(AUTH_URL, json=authenticated(ownersteamid=LENDER))
    owns(upstream, permanent=False)  # a borrower owns the game, not permanently
    persona(upstream)

    assert verify().platform_user_id == PLAYER  # the player, never the lender


def test_family_sharing_borrower_is_403_not_entitled_when_the_game_refuses_sharing(upstream):
    upstream.get(AUTH_URL, json=authenticated(ownersteamid=LENDER))

    with raises_problem("not_entitled", 403):
        verify({**CONFIG, "allow_family_sharing": False})


@pytest.mark.parametrize("config", [CONFIG, {**CONFIG, "check_ownership": "true"}])
def test_a_non_owner_is_403_not_entitled(upstream, config):
    upstream.get(AUTH_URL, json=authenticated())
    owns(upstream, ownsapp=False, permanent=False)

    with raises_problem("not_entitled", 403):
        verify(config)
    assert paths(upstream) == [AUTH_URL, OWNERSHIP_URL]  # no name lookup for a non-owner


def test_check_ownership_refuses_a_shared_license_when_sharing_is_off(upstream):
    upstream.get(AUTH_URL, json=authenticated())
    upstream.get(OWNERSHIP_URL, json={"appownership": {"ownsapp": True, "permanent": False}})

    with raises_problem("not_entitled", 403):
        verify({**CONFIG, "check_ownership": True, "allow_family_sharing": False})


@pytest.mark.parametrize("opt_out", [False, "false", "0"])
def test_a_game_that_opts_out_is_not_marked_entitlement_checked(upstream, opt_out):
    upstream.get(AUTH_URL, json=authenticated())
    persona(upstream)

    identity = verify({**CONFIG, "check_ownership": opt_out})

    assert identity == VerifiedIdentity(
        PLAYER, "Gabe", entitlement_checked=False, entitlement_waived=True
    )
    assert paths(upstream) == [AUTH_URL, SUMMARIES_URL]  # CheckAppOwnership never called


def test_an_unreadable_ownership_flag_is_platform_not_configured(upstream):
    with raises_problem("platform_not_configured", 400):
        verify({**CONFIG, "check_ownership": "maybe"})
    assert not upstream.calls


@pytest.mark.parametrize("status", [401, 403])
def test_our_publisher_key_refused_is_503_and_alerts(upstream, caplog, status):
    upstream.get(AUTH_URL, status=status, body="Forbidden")

    with (
        caplog.at_level(logging.ERROR, logger="apps.platforms"),
        raises_problem("platform_unavailable", 503),
    ):
        verify()
    assert "ALERT" in caplog.text


@pytest.mark.parametrize("status", [429, 500, 502, 503])
def test_rate_limit_and_server_errors_are_503(upstream, status):
    upstream.get(AUTH_URL, status=status, json={})

    with raises_problem("platform_unavailable", 503):
        verify()


def test_timeout_is_503_and_not_retried(upstream):
    upstream.get(AUTH_URL, body=requests.exceptions.ReadTimeout())

    with raises_problem("platform_unavailable", 503):
        verify()
    assert len(upstream.calls) == 1


def test_html_instead_of_json_is_503(upstream):
    upstream.get(AUTH_URL, body="<html>maintenance</html>", content_type="text/html")

    with raises_problem("platform_unavailable", 503):
        verify()


def test_json_nested_too_deep_to_parse_is_503(upstream):
    upstream.get(AUTH_URL, body=TOO_DEEP_JSON, content_type="application/json")

    with raises_problem("platform_unavailable", 503):
        verify()


def test_answer_without_params_or_error_is_503(upstream):
    upstream.get(AUTH_URL, json={"response": {}})

    with raises_problem("platform_unavailable", 503):
        verify()


def test_publisher_key_never_reaches_logs_or_the_error(upstream, caplog):
    # Nothing registered: the fake raises ConnectionError whose text holds the full URL.
    with (
        caplog.at_level(logging.DEBUG, logger="apps.platforms"),
        raises_problem("platform_unavailable", 503) as caught,
    ):
        verify()
    assert PUBLISHER_KEY not in caplog.text
    assert TICKET not in caplog.text
    assert PUBLISHER_KEY not in str(caught.value)
    assert caught.value.__cause__ is None and caught.value.__suppress_context__


def test_persona_name_failure_does_not_fail_the_login(upstream):
    upstream.get(AUTH_URL, json=authenticated())
    owns(upstream)
    upstream.get(SUMMARIES_URL, body=requests.exceptions.ReadTimeout())

    assert verify() == VerifiedIdentity(PLAYER, None, entitlement_checked=True)


@pytest.mark.parametrize("missing", ["app_id", "publisher_key", "identity"])
def test_missing_config_is_platform_not_configured(upstream, missing):
    config = {key: value for key, value in CONFIG.items() if key != missing}

    with raises_problem("platform_not_configured", 400) as caught:
        verify(config)
    assert missing in caught.value.detail
    assert not upstream.calls


@pytest.mark.parametrize(
    "credentials", [{}, {"ticket": ""}, {"ticket": 1234}, {"ticket": "not hex!"}]
)
def test_missing_or_malformed_ticket_is_validation_error(upstream, credentials):
    with raises_problem("validation_error", 400) as caught:
        verify(CONFIG, credentials)
    assert "ticket" in caught.value.extra["errors"]["credentials"]
    assert not upstream.calls


@pytest.mark.parametrize(
    "answer",
    [
        {"body": requests.exceptions.ReadTimeout()},
        {"status": 500, "json": {}},
        {"body": "<html>", "content_type": "text/html"},
        {"json": {"appownership": {"result": "OK"}}},
        {"json": {"appownership": "yes"}},
    ],
    ids=["timeout", "5xx", "html", "no-ownsapp", "not-an-object"],
)
def test_ownership_check_unavailable_or_malformed_is_503(upstream, answer):
    upstream.get(AUTH_URL, json=authenticated())
    upstream.get(OWNERSHIP_URL, **answer)

    with raises_problem("platform_unavailable", 503):
        verify({**CONFIG, "check_ownership": True})


@pytest.mark.parametrize("params", [{"result": "FAIL"}], ids=["result-not-ok"])
def test_params_that_do_not_confirm_the_ticket_are_401(upstream, params):
    upstream.get(AUTH_URL, json=authenticated(**params))

    with raises_problem("invalid_credentials", 401):
        verify()
