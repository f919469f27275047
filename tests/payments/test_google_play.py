"""Google Play receipts through the Play Developer API, and RTDN refunds."""

import base64
import json
from urllib.parse import parse_qs

import jwt
import pytest
import responses
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from apps.payments.models import Payment, ProviderAccount, ProviderEvent
from apps.shop.models import Purchase
from tests.payments.conftest import committed
from tests.shop.helpers import balance

TOKEN_URL = "https://oauth2.googleapis.com/token"
PRODUCT = (
    "https://androidpublisher.googleapis.com/androidpublisher/v3/applications/com.example.game"
    "/purchases/products/gems_100/tokens/tok-1"
)
RTDN_TOKEN = "push-secret"


@pytest.fixture(scope="module")
def service_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def play_account(game, service_key, *, email: str, rtdn_token: str) -> ProviderAccount:
    """A Google Play account of `game` for com.example.game, not saved yet."""
    pem = service_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    account = ProviderAccount(
        game=game, provider="google_play", config={"package_name": "com.example.game"}
    )
    account.set_secrets(
        {
            "service_account": {
                "client_email": email,
                "private_key": pem,
                "private_key_id": "kid-1",
            },
            "rtdn_token": rtdn_token,
        }
    )
    return account


@pytest.fixture
def google(game, service_key):
    account = play_account(
        game, service_key, email="play@example.iam.gserviceaccount.com", rtdn_token=RTDN_TOKEN
    )
    account.save()
    return account


@pytest.fixture
def play(mocked_http):
    mocked_http.add(responses.POST, TOKEN_URL, json={"access_token": "ya29.x", "expires_in": 3600})
    mocked_http.add(responses.POST, f"{PRODUCT}:consume", body="")
    return mocked_http


def purchase_state(play, **fields):
    body = {"purchaseState": 0, "orderId": "GPA.1234-5678", "purchaseType": 0, **fields}
    play.add(responses.GET, PRODUCT, json=body)


VOIDED = (
    "https://androidpublisher.googleapis.com/androidpublisher/v3/applications/com.example.game"
    "/purchases/voidedpurchases"
)
# purchases.voidedpurchases.list's VoidedPurchase resource, as Google documents it.
VOIDED_ENTRY = {
    "kind": "androidpublisher#voidedPurchase",
    "purchaseToken": "tok-1",
    "purchaseTimeMillis": "1700000000000",
    "voidedTimeMillis": "1700000500000",
    "orderId": "GPA.1234-5678",
    "voidedSource": 0,
    "voidedReason": 1,
    "voidedQuantity": 1,
}


def voided_list(play, entries, *, status=200, next_page=None, match=None):
    body = {
        "pageInfo": {"totalResults": len(entries), "resultPerPage": 1000, "startIndex": 0},
        "voidedPurchases": entries,
    }
    if next_page:
        body["tokenPagination"] = {"nextPageToken": next_page}
    play.add(responses.GET, VOIDED, json=body, status=status, match=match or [])


def redeem(client, offer, token="tok-1"):
    with committed():
        return client.post(
            "/api/v1/shop/receipts",
            {"provider": "google_play", "offer_id": offer.pk, "receipt": {"purchase_token": token}},
            format="json",
        )


def test_a_long_token_without_an_order_id_is_granted_once_not_a_500(
    player_client, player, real_offer, google, play
):
    """A purchase without an orderId (a promo code) is known by its token, which may be longer
    than the purchase key and the payment's id hold: it is stored by its SHA-256, and a replay
    finds it."""
    from apps.payments.models import Payment

    token = "t" * 300
    long_product = PRODUCT.removesuffix("tok-1") + token
    play.add(responses.GET, long_product, json={"purchaseState": 0, "purchaseType": 0})
    play.add(responses.POST, f"{long_product}:consume", body="")

    first = redeem(player_client, real_offer, token=token)
    again = redeem(player_client, real_offer, token=token)

    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == first.json()
    assert balance(player, "gems") == 100
    payment = Payment.objects.get()
    assert payment.external_id.startswith("token-sha256:") and len(payment.external_id) == 77
    assert payment.payment_reference == token


def test_token_is_checked_as_the_service_account_granted_once_and_consumed(
    player_client, player, real_offer, google, play, service_key
):
    purchase_state(play)

    first = redeem(player_client, real_offer)
    again = redeem(player_client, real_offer)

    assert first.status_code == 201
    assert again.status_code == 200
    assert balance(player, "gems") == 100
    token_call = next(c for c in play.calls if c.request.url == TOKEN_URL)
    form = parse_qs(token_call.request.body.decode())
    assert form["grant_type"] == ["urn:ietf:params:oauth:grant-type:jwt-bearer"]
    claims = jwt.decode(
        form["assertion"][0], service_key.public_key(), algorithms=["RS256"], audience=TOKEN_URL
    )
    assert claims["iss"] == "play@example.iam.gserviceaccount.com"
    assert claims["scope"] == "https://www.googleapis.com/auth/androidpublisher"
    get_call = next(c for c in play.calls if c.request.method == "GET")
    assert get_call.request.headers["Authorization"] == "Bearer ya29.x"
    assert sum(c.request.url.endswith(":consume") for c in play.calls) == 1
    payment = Payment.objects.get()
    assert (payment.external_id, payment.payment_reference) == ("GPA.1234-5678", "tok-1")


