"""A request no encoding can carry (a lone surrogate in a query value, a client secret outside
Latin-1 in Basic auth) is a 503 platform_unavailable, never sent, and never a 500."""

from __future__ import annotations

import pytest

from apps.platforms.verifiers import get_verifier
from apps.platforms.verifiers.upstream import call
from tests.platforms.helpers import raises_problem

pytestmark = pytest.mark.usefixtures("upstream")

IDC_VERIFY_URL = "https://idc.test/unilogin/getAccessData.php"
IDC_PROFILE_URL = "https://idc.test/unilogin/getUserProfileInfo.php"


def test_a_query_value_utf8_cannot_encode_is_503_and_never_sent(upstream):
    upstream.get(IDC_PROFILE_URL, json={"nick": "Paco"})

    with raises_problem("platform_unavailable", 503):
        call(
            "GET",
            IDC_PROFILE_URL,
            params={"userid": "42\ud800"},
            platform="idcgames",
            operation="getUserProfileInfo",
        )
    assert not upstream.calls


def test_an_idc_user_id_with_a_lone_surrogate_is_503_before_the_profile_call(upstream):
    # JSON may carry "\ud800"; no identity can store it, so the verifier refuses it (503) before
    # sending it on to the profile call. (Login refuses it as well: tests/login.)
    upstream.get(IDC_VERIFY_URL, json={"status": 0, "user": {"userid": "42\ud800"}})
    upstream.get(IDC_PROFILE_URL, json={"nick": "Paco"})

    with raises_problem("platform_unavailable", 503):
        get_verifier("idcgames").verify(
            {"app_id": "1234", "app_secret": "IDCAPISECRET42"}, {"token": "idctk", "uuid": "u-1"}
        )
    assert [c.request.url.split("?")[0] for c in upstream.calls] == [IDC_VERIFY_URL]


def test_a_basic_auth_secret_outside_latin1_is_503_not_a_500(upstream):
    token_url = "https://psn.test/oauth/token"
    upstream.post(token_url, json={"id_token": "x"})
    config = {
        "client_id": "ps-client",
        "client_secret": "ps-secret-€",
        "redirect_uri": "orbis://games",
        "token_url": token_url,
        "jwks_url": "https://psn.test/oauth/jwks",
        "issuer": "https://psn.test",
    }

    with raises_problem("platform_unavailable", 503):
        get_verifier("playstation").verify(config, {"auth_code": "ps-code"})
    assert not upstream.calls
