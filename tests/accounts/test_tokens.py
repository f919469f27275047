import base64
import json
from datetime import timedelta

import pytest
from django.utils import timezone
from joserfc import jwe
from joserfc.jwk import OctKey

from apps.accounts import tokens as tokens_module
from apps.accounts.errors import InvalidToken, TokenExpired
from apps.accounts.models import AuthSession
from apps.accounts.tokens import PanelAccessToken, decode_access_token, issue_access_token
from tests.accounts.conftest import VALIDATE, assert_problem, bearer
from tests.accounts.server_urls import WHOAMI

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.accounts.server_urls")]

OLD_KEY = "old:" + base64.urlsafe_b64encode(b"o" * 32).decode().rstrip("=")
NEW_KEY = "new:" + base64.urlsafe_b64encode(b"n" * 32).decode().rstrip("=")


def header_of(token: str) -> dict:
    part = token.split(".")[0]
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


def test_access_token_is_a_compact_jwe_around_a_signed_jwt(tokens):
    token = tokens["access_token"]

    parts = token.split(".")
    assert len(parts) == 5 and parts[1] == ""  # dir: no encrypted key
    assert header_of(token) == {"alg": "dir", "enc": "A256GCM", "kid": "local1"}
    assert "alice" not in token and "sub" not in token  # nothing readable inside


def test_claims_carry_player_game_session_permissions_and_expiry(tokens, game):
    claims = decode_access_token(tokens["access_token"])

    session = AuthSession.objects.get()
    assert (claims.player_id, claims.game_id, claims.session_id) == (
        tokens["player"]["id"],
        game.pk,
        session.pk,
    )
    assert claims.permissions == ("player",)
    assert len(claims.jti) == 32
    lifetime = claims.expires_at - timezone.now()
    assert timedelta(seconds=7190) < lifetime <= timedelta(seconds=7200)


def test_the_inner_jwt_is_signed_by_simplejwt(tokens, settings):
    settings.SIMPLE_JWT = {
        **settings.SIMPLE_JWT,
        "SIGNING_KEY": "another-signing-key-of-32-bytes-or-more",
    }
    with pytest.raises(InvalidToken):
        decode_access_token(tokens["access_token"])


def test_expired_token_is_401_token_expired(player):
    issued = issue_access_token(
        player_id=player.pk,
        game_id=player.game_id,
        session_id=1,
        now=timezone.now() - timedelta(hours=2, seconds=1),
    )
    with pytest.raises(TokenExpired):
        decode_access_token(issued.token)
    assert_problem(bearer(issued.token).get(WHOAMI), 401, "token_expired")


def counting_decryptions(monkeypatch) -> list[str]:
    decrypted: list[str] = []
    decrypt = tokens_module.jwe.decrypt_compact

    def counted(raw, *args, **kwargs):
        decrypted.append(raw)
        return decrypt(raw, *args, **kwargs)

    monkeypatch.setattr(tokens_module.jwe, "decrypt_compact", counted)
    return decrypted


def test_a_process_verifies_each_token_once(tokens, player, monkeypatch):
    decrypted = counting_decryptions(monkeypatch)
    other = issue_access_token(player_id=player.pk, game_id=player.game_id, session_id=1).token

    first = decode_access_token(tokens["access_token"])
    assert decode_access_token(tokens["access_token"]) == first
    assert bearer(tokens["access_token"]).get(WHOAMI).status_code == 200
    decode_access_token(other)

    assert decrypted == [tokens["access_token"], other]