@pytest.mark.parametrize("state", [1, 2])
def test_cancelled_or_pending_purchase_is_409(
    player_client, player, real_offer, google, play, state
):
    purchase_state(play, purchaseState=state)

    response = redeem(player_client, real_offer)

    assert response.status_code == 409
    assert response.json()["code"] == "receipt_not_paid"
    assert not Purchase.objects.exists()


def test_unknown_token_is_400(player_client, real_offer, google, play):
    play.add(responses.GET, PRODUCT, status=404, json={"error": {"code": 404}})

    response = redeem(player_client, real_offer)

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_receipt"


def test_test_purchases_are_refused_for_a_live_game(player_client, game, real_offer, google, play):
    game.sandbox = False
    game.save()
    purchase_state(play)

    response = redeem(player_client, real_offer)

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_receipt"


def test_play_down_is_503_and_nothing_granted(player_client, player, real_offer, google, play):
    play.add(responses.GET, PRODUCT, status=503)

    response = redeem(player_client, real_offer)

    assert response.status_code == 503
    assert response.json()["code"] == "payment_provider_unavailable"
    assert balance(player, "gems") == 0


def rtdn(payload: dict, message_id: str = "m-1") -> str:
    data = base64.b64encode(json.dumps(payload).encode()).decode()
    return json.dumps({"message": {"data": data, "messageId": message_id}, "subscription": "s"})


def test_voided_purchase_notification_refunds(
    api_client, player_client, player, real_offer, google, play
):
    purchase_state(play)
    redeem(player_client, real_offer)
    voided_list(play, [VOIDED_ENTRY])
    body = rtdn(
        {
            "packageName": "com.example.game",
            "voidedPurchaseNotification": {
                "purchaseToken": "tok-1",
                "orderId": "GPA.1234-5678",
                "productType": 2,
                "refundType": 1,
            },
        }
    )

    with committed():
        response = api_client.post(
            f"/api/v1/payments/webhooks/google-play?token={RTDN_TOKEN}",
            body,
            content_type="application/json",
        )

    assert response.status_code == 200
    assert Purchase.objects.get().status == "refunded"
    assert balance(player, "gems") == 0
    assert ProviderEvent.objects.get().status == "processed"


def test_rtdn_with_the_wrong_push_token_is_400_and_stores_nothing(api_client, google):
    body = rtdn({"packageName": "com.example.game", "testNotification": {"version": "1.0"}})

    response = api_client.post(
        "/api/v1/payments/webhooks/google-play?token=guess", body, content_type="application/json"
    )

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_signature"
    assert not ProviderEvent.objects.exists()


def test_test_notification_is_stored_and_ignored(api_client, google):
    body = rtdn({"packageName": "com.example.game", "testNotification": {"version": "1.0"}})

    with committed():
        response = api_client.post(
            f"/api/v1/payments/webhooks/google-play?token={RTDN_TOKEN}",
            body,
            content_type="application/json",
        )

    assert response.status_code == 200
    assert ProviderEvent.objects.get().status == "ignored"


def voided_notice() -> str:
    return rtdn(
        {
            "packageName": "com.example.game",
            "voidedPurchaseNotification": {
                "purchaseToken": "tok-1",
                "orderId": "GPA.1234-5678",
                "productType": 2,
                "refundType": 1,
            },
        }
    )


@pytest.mark.parametrize("configured", [None, ""])
@pytest.mark.parametrize("query", ["", "?token=", "?token=guess"])
def test_rtdn_for_an_account_without_a_push_token_is_refused_and_changes_nothing(
    api_client, player_client, player, real_offer, google, play, configured, query
):
    purchase_state(play)
    redeem(player_client, real_offer)
    secrets = dict(google.secrets)
    if configured is None:
        secrets.pop("rtdn_token")
    else:
        secrets["rtdn_token"] = configured
    google.set_secrets(secrets)
    google.save()

    with committed():
        response = api_client.post(
            f"/api/v1/payments/webhooks/google-play{query}",
            voided_notice(),
            content_type="application/json",
        )

    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/problem+json")
    assert response.json()["code"] == "invalid_signature"
    assert Purchase.objects.get().status != "refunded"
    assert balance(player, "gems") == 100
    assert not ProviderEvent.objects.exists()


# --- voided purchases are confirmed with the Play Developer API before anything is revoked ---


def post_rtdn(client, body, *, query=f"?token={RTDN_TOKEN}", **headers):
    with committed():
        return client.post(
            f"/api/v1/payments/webhooks/google-play{query}",
            body,
            content_type="application/json",
            **headers,
        )


def test_voided_notice_the_api_does_not_list_revokes_nothing_and_is_logged(
    api_client, player_client, player, real_offer, google, play, caplog
):
    purchase_state(play)
    redeem(player_client, real_offer)
    voided_list(play, [{**VOIDED_ENTRY, "purchaseToken": "someone-elses"}])

    response = post_rtdn(api_client, voided_notice())

    assert response.status_code == 200
    assert Purchase.objects.get().status == "completed"
    assert balance(player, "gems") == 100
    event = ProviderEvent.objects.get()
    assert event.status == "ignored"
    assert "not revoked" in event.outcome
    assert event.payload["confirmation"]["voided"] is False
    assert "not confirmed by the Play Developer API" in caplog.text
    listing = next(c for c in play.calls if c.request.url.startswith(VOIDED))
    assert listing.request.headers["Authorization"] == "Bearer ya29.x"


