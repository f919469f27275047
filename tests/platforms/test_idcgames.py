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
from tests.platforms.helpers import raises_problem

pytestmark = pytest.mark.usefixtures("upstream")

VERIFY_URL = "https://idc.test/unilogin/getAccessData.php"
PROFILE_URL = "https://idc.test/unilogin/getUserProfileInfo.php"
SECRET = "IDCAPISECRET42"
CONFIG = {"app_id": "1234", "app_secret": SECRET}
CREDENTIALS = {"token": "idctk-abc", "uuid": "uuid-1"}
DOCUMENTED_OK = {
    "status": 0,
    "user": {"userid": 987654, "usercrc": "x1", "language": "es", "country": "ES"},
}


def verify(config=CONFIG, credentials=CREDENTIALS):
    return get_verifier("idcgames").verify(config, credentials)


def test_documented_success_is_the_idc_user_with_nick(upstream):
    upstream.get(
        VERIFY_URL,
        json=DOCUMENTED_OK,
        match=[
            matchers.query_param_matcher(
                {"idctk": "idctk-abc", "idcgameid": "1234", "idcuuid": "uuid-1"}
            )
        ],
    )
    upstream.get(
        PROFILE_URL,
        json={"nick": "Paco"},
        match=[matchers.query_param_matcher({"userid": "987654", "apisecret": SECRET})],
    )

    assert verify() == VerifiedIdentity("987654", "Paco", entitlement_checked=True)


@pytest.mark.parametrize(
    "answer",
    [
        {"status": 1},
        {"status": "2"},
        {"result": 1},
        {"status": 0, "result": 1, "user": {"userid": "42"}},
        {"status": 1, "result": 0, "user": {"userid": "42"}},
    ],
    ids=["status", "status-text", "result", "result-refuses", "status-refuses"],
)
def test_rejected_or_expired_token_is_401(upstream, answer):
    upstream.get(VERIFY_URL, json=answer)

    with raises_problem("invalid_credentials", 401):
        verify()
    assert len(upstream.calls) == 1  # no profile lookup


def test_status_may_come_as_result_and_as_text(upstream):
    upstream.get(VERIFY_URL, json={"result": "0", "user": {"userid": "42"}})
    upstream.get(PROFILE_URL, json={"nick": "Paco"})

    assert verify().platform_user_id == "42"


def test_token_for_another_game_is_401(upstream):
    def idc(request):  # like IDC: the token belongs to game 1234 only
        game = parse_qs(urlsplit(request.url).query)["idcgameid"]
        return 200, {}, json.dumps(DOCUMENTED_OK if game == ["1234"] else {"status": 1})

    upstream.add_callback(responses.GET, VERIFY_URL, callback=idc)

    with raises_problem("invalid_credentials", 401):
        verify({**CONFIG, "app_id": "9999"})


def test_per_game_urls_and_post_method_with_remapped_fields(upstream):
    upstream.post(
        "https://idc-partner.test/verify",
        json={"ok": "yes", "data": {"id": "u-7", "name": "Lola", "owns": True}},
        match=[
            matchers.json_params_matcher(
                {"app_id": "1234", "user_token": "idctk-abc", "user_id": "uuid-1"}
            ),
            matchers.header_matcher({"Authorization": f"Bearer {SECRET}"}),
        ],
    )
    config = {
        **CONFIG,
        "method": "POST",
        "verify_url": "https://idc-partner.test/verify",
        "status_field": "ok",
        "ok_values": ["yes"],
        "user_id_field": "data.id",
        "display_name_field": "data.name",
        "owns_field": "data.owns",
    }

    assert verify(config) == VerifiedIdentity("u-7", "Lola", entitlement_checked=True)
    assert len(upstream.calls) == 1  # the name came with the answer


POST_CONFIG = {**CONFIG, "method": "POST"}
POST_MATCH = [
    matchers.json_params_matcher(
        {"app_id": "1234", "user_token": "idctk-abc", "user_id": "uuid-1"}
    ),
    matchers.header_matcher({"Authorization": f"Bearer {SECRET}"}),
]


def test_post_method_sends_json_and_the_bearer_secret(upstream):
    upstream.post(VERIFY_URL, json=DOCUMENTED_OK, match=POST_MATCH)
    upstream.get(PROFILE_URL, json={"nick": "Paco"})

    assert verify(POST_CONFIG) == VerifiedIdentity("987654", "Paco", entitlement_checked=True)
    assert upstream.calls[0].request.method == "POST"
    assert "idctk-abc" not in upstream.calls[0].request.url  # in the body, not the query


def test_post_method_rejected_token_is_401(upstream):
    upstream.post(VERIFY_URL, json={"status": 1}, match=POST_MATCH)

    with raises_problem("invalid_credentials", 401):
        verify(POST_CONFIG)
    assert len(upstream.calls) == 1


