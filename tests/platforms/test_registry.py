from __future__ import annotations

import pytest

from apps.platforms.verifiers import PLATFORMS, get_verifier
from apps.platforms.verifiers.base import required_credential
from gamingpanel.errors import InvalidInput
from tests.platforms.helpers import raises_problem


def test_every_platform_has_a_verifier_under_its_own_name():
    assert PLATFORMS == (
        "steam",
        "epic",
        "idcgames",
        "google_play",
        "apple",
        "playstation",
        "nintendo",
        "dev",
    )
    for platform in PLATFORMS:
        verifier = get_verifier(platform)
        assert verifier.name == platform
        assert isinstance(verifier.required_config, tuple)
        assert callable(verifier.verify)


@pytest.mark.parametrize("platform", ["xbox", "", "STEAM", None, ["steam"]])
def test_unknown_platform_is_unsupported(platform):
    with raises_problem("unsupported_platform", 400):
        get_verifier(platform)


@pytest.mark.usefixtures("upstream")
@pytest.mark.parametrize("platform", PLATFORMS)
@pytest.mark.parametrize("credentials", [["ticket"], "ticket", None])
def test_credentials_that_are_not_an_object_are_validation_error(platform, credentials):
    verifier = get_verifier(platform)
    config = {
        key: "https://dummy.test" if key.endswith("_url") else "dummy"
        for key in verifier.required_config
    }

    with raises_problem("validation_error", 400):
        verifier.verify({**config, "sandbox": True}, credentials)


@pytest.mark.parametrize("value", ["4/\ud800", "a\x00b", "\udfff"])
def test_a_credential_with_a_character_no_platform_issues_is_refused_before_any_call(value):
    # A surrogate cannot be encoded into the outbound request (once a 500 for Google Play,
    # IDCGames, PlayStation and Apple), and no column stores U+0000.
    with pytest.raises(InvalidInput) as refused:
        required_credential({"server_auth_code": value}, "server_auth_code")
    assert "server_auth_code" in str(refused.value.detail)
    assert required_credential({"server_auth_code": "4/0Adeu5"}, "server_auth_code") == "4/0Adeu5"