def test_voided_list_is_paged_until_the_token_is_found(
    api_client, player_client, player, real_offer, google, play
):
    purchase_state(play)
    redeem(player_client, real_offer)
    voided_list(
        play,
        [{**VOIDED_ENTRY, "purchaseToken": "other"}],
        next_page="page-2",
        match=[responses.matchers.query_param_matcher({"type": "0"}, strict_match=False)],
    )
    voided_list(
        play,
        [VOIDED_ENTRY],
        match=[responses.matchers.query_param_matcher({"token": "page-2"}, strict_match=False)],
    )

    response = post_rtdn(api_client, voided_notice())

    assert response.status_code == 200
    assert Purchase.objects.get().status == "refunded"
    assert balance(player, "gems") == 0


def test_voided_list_asks_from_shortly_before_the_notice_within_thirty_days(
    api_client, player_client, real_offer, google, play
):
    import time

    purchase_state(play)
    redeem(player_client, real_offer)
    voided_list(play, [VOIDED_ENTRY])
    event_time = int(time.time() * 1000) - 3_600_000
    body = rtdn(
        {
            "version": "1.0",
            "packageName": "com.example.game",
            "eventTimeMillis": str(event_time),
            "voidedPurchaseNotification": {
                "purchaseToken": "tok-1",
                "orderId": "GPA.1234-5678",
                "productType": 2,
                "refundType": 1,
            },
        }
    )

    post_rtdn(api_client, body)

    listing = next(c for c in play.calls if c.request.url.startswith(VOIDED))
    query = parse_qs(listing.request.url.split("?", 1)[1])
    assert int(query["startTime"][0]) == event_time - 24 * 3600 * 1000
    assert query["type"] == ["0"]


@pytest.mark.parametrize("status", [500, 503, 429])
def test_play_api_unreachable_answers_503_so_pubsub_redelivers(
    api_client, player_client, player, real_offer, google, play, status
):
    purchase_state(play)
    redeem(player_client, real_offer)
    voided_list(play, [], status=status)

    first = post_rtdn(api_client, voided_notice())

    assert first.status_code == 503
    assert first.json()["code"] == "payment_provider_unavailable"
    assert not ProviderEvent.objects.exists()
    assert balance(player, "gems") == 100

    # Pub/Sub delivers the same message again once Google answers.
    play.replace(responses.GET, VOIDED, json={"voidedPurchases": [VOIDED_ENTRY]})
    again = post_rtdn(api_client, voided_notice())

    assert again.status_code == 200
    assert Purchase.objects.get().status == "refunded"
    assert balance(player, "gems") == 0


def test_play_api_connection_error_is_503(api_client, player_client, real_offer, google, play):
    import requests

    purchase_state(play)
    redeem(player_client, real_offer)
    play.add(responses.GET, VOIDED, body=requests.ConnectionError("down"))

    response = post_rtdn(api_client, voided_notice())

    assert response.status_code == 503
    assert not ProviderEvent.objects.exists()


def test_play_api_refusing_the_service_account_is_409_and_stores_nothing(
    api_client, player_client, real_offer, google, play
):
    purchase_state(play)
    redeem(player_client, real_offer)
    voided_list(play, [], status=403)

    response = post_rtdn(api_client, voided_notice())

    assert response.status_code == 409
    assert response.json()["code"] == "payment_provider_not_configured"
    assert not ProviderEvent.objects.exists()


def test_token_endpoint_refusing_the_key_is_409(player_client, real_offer, google, mocked_http):
    mocked_http.add(
        responses.POST,
        TOKEN_URL,
        status=400,
        json={"error": "invalid_grant", "error_description": "Invalid JWT Signature."},
    )

    response = redeem(player_client, real_offer)

    assert response.status_code == 409
    assert response.json()["code"] == "payment_provider_not_configured"
    assert not Purchase.objects.exists()


# --- the buyer a purchase names (setObfuscatedAccountId) must be the redeeming player ---


def test_purchase_made_for_this_player_is_granted(player_client, player, real_offer, google, play):
    from apps.payments.providers.base import player_account_token

    purchase_state(play, obfuscatedExternalAccountId=player_account_token(player.pk))

    response = redeem(player_client, real_offer)

    assert response.status_code == 201
    assert balance(player, "gems") == 100


def test_purchase_made_for_another_player_is_403_and_grants_nothing(
    player_client, player, real_offer, google, play
):
    from apps.payments.providers.base import player_account_token

    purchase_state(play, obfuscatedExternalAccountId=player_account_token(player.pk + 1))

    response = redeem(player_client, real_offer)

    assert response.status_code == 403
    assert response["Content-Type"].startswith("application/problem+json")
    assert response.json()["code"] == "receipt_account_mismatch"
    assert not Purchase.objects.exists()
    assert not Payment.objects.exists()
    assert balance(player, "gems") == 0


# --- Pub/Sub push authentication with Google-signed OIDC tokens ---

CERTS_URL = "https://www.googleapis.com/oauth2/v1/certs"
AUDIENCE = "https://panel.example.com/api/v1/payments/webhooks/google-play"
PUSHER = "pubsub-push@example-project.iam.gserviceaccount.com"