def test_post_method_timeout_is_503(upstream):
    upstream.post(VERIFY_URL, body=requests.exceptions.ReadTimeout(), match=POST_MATCH)

    with raises_problem("platform_unavailable", 503):
        verify(POST_CONFIG)
    assert len(upstream.calls) == 1  # never retried


@pytest.mark.parametrize("method", ["GET", "POST"])
@pytest.mark.parametrize("status", [401, 403])
def test_verify_refusing_us_is_503_and_alerts(upstream, caplog, method, status):
    upstream.add(method, VERIFY_URL, status=status, json={"error": "forbidden"})

    with (
        caplog.at_level(logging.ERROR, logger="apps.platforms"),
        raises_problem("platform_unavailable", 503),
    ):
        verify({**CONFIG, "method": method})
    assert "ALERT" in caplog.text
    assert SECRET not in caplog.text
    assert len(upstream.calls) == 1  # no profile lookup


def test_owns_field_false_is_403_not_entitled(upstream):
    upstream.get(VERIFY_URL, json={**DOCUMENTED_OK, "owns": 0})

    with raises_problem("not_entitled", 403):
        verify({**CONFIG, "owns_field": "owns"})


def test_owns_field_missing_from_the_answer_is_503(upstream):
    upstream.get(VERIFY_URL, json=DOCUMENTED_OK)

    with raises_problem("platform_unavailable", 503):
        verify({**CONFIG, "owns_field": "owns"})


def test_profile_failure_leaves_the_name_empty(upstream):
    upstream.get(VERIFY_URL, json=DOCUMENTED_OK)
    upstream.get(PROFILE_URL, body=requests.exceptions.ReadTimeout())

    assert verify() == VerifiedIdentity("987654", None, entitlement_checked=True)


def test_profile_lookup_can_be_turned_off(upstream):
    upstream.get(VERIFY_URL, json=DOCUMENTED_OK)

    assert verify({**CONFIG, "fetch_profile": False}).display_name is None
    assert len(upstream.calls) == 1


@pytest.mark.parametrize(
    "answer",
    [
        {"body": requests.exceptions.ReadTimeout()},
        {"body": requests.exceptions.ConnectionError()},
        {"status": 500, "json": {}},
        {"status": 429, "json": {}},
        {"body": "Warning: mysql_connect() failed", "content_type": "text/html"},
        {"json": {"user": {"userid": 1}}},  # no status at all
        {"json": {"status": 0}},  # success without a user
        {"json": [DOCUMENTED_OK]},
        {"json": "OK"},
        {"json": 0},
        {"body": "null", "content_type": "application/json"},
    ],
    ids=[
        "timeout",
        "connection",
        "5xx",
        "429",
        "php-error",
        "no-status",
        "no-user",
        "json-list",
        "json-string",
        "json-number",
        "json-null",
    ],
)
def test_unusable_answer_is_503(upstream, answer):
    upstream.get(VERIFY_URL, **answer)

    with raises_problem("platform_unavailable", 503):
        verify()


@pytest.mark.parametrize(
    "user_id",
    [{"id": 1}, True, False, ["987654"], 9876.5, ""],
    ids=["dict", "true", "false", "list", "float", "empty"],
)
def test_user_id_of_the_wrong_type_is_503(upstream, user_id):
    upstream.get(VERIFY_URL, json={"status": 0, "user": {"userid": user_id}})

    with raises_problem("platform_unavailable", 503):
        verify()
    assert len(upstream.calls) == 1  # no profile lookup


def test_app_secret_never_reaches_the_logs(upstream, caplog):
    upstream.get(VERIFY_URL, json=DOCUMENTED_OK)  # profile URL unregistered: connection error

    verify()

    assert "getUserProfileInfo unusable: ConnectionError" in caplog.text
    assert SECRET not in caplog.text
    assert "idctk-abc" not in caplog.text


@pytest.mark.parametrize("missing", ["app_id", "app_secret"])
def test_missing_config_is_platform_not_configured(upstream, missing):
    config = {key: value for key, value in CONFIG.items() if key != missing}

    with raises_problem("platform_not_configured", 400):
        verify(config)
    assert not upstream.calls


def test_unknown_method_is_platform_not_configured(upstream):
    with raises_problem("platform_not_configured", 400):
        verify({**CONFIG, "method": "PUT"})


@pytest.mark.parametrize("credentials", [{"token": "t"}, {"uuid": "u"}, {"token": 5, "uuid": "u"}])
def test_missing_credential_is_validation_error(upstream, credentials):
    with raises_problem("validation_error", 400):
        verify(CONFIG, credentials)
    assert not upstream.calls


@pytest.mark.parametrize("key", ["verify_url", "profile_url"])
def test_per_game_url_must_be_https(upstream, key):
    with raises_problem("platform_not_configured", 400):
        verify({**CONFIG, key: "http://10.0.0.1/internal"})
    assert not upstream.calls