def test_a_refused_token_is_never_kept(tokens, monkeypatch):
    decrypted = counting_decryptions(monkeypatch)
    parts = tokens["access_token"].split(".")
    parts[3] = flip(parts[3], len(parts[3]) // 2)
    tampered = ".".join(parts)

    for _ in range(2):
        with pytest.raises(InvalidToken):
            decode_access_token(tampered)
    assert decrypted == [tampered, tampered]


def test_a_kept_token_expires_at_its_exp(tokens, monkeypatch):
    claims = decode_access_token(tokens["access_token"])  # verified and kept

    monkeypatch.setattr(tokens_module, "aware_utcnow", lambda: claims.expires_at)

    with pytest.raises(TokenExpired):
        decode_access_token(tokens["access_token"])
    assert_problem(bearer(tokens["access_token"]).get(WHOAMI), 401, "token_expired")
    monkeypatch.undo()
    assert decode_access_token(tokens["access_token"]) == claims


def flip(text: str, index: int) -> str:
    replacement = "A" if text[index] != "A" else "B"
    return text[:index] + replacement + text[index + 1 :]


@pytest.mark.parametrize("part", [0, 2, 3, 4])
def test_tampering_with_any_part_is_401_invalid_token(tokens, part):
    parts = tokens["access_token"].split(".")
    parts[part] = flip(parts[part], len(parts[part]) // 2)
    tampered = ".".join(parts)

    response = bearer(tampered).get(WHOAMI)

    assert_problem(response, 401, "invalid_token")
    assert response["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize(
    "raw",
    [
        "x",
        "a.b.c",
        "a.b.c.d.e",
        "....",
        "eyJhbGciOiJub25lIn0.e30.",
        "é" * 10,
        "x" * 5000,
        base64.urlsafe_b64encode(b'{"alg":"dir","enc":"A256GCM"}').decode() + "....",
    ],
)
def test_garbage_is_401_invalid_token_never_500(player, raw):
    with pytest.raises(InvalidToken):
        decode_access_token(raw)


def test_a_jwe_with_an_unknown_kid_is_invalid(player):
    foreign = jwe.encrypt_compact(
        {"alg": "dir", "enc": "A256GCM", "kid": "someone-else"}, "{}", OctKey.import_key(b"k" * 32)
    )
    with pytest.raises(InvalidToken):
        decode_access_token(foreign)


def test_a_signed_jwt_outside_the_envelope_is_not_accepted(player):
    jwt = PanelAccessToken()
    jwt["sub"], jwt["gid"], jwt["sid"], jwt["perms"] = str(player.pk), player.game_id, 1, []

    with pytest.raises(InvalidToken):
        decode_access_token(str(jwt))


def test_key_rotation_keeps_old_tokens_valid_until_they_expire(player, settings):
    settings.TOKEN_ENCRYPTION_KEYS = [OLD_KEY]
    old = issue_access_token(player_id=player.pk, game_id=player.game_id, session_id=1).token

    settings.TOKEN_ENCRYPTION_KEYS = [NEW_KEY, OLD_KEY]  # rotate: prepend the new key
    new = issue_access_token(player_id=player.pk, game_id=player.game_id, session_id=1).token

    assert header_of(old)["kid"] == "old" and header_of(new)["kid"] == "new"
    assert decode_access_token(old).player_id == decode_access_token(new).player_id == player.pk

    settings.TOKEN_ENCRYPTION_KEYS = [NEW_KEY]  # the old key retired: its tokens are done
    with pytest.raises(InvalidToken):
        decode_access_token(old)
    assert decode_access_token(new).player_id == player.pk


def test_signing_key_rotation_keeps_old_tokens_valid_while_the_old_key_is_a_fallback(
    player, settings
):
    def issue() -> str:
        return issue_access_token(player_id=player.pk, game_id=player.game_id, session_id=1).token

    def sign_with(key: str) -> None:
        settings.SIMPLE_JWT = {**settings.SIMPLE_JWT, "SIGNING_KEY": key}

    old_key, new_key = "old-signing-key-" + "o" * 32, "new-signing-key-" + "n" * 32
    sign_with(old_key)
    old = issue()

    sign_with(new_key)  # rotate: the old key stays a fallback for its tokens' lifetime
    settings.TOKEN_SIGNING_KEY_FALLBACKS = [old_key]
    new = issue()
    assert decode_access_token(old).player_id == decode_access_token(new).player_id == player.pk

    settings.TOKEN_SIGNING_KEY_FALLBACKS = []  # retired
    with pytest.raises(InvalidToken):
        decode_access_token(old)
    assert decode_access_token(new).player_id == player.pk

    sign_with(old_key)  # a fallback never signs: tokens of the new key need the new key
    settings.TOKEN_SIGNING_KEY_FALLBACKS = [old_key]
    with pytest.raises(InvalidToken):
        decode_access_token(new)


def test_token_of_game_a_never_validates_for_game_b(tokens, other_game):
    from apps.accounts.services import create_server_key

    other_key = create_server_key(game=other_game, name="beta").raw_key
    client = bearer("")
    client.credentials(HTTP_X_SERVER_KEY=other_key)

    response = client.post(VALIDATE, {"token": tokens["access_token"]})

    assert response.json() == {"valid": False, "reason": "wrong_game"}


@pytest.mark.parametrize(
    "keys",
    [[], ["no-colon"], ["k1:c2hvcnQ"], [NEW_KEY, NEW_KEY], [":" + NEW_KEY.split(":")[1]]],
)
def test_malformed_encryption_keys_fail_the_system_check(settings, keys):
    from apps.accounts.checks import token_keys_usable

    settings.TOKEN_ENCRYPTION_KEYS = keys
    assert [error.id for error in token_keys_usable(None)] == ["gamingpanel.E002"]


def test_configured_keys_pass_the_system_check(settings):
    from apps.accounts.checks import token_keys_usable

    settings.TOKEN_ENCRYPTION_KEYS = [NEW_KEY, OLD_KEY]
    assert token_keys_usable(None) == []


@pytest.mark.parametrize("scheme", ["Bearer", "bearer", "BEARER", "bEaReR"])
def test_the_bearer_scheme_is_case_insensitive(tokens, scheme):
    from rest_framework.test import APIClient

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"{scheme} {tokens['access_token']}")

    assert client.get(WHOAMI).status_code == 200