class GoogleSigner:
    """A stand-in for Google's OIDC signing keys, served in v1/certs' {kid: PEM} shape."""

    def __init__(self, kid="google-kid-1"):
        from datetime import UTC, datetime, timedelta

        from cryptography import x509
        from cryptography.hazmat.primitives import hashes
        from cryptography.x509.oid import NameOID

        self.kid = kid
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "accounts.google.com")])
        now = datetime.now(UTC)
        self.cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(self.key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1))
            .not_valid_after(now + timedelta(days=10))
            .sign(self.key, hashes.SHA256())
        )

    def certs(self) -> dict:
        return {self.kid: self.cert.public_bytes(serialization.Encoding.PEM).decode()}

    def token(self, **overrides) -> str:
        import time

        now = int(time.time())
        claims = {
            "aud": AUDIENCE,
            "azp": "113774264463038321964",
            "email": PUSHER,
            "sub": "113774264463038321964",
            "email_verified": True,
            "exp": now + 3600,
            "iat": now,
            "iss": "https://accounts.google.com",
            **overrides,
        }
        claims = {k: v for k, v in claims.items() if v is not None}
        return jwt.encode(claims, self.key, algorithm="RS256", headers={"kid": self.kid})


@pytest.fixture(scope="module")
def google_signer():
    return GoogleSigner()


@pytest.fixture
def oidc_google(google):
    """The game's Play account authenticates pushes with OIDC only (no URL token)."""
    google.config = {**google.config, "push_audience": AUDIENCE, "push_service_account": PUSHER}
    secrets = dict(google.secrets)
    secrets.pop("rtdn_token")
    google.set_secrets(secrets)
    google.save()
    return google


@pytest.fixture
def certs(mocked_http, google_signer):
    mocked_http.add(responses.GET, CERTS_URL, json=google_signer.certs())
    return mocked_http


def test_push_with_a_valid_oidc_token_is_accepted_and_certs_are_fetched_once(
    api_client, oidc_google, certs, google_signer
):
    body = rtdn({"packageName": "com.example.game", "testNotification": {"version": "1.0"}})

    first = post_rtdn(
        api_client, body, query="", HTTP_AUTHORIZATION=f"Bearer {google_signer.token()}"
    )
    second = post_rtdn(
        api_client,
        rtdn({"packageName": "com.example.game", "testNotification": {}}, message_id="m-2"),
        query="",
        HTTP_AUTHORIZATION=f"Bearer {google_signer.token()}",
    )

    assert (first.status_code, second.status_code) == (200, 200)
    assert ProviderEvent.objects.count() == 2
    assert sum(c.request.url == CERTS_URL for c in certs.calls) == 1


def test_oidc_voided_notice_confirmed_by_the_api_refunds(
    api_client, player_client, player, real_offer, oidc_google, play, certs, google_signer
):
    purchase_state(play)
    redeem(player_client, real_offer)
    voided_list(play, [VOIDED_ENTRY])

    response = post_rtdn(
        api_client,
        voided_notice(),
        query="",
        HTTP_AUTHORIZATION=f"Bearer {google_signer.token()}",
    )

    assert response.status_code == 200
    assert Purchase.objects.get().status == "refunded"
    assert balance(player, "gems") == 0


@pytest.mark.parametrize(
    "claims",
    [
        {"aud": "https://elsewhere.example.com/push"},
        {"email": "mallory@evil-project.iam.gserviceaccount.com"},
        {"email_verified": False},
        {"email_verified": None},
        {"iss": "https://evil.example.com"},
        {"exp": 1_600_000_000, "iat": 1_599_996_400},
    ],
    ids=["audience", "email", "unverified-email", "no-email-verified", "issuer", "expired"],
)
def test_push_whose_oidc_token_does_not_match_the_game_is_400(
    api_client, player_client, player, real_offer, oidc_google, play, certs, google_signer, claims
):
    purchase_state(play)
    redeem(player_client, real_offer)
    voided_list(play, [VOIDED_ENTRY])

    response = post_rtdn(
        api_client,
        voided_notice(),
        query="",
        HTTP_AUTHORIZATION=f"Bearer {google_signer.token(**claims)}",
    )

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_signature"
    assert not ProviderEvent.objects.exists()
    assert balance(player, "gems") == 100


@pytest.mark.parametrize("header", [None, "Bearer ", "Bearer not-a-jwt", "Basic abc"])
def test_push_without_a_usable_oidc_token_is_400(api_client, oidc_google, certs, header):
    extra = {"HTTP_AUTHORIZATION": header} if header is not None else {}

    response = post_rtdn(api_client, voided_notice(), query="", **extra)

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_signature"
    assert not ProviderEvent.objects.exists()


def test_a_token_signed_with_a_shared_secret_is_400(api_client, oidc_google, certs, google_signer):
    claims = jwt.decode(google_signer.token(), options={"verify_signature": False})
    forged = jwt.encode(claims, "s" * 32, algorithm="HS256", headers={"kid": google_signer.kid})

    response = post_rtdn(
        api_client, voided_notice(), query="", HTTP_AUTHORIZATION=f"Bearer {forged}"
    )

    assert response.status_code == 400
    assert not ProviderEvent.objects.exists()


