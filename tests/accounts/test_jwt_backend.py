"""The inner JWT is checked by joserfc (JoseCheckingBackend: its signature check and its claims
registry), not PyJWT: both must give every token the same answer, as simplejwt's stock
AccessToken gives it with the same settings."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import random
import time
from collections.abc import Callable

import jwt as pyjwt
import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from rest_framework_simplejwt.exceptions import ExpiredTokenError, TokenBackendError, TokenError
from rest_framework_simplejwt.tokens import AccessToken

from apps.accounts.tokens import JoseCheckingBackend, PanelAccessToken, _signing_backend


def signing_key() -> str:
    return settings.SIMPLE_JWT["SIGNING_KEY"]


def outcome(make_token: Callable[[str], object], raw: str) -> tuple[str, object]:
    try:
        return "ok", make_token(raw).payload
    except ExpiredTokenError:
        return "expired", None
    except TokenError:
        return "invalid", None
    except (TypeError, ValueError):  # simplejwt's own check of exp: decode_access_token refuses
        return "raised", None


def both(raw: str) -> tuple[tuple[str, object], tuple[str, object]]:
    """(ours, simplejwt's stock AccessToken, checking with PyJWT)."""
    return outcome(PanelAccessToken, raw), outcome(AccessToken, raw)


def claims(**changes: object) -> dict:
    now = int(time.time())
    base = {
        "token_type": "access",
        "exp": now + 600,
        "iat": now - 5,
        "jti": "a" * 32,
        "sub": "7",
        "gid": 1,
        "sid": 3,
        "perms": ["player"],
    }
    base.update(changes)
    return {name: value for name, value in base.items() if value is not DROP}


DROP = object()


def signed(payload: object, *, key: str | None = None, algorithm: str = "HS256") -> str:
    if not isinstance(payload, dict):  # PyJWT only signs objects: sign the bytes ourselves
        return pyjwt.api_jws.encode(
            json.dumps(payload).encode(), key or signing_key(), algorithm=algorithm
        )
    return pyjwt.encode(payload, key or signing_key(), algorithm=algorithm)


def with_header(payload: dict, **header: object) -> str:
    """Signed by hand: PyJWT refuses to sign some headers it refuses to read."""
    head = b64(json.dumps({"alg": "HS256", **header}).encode())
    body = b64(json.dumps(payload).encode())
    mac = hmac.new(signing_key().encode(), f"{head}.{body}".encode(), hashlib.sha256)
    return f"{head}.{body}.{b64(mac.digest())}"


def unencoded_payload(payload: dict) -> str:
    """RFC 7797: `b64: false`, the payload attached as it is and signed as it is."""
    head = b64(json.dumps({"alg": "HS256", "b64": False, "crit": ["b64"]}).encode())
    body = json.dumps(payload)
    mac = hmac.new(signing_key().encode(), f"{head}.{body}".encode(), hashlib.sha256)
    return f"{head}.{body}.{b64(mac.digest())}"


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def test_the_panel_checks_tokens_with_the_joserfc_backend():
    assert isinstance(PanelAccessToken().get_token_backend(), JoseCheckingBackend)


def now() -> int:
    # Read when a case's token is made, not when this module is imported: a full run reaches
    # these tests minutes after collection, and a token "600 s ahead" of import had expired.
    return int(time.time())


CASES = {
    "valid": lambda: signed(claims()),
    "expired": lambda: signed(claims(exp=now() - 1)),
    "expires this second": lambda: signed(claims(exp=int(time.time()))),
    "no exp": lambda: signed(claims(exp=DROP)),
    "exp not a number": lambda: signed(claims(exp="soon")),
    "exp a numeric string": lambda: signed(claims(exp=str(now() + 600))),
    "exp a float": lambda: signed(claims(exp=now() + 600.5)),
    "exp null": lambda: signed(claims(exp=None)),
    "iat in the future": lambda: signed(claims(iat=now() + 600)),
    "iat not a number": lambda: signed(claims(iat="then")),
    "nbf in the future": lambda: signed(claims(nbf=now() + 600)),
    "nbf in the past": lambda: signed(claims(nbf=now() - 600)),
    "nbf not a number": lambda: signed(claims(nbf=[1])),
    "an audience": lambda: signed(claims(aud="someone")),
    "an empty audience": lambda: signed(claims(aud="")),
    "an issuer": lambda: signed(claims(iss="someone")),
    "sub a number": lambda: signed(claims(sub=7)),
    "jti a number": lambda: signed(claims(jti=7)),
    "no jti": lambda: signed(claims(jti=DROP)),
    "a refresh token": lambda: signed(claims(token_type="refresh")),
    "no token type": lambda: signed(claims(token_type=DROP)),
    "another key": lambda: signed(claims(), key="another-key-of-at-least-32-bytes!!"),
    "HS512": lambda: signed(claims(), algorithm="HS512"),
    "HS384": lambda: signed(claims(), algorithm="HS384"),
    "alg none": lambda: b64(b'{"alg":"none"}') + "." + b64(json.dumps(claims()).encode()) + ".",
    "hand-signed": lambda: with_header(claims()),
    "kid a number": lambda: with_header(claims(), kid=5),
    "kid a string": lambda: with_header(claims(), kid="k1"),
    "typ JWT": lambda: with_header(claims(), typ="JWT"),
    "typ a number": lambda: with_header(claims(), typ=1),
    "crit naming an unknown header": lambda: with_header(claims(), crit=["x"], x=1),
    "crit naming a missing header": lambda: with_header(claims(), crit=["x"]),
    "crit not a list": lambda: with_header(claims(), crit="x"),
    "jku": lambda: with_header(claims(), jku="https://example.com/keys"),
    "b64 false": lambda: with_header(claims(), b64=False, crit=["b64"]),
    "b64 false, payload unencoded": lambda: unencoded_payload(claims()),
    "b64 true": lambda: with_header(claims(), b64=True, crit=["b64"]),
    "b64 false without crit": lambda: with_header(claims(), b64=False),
    "crit empty": lambda: with_header(claims(), crit=[]),
    "payload a list": lambda: signed([1, 2]),
    "payload a string": lambda: signed("claims"),
    "payload not JSON": lambda: pyjwt.api_jws.encode(b"not json", signing_key(), algorithm="HS256"),
    "header not JSON": lambda: "bm90IGpzb24." + signed(claims()).split(".", 1)[1],
    "header a list": lambda: b64(b"[1]") + "." + signed(claims()).split(".", 1)[1],
    "two parts": lambda: signed(claims()).rsplit(".", 1)[0],
    "four parts": lambda: signed(claims()) + ".x",
    "empty": lambda: "",
    "junk in the signature": lambda: signed(claims())[:-4] + "!!!!",
    "not base64 at all": lambda: "é.é.é",
}


# Stricter than PyJWT by design: headers no token of ours has.
STRICTER = {"typ a number", "b64 true"}
# Refused by both, in other words: PyJWT takes a numeric string as a time and simplejwt's own
# expiry check then raises (decode_access_token refuses it); joserfc's registry refuses it.
REFUSED_BY_BOTH = {"exp a numeric string"}


@pytest.mark.parametrize("case", list(CASES))
def test_each_token_gets_pyjwts_answer(case):
    ours, stock = both(CASES[case]())

    if case in STRICTER:
        assert stock[0] == "ok" and ours == ("invalid", None)
        return
    if case in REFUSED_BY_BOTH:
        assert stock == ("raised", None) and ours == ("invalid", None)
        return
    assert ours == stock
    if case == "valid":
        assert ours[0] == "ok"
    if case == "expired":
        assert ours[0] == "expired"


def test_a_non_canonical_signature_encoding_is_refused_as_pyjwt_refuses_it():
    token = signed(claims())
    head, signature = token.rsplit(".", 1)
    # 32 bytes are 43 characters whose last carries 2 unused bits: flipping one of them gives
    # a different string that many base64 decoders read as the same bytes.
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    last = alphabet.index(signature[-1])
    twin = f"{head}.{signature[:-1]}{alphabet[last ^ 1]}"

    assert both(twin) == (("invalid", None), ("invalid", None))


def test_padded_segments_pyjwt_tolerates_are_refused():
    """Stricter than PyJWT by design: our tokens are never padded, so a padded one is not ours."""
    token = signed(claims())
    head, signature = token.rsplit(".", 1)
    padded = f"{head}.{signature}="

    ours, stock = both(padded)

    assert stock[0] == "ok" and ours == ("invalid", None)


def test_random_mutations_of_a_valid_token_get_pyjwts_answer():
    token = signed(claims())
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.=+/ "
    rng = random.Random(4)
    disagreements = []
    for _ in range(400):
        chars = list(token)
        for _ in range(rng.randint(1, 3)):
            position = rng.randrange(len(chars))
            action = rng.choice(("replace", "delete", "insert"))
            if action == "replace":
                chars[position] = rng.choice(alphabet)
            elif action == "delete":
                del chars[position]
            else:
                chars.insert(position, rng.choice(alphabet))
        mutated = "".join(chars)
        ours, stock = both(mutated)
        padded_only = "=" in mutated and ours[0] == "invalid"
        if ours != stock and not padded_only:
            disagreements.append(mutated)

    assert disagreements == []


def test_backends_follow_the_signing_key_setting(settings):
    old_key = signing_key()
    first = _signing_backend("HS256", old_key)
    settings.SIMPLE_JWT = {**settings.SIMPLE_JWT, "SIGNING_KEY": "x" * 40}

    second = PanelAccessToken().get_token_backend()

    assert second is not first
    assert outcome(PanelAccessToken, signed(claims(), key="x" * 40))[0] == "ok"
    assert outcome(PanelAccessToken, signed(claims(), key=old_key))[0] == "invalid"


def test_only_hmac_algorithms_are_taken():
    with pytest.raises(ImproperlyConfigured):
        JoseCheckingBackend("RS256", signing_key())


def test_decoding_without_verification_is_simplejwts():
    backend = JoseCheckingBackend("HS256", signing_key())
    foreign = signed(claims(), key="another-key-of-at-least-32-bytes!!")

    assert backend.decode(foreign, verify=False)["sub"] == "7"
    with pytest.raises(TokenBackendError):
        backend.decode(foreign)


def test_an_iat_a_few_seconds_ahead_is_taken_and_expiry_stays_exact(settings):
    """Another web host, its clock a few seconds ahead, issued the token: the client's first
    request after its login must not be refused. Beyond the leeway, or for expiry, no slack."""
    settings.TOKEN_CLOCK_LEEWAY_SECONDS = 5

    assert outcome(PanelAccessToken, signed(claims(iat=now() + 3)))[0] == "ok"
    assert outcome(PanelAccessToken, signed(claims(nbf=now() + 3)))[0] == "ok"
    assert outcome(PanelAccessToken, signed(claims(iat=now() + 30)))[0] == "invalid"
    assert outcome(PanelAccessToken, signed(claims(exp=now() - 1)))[0] == "expired"


def test_no_leeway_refuses_an_iat_ahead(settings):
    settings.TOKEN_CLOCK_LEEWAY_SECONDS = 0

    assert outcome(PanelAccessToken, signed(claims(iat=now() + 3)))[0] == "invalid"


def test_a_token_from_a_host_whose_clock_is_ahead_passes_the_pipeline_check(settings):
    from datetime import timedelta

    from django.utils import timezone

    from apps.accounts.tokens import decode_access_token, issue_access_token

    settings.TOKEN_CLOCK_LEEWAY_SECONDS = 5
    issued = issue_access_token(
        player_id=7, game_id=1, session_id=3, now=timezone.now() + timedelta(seconds=3)
    )

    assert decode_access_token(issued.token).player_id == 7