def test_a_package_name_that_is_not_text_is_400(api_client, google):
    body = rtdn({"packageName": {"$ne": ""}, "testNotification": {}})

    response = post_rtdn(api_client, body)

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_notification"


def test_token_signed_by_another_key_is_400_even_with_googles_kid(
    api_client, oidc_google, certs, google_signer
):
    forger = GoogleSigner(kid=google_signer.kid)

    response = post_rtdn(
        api_client, voided_notice(), query="", HTTP_AUTHORIZATION=f"Bearer {forger.token()}"
    )

    assert response.status_code == 400
    assert not ProviderEvent.objects.exists()


def test_a_rotated_google_key_is_fetched_again(api_client, oidc_google, certs, google_signer):
    body = rtdn({"packageName": "com.example.game", "testNotification": {"version": "1.0"}})
    assert (
        post_rtdn(
            api_client, body, query="", HTTP_AUTHORIZATION=f"Bearer {google_signer.token()}"
        ).status_code
        == 200
    )
    rotated = GoogleSigner(kid="google-kid-2")
    certs.replace(responses.GET, CERTS_URL, json={**google_signer.certs(), **rotated.certs()})

    response = post_rtdn(
        api_client,
        rtdn({"packageName": "com.example.game", "testNotification": {}}, message_id="m-2"),
        query="",
        HTTP_AUTHORIZATION=f"Bearer {rotated.token()}",
    )

    assert response.status_code == 200
    assert sum(c.request.url == CERTS_URL for c in certs.calls) == 2


def test_googles_certificates_unreachable_is_503(
    api_client, oidc_google, mocked_http, google_signer
):
    mocked_http.add(responses.GET, CERTS_URL, status=503)

    response = post_rtdn(
        api_client, voided_notice(), query="", HTTP_AUTHORIZATION=f"Bearer {google_signer.token()}"
    )

    assert response.status_code == 503
    assert response.json()["code"] == "payment_provider_unavailable"
    assert not ProviderEvent.objects.exists()


def test_half_configured_oidc_refuses_every_push(api_client, oidc_google, certs, google_signer):
    oidc_google.config = {"package_name": "com.example.game", "push_audience": AUDIENCE}
    oidc_google.save()

    response = post_rtdn(
        api_client, voided_notice(), query="", HTTP_AUTHORIZATION=f"Bearer {google_signer.token()}"
    )

    assert response.status_code == 400
    assert not ProviderEvent.objects.exists()


@pytest.mark.parametrize("token_ok,oidc_ok", [(True, False), (False, True)])
def test_with_both_methods_configured_both_must_pass(
    api_client, google, certs, google_signer, token_ok, oidc_ok
):
    google.config = {**google.config, "push_audience": AUDIENCE, "push_service_account": PUSHER}
    google.save()
    token = google_signer.token() if oidc_ok else google_signer.token(aud="https://other")
    query = f"?token={RTDN_TOKEN}" if token_ok else "?token=guess"

    response = post_rtdn(
        api_client,
        rtdn({"packageName": "com.example.game", "testNotification": {}}),
        query=query,
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )

    assert response.status_code == 400
    assert not ProviderEvent.objects.exists()


def test_unknown_key_ids_fetch_googles_certificates_again_at_most_once_a_minute(
    api_client, oidc_google, certs, google_signer
):
    body = rtdn({"packageName": "com.example.game", "testNotification": {}})
    post_rtdn(api_client, body, query="", HTTP_AUTHORIZATION=f"Bearer {google_signer.token()}")

    for n in range(3):
        made_up = GoogleSigner(kid=f"made-up-{n}")
        response = post_rtdn(
            api_client, body, query="", HTTP_AUTHORIZATION=f"Bearer {made_up.token()}"
        )
        assert response.status_code == 400

    assert sum(c.request.url == CERTS_URL for c in certs.calls) == 2


def test_another_games_account_naming_the_same_service_account_gets_no_cached_token(
    google, other_game, play
):
    from apps.payments.errors import ProviderNotConfigured
    from apps.payments.providers.google_play import access_token

    assert access_token(google) == "ya29.x"  # cached for the real key
    impostor = ProviderAccount(
        game=other_game, provider="google_play", config={"package_name": "com.example.game"}
    )
    impostor.set_secrets(
        {
            "service_account": {
                "client_email": "play@example.iam.gserviceaccount.com",  # the victim's
                "private_key": "-----BEGIN PRIVATE KEY-----\njunk\n-----END PRIVATE KEY-----\n",
            }
        }
    )
    impostor.save()

    with pytest.raises(ProviderNotConfigured):
        access_token(impostor)
    assert access_token(google) == "ya29.x"  # the real account still uses its own
    token_calls = [c for c in play.calls if c.request.url.startswith(TOKEN_URL)]
    assert len(token_calls) == 1


class SpyCache:
    """The shared cache as google_play uses it, keeping what is written to it."""

    def __init__(self, real):
        self.real, self.written = real, {}

    def set(self, key, value, *args, **kwargs):
        self.written[key] = value
        return self.real.set(key, value, *args, **kwargs)

    def __getattr__(self, name):
        return getattr(self.real, name)


def token_calls(play):
    return [c for c in play.calls if c.request.url.startswith(TOKEN_URL)]


def test_the_cached_access_token_is_encrypted_in_the_shared_cache(google, play, monkeypatch):
    from apps.payments.providers import google_play

    spy = SpyCache(google_play.cache)
    monkeypatch.setattr(google_play, "cache", spy)

    assert google_play.access_token(google) == "ya29.x"

    [(key, stored)] = [(k, v) for k, v in spy.written.items() if "google-token" in k]
    assert isinstance(stored, str)
    assert "ya29" not in stored  # whoever reads Redis cannot call Google as the studio
    assert "ya29.x" not in repr(spy.real.get(key))
    assert google_play.access_token(google) == "ya29.x"  # from the cache
    assert len(token_calls(play)) == 1


def test_a_cached_token_no_configured_key_opens_is_fetched_again(
    google, play, monkeypatch, settings
):
    from cryptography.fernet import Fernet

    from apps.payments.providers import google_play
    from gamingpanel import crypto

    spy = SpyCache(google_play.cache)
    monkeypatch.setattr(google_play, "cache", spy)
    old_key, new_key = settings.FIELD_ENCRYPTION_KEYS[0], Fernet.generate_key().decode()
    assert google_play.access_token(google) == "ya29.x"
    # The key is rotated: the account's secrets re-encrypted with the new one, the old removed.
    settings.FIELD_ENCRYPTION_KEYS = [new_key, old_key]
    google.secrets_encrypted = crypto.rotate(google.secrets_encrypted)
    google.save()
    settings.FIELD_ENCRYPTION_KEYS = [new_key]

    assert google_play.access_token(google) == "ya29.x"
    assert len(token_calls(play)) == 2  # the unreadable cached copy was a miss

    # A token an older release cached in clear is a miss too, and is overwritten.
    [key] = [k for k in spy.written if "google-token" in k]
    spy.real.set(key, "ya29.left-in-clear", 60)
    assert google_play.access_token(google) == "ya29.x"
    assert len(token_calls(play)) == 3
    assert "ya29" not in spy.real.get(key)


def test_a_consume_lost_to_a_broker_outage_is_sent_again_by_the_replay_and_the_sweeper(
    player_client, player, real_offer, google, play, monkeypatch, django_capture_on_commit_callbacks
):
    from datetime import timedelta

    from apps.payments import tasks
    from apps.payments.services import recovery

    purchase_state(play)
    real_delay = tasks.finish_google_purchase.delay

    def broker_down(*args, **kwargs):
        raise ConnectionError("broker unreachable")

    monkeypatch.setattr(tasks.finish_google_purchase, "delay", broker_down)
    assert redeem(player_client, real_offer).status_code == 201
    payment = Payment.objects.get()
    assert payment.store_finish_due_at is not None  # owed, on the row
    assert not any(c.request.url.endswith(":consume") for c in play.calls)

    monkeypatch.setattr(tasks.finish_google_purchase, "delay", real_delay)
    assert redeem(player_client, real_offer).status_code == 200  # the Play client resends it

    assert sum(c.request.url.endswith(":consume") for c in play.calls) == 1
    payment.refresh_from_db()
    assert payment.store_finish_due_at is None  # done: neither a replay nor a sweep sends more
    redeem(player_client, real_offer)
    with django_capture_on_commit_callbacks(execute=True):
        report = recovery.sweep(
            event_task=tasks.process_provider_event,
            callback_task=tasks.deliver_sandbox_callback,
            finish_task=tasks.finish_google_purchase,
            now=payment.created_at + timedelta(hours=1),
        )
    assert report.store_finishes_requeued == 0
    assert sum(c.request.url.endswith(":consume") for c in play.calls) == 1


def test_the_sweeper_sends_an_owed_consume_with_backoff_then_alerts_when_googles_window_closes(
    player_client, player, real_offer, google, play, monkeypatch, caplog,
    django_capture_on_commit_callbacks,
):  # fmt: skip
    import logging
    from datetime import timedelta

    from apps.payments import tasks
    from apps.payments.services import recovery

    purchase_state(play)
    monkeypatch.setattr(tasks.finish_google_purchase, "delay", lambda *a, **k: None)  # lost
    redeem(player_client, real_offer)
    monkeypatch.undo()
    payment = Payment.objects.get()
    sent = []

    class Recording:
        name = "finish"

        @staticmethod
        def delay(pk):
            sent.append(pk)

    def sweep_at(moment):
        with django_capture_on_commit_callbacks(execute=True):
            return recovery.sweep(
                event_task=Recording, callback_task=Recording, finish_task=Recording, now=moment
            )

    due = payment.store_finish_due_at
    assert due is not None
    assert sweep_at(due - timedelta(seconds=1)).store_finishes_requeued == 0
    assert sweep_at(due).store_finishes_requeued == 1
    assert sweep_at(due + timedelta(seconds=30)).store_finishes_requeued == 0  # backing off
    assert sweep_at(due + timedelta(minutes=2)).store_finishes_requeued == 1
    assert sent == [payment.pk, payment.pk]

    with caplog.at_level(logging.ERROR, logger="apps.payments.services.recovery"):
        late = sweep_at(payment.created_at + timedelta(days=3, hours=1))
    payment.refresh_from_db()
    assert (late.store_finishes_requeued, payment.needs_attention) == (0, True)
    assert payment.store_finish_due_at is None
    assert any("never acknowledged" in r.getMessage() for r in caplog.records)


def test_a_refund_reaches_the_game_whose_purchase_it_is_when_games_share_a_package(
    api_client, game, other_game, other_player, google, play, service_key
):
    from rest_framework.test import APIClient

    from tests.shop.helpers import make_economy, make_offer

    play_account(
        other_game, service_key, email="b@example.iam.gserviceaccount.com", rtdn_token="push-b"
    ).save()
    make_economy(other_game)
    offer = make_offer(
        other_game, real_money=True, price_currency="USD", price_amount=199,
        contents=[{"currency": "gems", "quantity": 100}], google_product_id="gems_100",
    )  # fmt: skip
    buyer = APIClient()
    buyer.force_authenticate(user=other_player)
    purchase_state(play)
    assert redeem(buyer, offer).status_code == 201  # bought in game B
    voided_list(play, [VOIDED_ENTRY])
    voided = {
        "packageName": "com.example.game",
        "voidedPurchaseNotification": {
            "purchaseToken": "tok-1", "orderId": "GPA.1234-5678", "productType": 2,
            "refundType": 1,
        },
    }  # fmt: skip

    # One Pub/Sub message, delivered to each game's subscription (A's first).
    first = post_rtdn(api_client, rtdn(voided, message_id="m-9"))
    second = post_rtdn(api_client, rtdn(voided, message_id="m-9"), query="?token=push-b")

    assert (first.status_code, second.status_code) == (200, 200)
    event = ProviderEvent.objects.get()
    assert (event.game_id, event.status) == (other_game.pk, "processed")
    assert Purchase.objects.get().status == "refunded"
    assert balance(other_player, "gems") == 0


# --- partial refunds: some units of a multi-unit purchase are flagged, not reversed ---


def voided_notice_of(refund_type: int) -> str:
    return rtdn(
        {
            "packageName": "com.example.game",
            "voidedPurchaseNotification": {
                "purchaseToken": "tok-1",
                "orderId": "GPA.1234-5678",
                "productType": 2,
                "refundType": refund_type,
            },
        }
    )


def test_a_partial_refund_of_a_three_unit_purchase_is_flagged_and_keeps_the_grant(
    api_client, player_client, player, real_offer, google, play
):
    purchase_state(play, quantity=3)
    assert redeem(player_client, real_offer).status_code == 201
    assert balance(player, "gems") == 300
    partial = [responses.matchers.query_param_matcher(
        {"includeQuantityBasedPartialRefund": "true"}, strict_match=False
    )]  # fmt: skip
    voided_list(play, [{**VOIDED_ENTRY, "voidedQuantity": 1}], match=partial)

    response = post_rtdn(api_client, voided_notice_of(2))

    assert response.status_code == 200
    purchase = Purchase.objects.get()
    assert (purchase.status, purchase.needs_attention) == ("completed", True)
    assert "partial refund: 1 unit(s) voided" in purchase.note
    assert balance(player, "gems") == 300
    assert Payment.objects.get().status == "succeeded"
    event = ProviderEvent.objects.get()
    assert (event.event_type, event.status) == ("voidedPurchaseNotification/2", "processed")
    assert event.outcome.startswith("flag Google Play partial refund")


def test_three_units_of_a_premium_pass_grant_one_and_flag_the_purchase(
    player_client, player, real_offer, google, play
):
    """A season has one pass: the store charged three, one is granted, and the purchase is
    flagged for an operator to refund two in the store (it completed unflagged)."""
    from datetime import timedelta

    from django.utils import timezone

    from apps.battlepass.models import Season, SeasonPass

    now = timezone.now()
    season = Season.objects.create(
        game=real_offer.game, name="S1", starts_at=now, ends_at=now + timedelta(days=30)
    )
    real_offer.contents = [{"battlepass_premium": season.pk}]
    real_offer.save()
    purchase_state(play, quantity=3)

    assert redeem(player_client, real_offer).status_code == 201

    purchase = Purchase.objects.get()
    assert (purchase.status, purchase.quantity, purchase.needs_attention) == ("completed", 3, True)
    assert "store quantity 3 of a premium pass: one granted, refund 2" in purchase.note
    assert SeasonPass.objects.get(player=player, season=season).premium


def test_a_full_refund_of_a_three_unit_purchase_still_reverses_it(
    api_client, player_client, player, real_offer, google, play
):
    purchase_state(play, quantity=3)
    redeem(player_client, real_offer)
    voided_list(play, [{**VOIDED_ENTRY, "voidedQuantity": 3}])

    response = post_rtdn(api_client, voided_notice_of(1))

    assert response.status_code == 200
    assert Purchase.objects.get().status == "refunded"
    assert balance(player, "gems") == 0
    listing = next(c for c in play.calls if c.request.url.startswith(VOIDED))
    assert "includeQuantityBasedPartialRefund" not in listing.request.url


def test_a_refund_of_an_unknown_type_is_flagged_not_reversed(
    api_client, player_client, player, real_offer, google, play
):
    purchase_state(play)
    redeem(player_client, real_offer)
    voided_list(play, [VOIDED_ENTRY])

    post_rtdn(api_client, voided_notice_of(7))

    purchase = Purchase.objects.get()
    assert (purchase.status, purchase.needs_attention) == ("completed", True)
    assert balance(player, "gems") == 100


# --- a disabled account stops new receipts, not the refunds of what it sold ---


def test_a_refund_after_the_account_was_disabled_is_still_processed(
    api_client, player_client, player, real_offer, google, play
):
    purchase_state(play)
    assert redeem(player_client, real_offer).status_code == 201
    ProviderAccount.objects.filter(pk=google.pk).update(enabled=False)
    voided_list(play, [VOIDED_ENTRY])

    response = post_rtdn(api_client, voided_notice())

    assert response.status_code == 200
    assert Purchase.objects.get().status == "refunded"
    assert balance(player, "gems") == 0
    assert ProviderEvent.objects.get().status == "processed"
    # Disabled, it redeems no new receipt.
    refused = redeem(player_client, real_offer, token="tok-2")
    assert refused.status_code == 409
    assert refused.json()["code"] == "payment_provider_not_configured"


def test_a_disabled_accounts_push_token_still_only_authenticates_its_own_pushes(api_client, google):
    ProviderAccount.objects.filter(pk=google.pk).update(enabled=False)
    body = rtdn({"packageName": "com.example.game", "testNotification": {"version": "1.0"}})

    assert post_rtdn(api_client, body, query="?token=guess").status_code == 400
    assert post_rtdn(api_client, body).status_code == 200


# --- The admin: purchase tokens shown masked --------------------------------------------------

# A purchase token as Google hands them out: long, opaque, a credential for the purchase.
LONG_TOKEN = "fmkbcnamoplgdpjdnkfdjbde.AO-J1OzYx" + "Qw8" * 40 + "Zr9w"


def redeem_orderless(player_client, real_offer, play):
    """A purchase without an orderId (a promo code): the payment is known by its token."""
    long_product = PRODUCT.replace("tok-1", LONG_TOKEN)
    play.add(responses.GET, long_product, json={"purchaseState": 0, "purchaseType": 0})
    play.add(responses.POST, f"{long_product}:consume", body="")
    assert redeem(player_client, real_offer, token=LONG_TOKEN).status_code == 201
    payment = Payment.objects.get()
    assert payment.external_id == payment.payment_reference == LONG_TOKEN
    return payment


def test_the_payment_admin_masks_a_purchase_token_and_still_finds_a_payment_by_it(
    admin_client, player_client, real_offer, google, play
):
    from gamingpanel.crypto import mask

    payment = redeem_orderless(player_client, real_offer, play)
    event = ProviderEvent.objects.create(
        game=payment.game,
        provider="google_play",
        event_id="m-1",
        event_type="voidedPurchaseNotification/1",
        payload={},
        payment=payment,
    )
    change = f"/admin/payments/payment/{payment.pk}/change/"

    for url in (
        change,
        f"/admin/payments/payment/{payment.pk}/history/",
        "/admin/payments/payment/",
        f"/admin/payments/providerevent/{event.pk}/change/",
    ):
        page = admin_client.get(url)
        assert page.status_code == 200, url
        assert LONG_TOKEN not in page.content.decode(), url
    assert mask(LONG_TOKEN) in admin_client.get(change).content.decode()

    found = admin_client.get("/admin/payments/payment/", {"q": LONG_TOKEN}).content.decode()
    assert change in found  # searching by the whole token still finds it


def test_the_notification_admin_masks_the_purchase_tokens_it_holds(admin_client, game):
    from gamingpanel.crypto import mask

    notice = {
        "version": "1.0",
        "packageName": "com.example.game",
        "voidedPurchaseNotification": {"purchaseToken": LONG_TOKEN, "refundType": 1},
    }
    data = base64.b64encode(json.dumps(notice).encode()).decode()
    event = ProviderEvent.objects.create(
        game=game,
        provider="google_play",
        event_id="m-2",
        event_type="voidedPurchaseNotification/1",
        payload={
            "message": {"data": data, "messageId": "m-2"},
            "decoded": notice,
            "confirmation": {"voided": True, "voidedPurchase": {"purchaseToken": LONG_TOKEN}},
        },
        status=ProviderEvent.Status.UNMATCHED,
        reference=LONG_TOKEN,
    )

    page = admin_client.get(f"/admin/payments/providerevent/{event.pk}/change/").content.decode()
    listed = admin_client.get("/admin/payments/providerevent/").content.decode()

    assert LONG_TOKEN not in page and LONG_TOKEN not in listed
    assert data[:40] not in page  # the base64 message carries the same token
    assert mask(LONG_TOKEN) in page
    assert "com.example.game" in page and "voidedPurchaseNotification" in page


def test_the_tasks_a_purchase_queues_carry_ids_not_its_token(
    player_client, real_offer, google, play, monkeypatch
):
    from celery import Task
    from kombu.serialization import dumps

    sent = []
    real_apply_async = Task.apply_async

    def recording(task, args=None, kwargs=None, *rest, **options):
        sent.append((task.name, dumps([args or [], kwargs or {}], serializer="json")[2]))
        return real_apply_async(task, args, kwargs, *rest, **options)

    monkeypatch.setattr(Task, "apply_async", recording)

    redeem_orderless(player_client, real_offer, play)

    assert "apps.payments.tasks.finish_google_purchase" in [name for name, _ in sent]
    for name, body in sent:
        assert LONG_TOKEN not in body, name  # the broker's copy of the message
        assert "ya29" not in body, name
