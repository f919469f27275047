"""What providers send and answer that the panel cannot take as it is: a notification whose id
or payload the event row cannot hold is 400 `invalid_notification` with nothing stored, and a
provider's 200 whose body is not the JSON object its API documents is 503
`payment_provider_unavailable` (as its 5xx is), never a 500."""

import json
import time
import uuid

import pytest
import responses
from django.core.cache import cache

from apps.payments.models import ProviderEvent
from apps.payments.providers.google_play import CERTS_CACHE_KEY
from apps.shop.models import Purchase
from tests.payments.conftest import SESSIONS, post_stripe, stripe_event
from tests.payments.test_apple_server_api import (  # noqa: F401 - fixtures
    BUNDLE,
    PRODUCTION,
    apple,
    chain,
    iap_key,
    post_notification,
)
from tests.payments.test_apple_server_api import redeem as redeem_apple
from tests.payments.test_google_play import (  # noqa: F401 - fixtures
    CERTS_URL,
    PRODUCT,
    TOKEN_URL,
    VOIDED,
    certs,
    google,
    google_signer,
    oidc_google,
    play,
    post_rtdn,
    purchase_state,
    redeem,
    rtdn,
    service_key,
    voided_notice,
)
from tests.shop.helpers import balance

# A 200 that is no JSON object: a proxy's HTML page, a cut-off body, JSON of another shape.
NOT_AN_OBJECT = ["<html><body>Bad gateway</body></html>", '{"purchaseState": 0', "null", "[]", "7"]
# U+0000 and a lone surrogate: PostgreSQL's jsonb holds neither.
UNSTORABLE = ["v\x00", "v\ud800"]


# What the event row's id holds (varchar(255)).
MAX_EVENT_ID_LENGTH = ProviderEvent._meta.get_field("event_id").max_length


def test_the_id_limit_checked_is_the_event_rows_column():
    from apps.payments.providers.base import MAX_EVENT_ID_LENGTH as checked

    assert checked == MAX_EVENT_ID_LENGTH == 255


def test_a_push_with_a_message_id_as_long_as_the_column_is_stored(
    api_client,
    google,  # noqa: F811 - fixture
):
    message_id = "m" * MAX_EVENT_ID_LENGTH
    body = rtdn({"packageName": "com.example.game", "testNotification": {}}, message_id=message_id)

    response = post_rtdn(api_client, body)

    assert response.status_code == 200
    assert ProviderEvent.objects.get().event_id == message_id


@pytest.mark.parametrize(
    "message_id",
    ["m" * (MAX_EVENT_ID_LENGTH + 1), "m" * 5000, "m\x00", "m\udfff"],
    ids=["201-chars", "5000-chars", "nul", "lone-surrogate"],
)
def test_an_authenticated_push_whose_message_id_the_row_cannot_hold_is_400(
    api_client,
    google,  # noqa: F811 - fixture
    message_id,
):
    """Authenticated by the game's push token: the insert failed (value too long for
    varchar(255), or U+0000 in text), a 500 Pub/Sub delivers again for days."""
    body = rtdn({"packageName": "com.example.game", "testNotification": {}}, message_id=message_id)

    response = post_rtdn(api_client, body)

    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/problem+json")
    assert response.json()["code"] == "invalid_notification"
    assert not ProviderEvent.objects.exists()


@pytest.mark.parametrize("text", UNSTORABLE)
@pytest.mark.parametrize("where", ["notification", "key", "envelope"])
def test_an_authenticated_push_holding_an_unstorable_character_is_400(
    api_client,
    google,  # noqa: F811 - fixture
    text,
    where,
):
    notification = {"packageName": "com.example.game", "testNotification": {"version": "1"}}
    if where == "notification":
        notification["testNotification"]["version"] = text
    elif where == "key":
        notification["testNotification"] = {text: "1"}
    body = json.loads(rtdn(notification))
    if where == "envelope":
        body["subscription"] = text

    response = post_rtdn(api_client, json.dumps(body))

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_notification"
    assert not ProviderEvent.objects.exists()


def test_a_voided_notice_holding_u0000_is_refused_before_google_is_asked(
    api_client,
    google,  # noqa: F811 - fixture
    play,  # noqa: F811 - fixture
):
    notice = {
        "packageName": "com.example.game",
        "voidedPurchaseNotification": {"purchaseToken": "tok-1\x00", "refundType": 1},
    }

    response = post_rtdn(api_client, rtdn(notice))

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_notification"
    assert not any(c.request.url.startswith(VOIDED) for c in play.calls)
    assert not ProviderEvent.objects.exists()


def test_a_push_nested_deeper_than_the_panel_stores_is_400(
    api_client,
    google,  # noqa: F811 - fixture
):
    """Authenticated pushes carrying JSON nested as deep as the parser reads were stored, or
    were a 500 when the database's encoder, further down the stack, ran out of recursion (in
    this suite, at about 870 levels: where depends on the stack, so every fourth depth up to
    the parser's limit is tried)."""
    envelope = rtdn({"packageName": "com.example.game", "testNotification": {}})
    answers = set()
    for depth in [65, *range(600, 1000, 4)]:
        deep = "[" * depth + "]" * depth
        response = post_rtdn(api_client, envelope[:-1] + f', "attributes": {deep}}}')
        answers.add((response.status_code, response.json().get("code")))

    assert answers == {(400, "invalid_notification")}
    assert not ProviderEvent.objects.exists()


# --- Stripe and Apple: the same column, the same limit ---


@pytest.mark.parametrize(
    "event_id", ["evt_" + "x" * MAX_EVENT_ID_LENGTH, "evt_\x00"], ids=["259-chars", "nul"]
)
def test_a_signed_stripe_event_whose_id_the_row_cannot_hold_is_400(
    api_client, stripe_account, event_id
):
    """Signed with the game's webhook secret (whoever holds it: the studio)."""
    response = post_stripe(api_client, stripe_event("charge.refunded", {}, event_id=event_id))

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_notification"
    assert not ProviderEvent.objects.exists()


@pytest.mark.parametrize("text", UNSTORABLE)
def test_a_signed_stripe_event_holding_an_unstorable_character_is_400(
    api_client, stripe_account, text
):
    body = stripe_event("charge.refunded", {"description": text}, event_id="evt_nul")

    response = post_stripe(api_client, body)

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_notification"
    assert not ProviderEvent.objects.exists()


@pytest.mark.parametrize(
    "body", [b"[1]", b'"evt"', b"7", b"[" * 5000 + b"]" * 5000], ids=["list", "str", "int", "deep"]
)
def test_a_signed_stripe_body_that_is_no_event_object_is_400(api_client, stripe_account, body):
    """The SDK's construct_event built an event of any signed JSON: an AttributeError on a list,
    a RecursionError nested too deep."""
    response = post_stripe(api_client, body)

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_notification"
    assert not ProviderEvent.objects.exists()


def apple_test_notification(chain, notification_uuid: str) -> str:  # noqa: F811
    notification = {
        "notificationType": "TEST",
        "notificationUUID": notification_uuid,
        "data": {"bundleId": BUNDLE, "environment": "Sandbox"},
        "version": "2.0",
        "signedDate": int(time.time() * 1000),
    }
    return json.dumps({"signedPayload": chain.sign(notification)})


def test_an_apple_notification_with_a_uuid_is_stored(
    api_client,
    apple,  # noqa: F811 - fixture
    chain,  # noqa: F811 - fixture
):
    notification_uuid = str(uuid.uuid4())

    response = post_notification(api_client, apple_test_notification(chain, notification_uuid))

    assert response.status_code == 200
    assert ProviderEvent.objects.get().event_id == notification_uuid


@pytest.mark.parametrize(
    "notification_uuid", ["u" * (MAX_EVENT_ID_LENGTH + 1), "u\x00"], ids=["201-chars", "nul"]
)
def test_an_apple_notification_whose_uuid_the_row_cannot_hold_is_400(
    api_client,
    apple,  # noqa: F811 - fixture
    chain,  # noqa: F811 - fixture
    notification_uuid,
):
    """Signed through the trusted chain (Apple's, in production): the id is still checked."""
    response = post_notification(api_client, apple_test_notification(chain, notification_uuid))

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_notification"
    assert not ProviderEvent.objects.exists()


# --- A provider's 200 that is not its API's JSON object ---


@pytest.mark.parametrize("answer", NOT_AN_OBJECT)
def test_play_answering_a_purchase_that_is_not_json_is_503(
    player_client,
    player,
    real_offer,
    google,  # noqa: F811 - fixture
    play,  # noqa: F811 - fixture
    answer,
):
    play.add(responses.GET, PRODUCT, body=answer, status=200)

    response = redeem(player_client, real_offer)

    assert response.status_code == 503
    assert response.json()["code"] == "payment_provider_unavailable"
    assert not Purchase.objects.exists()
    assert balance(player, "gems") == 0


@pytest.mark.parametrize("answer", ["<html>Service Unavailable</html>", "null", '"ya29.x"'])
def test_googles_token_endpoint_answering_no_json_object_is_503(
    player_client,
    real_offer,
    google,  # noqa: F811 - fixture
    mocked_http,
    answer,
):
    """google-auth failed on it with a TypeError (a 500) before Play was asked."""
    mocked_http.add(responses.POST, TOKEN_URL, body=answer, status=200)

    response = redeem(player_client, real_offer)

    assert response.status_code == 503
    assert response.json()["code"] == "payment_provider_unavailable"
    assert not any(c.request.url == PRODUCT for c in mocked_http.calls)
    assert not Purchase.objects.exists()


@pytest.mark.parametrize(
    "answer",
    [
        *NOT_AN_OBJECT,
        '{"voidedPurchases": 7}',
        '{"voidedPurchases": [], "tokenPagination": "next"}',
    ],
)
def test_play_answering_a_voided_list_that_is_not_json_is_503_and_nothing_stored(
    api_client,
    player_client,
    player,
    real_offer,
    google,  # noqa: F811 - fixture
    play,  # noqa: F811 - fixture
    answer,
):
    """A 503 makes Pub/Sub deliver the push again later, as for Play's 5xx."""
    purchase_state(play)
    assert redeem(player_client, real_offer).status_code == 201
    play.add(responses.GET, VOIDED, body=answer, status=200)

    response = post_rtdn(api_client, voided_notice())

    assert response.status_code == 503
    assert response.json()["code"] == "payment_provider_unavailable"
    assert not ProviderEvent.objects.exists()
    assert Purchase.objects.get().status == "completed"
    assert balance(player, "gems") == 100


def test_googles_certificates_answered_as_no_json_are_503_and_never_cached(
    api_client,
    oidc_google,  # noqa: F811 - fixture
    mocked_http,
    google_signer,  # noqa: F811 - fixture
):
    """Cached, they failed every push for an hour as unauthenticated (400)."""
    mocked_http.add(responses.GET, CERTS_URL, body="<html>Bad gateway</html>", status=200)
    bearer = f"Bearer {google_signer.token()}"
    push = rtdn({"packageName": "com.example.game", "testNotification": {}})

    refused = post_rtdn(api_client, push, query="", HTTP_AUTHORIZATION=bearer)

    assert refused.status_code == 503
    assert refused.json()["code"] == "payment_provider_unavailable"
    assert cache.get(CERTS_CACHE_KEY) is None
    assert not ProviderEvent.objects.exists()
    mocked_http.replace(responses.GET, CERTS_URL, json=google_signer.certs())

    again = post_rtdn(api_client, push, query="", HTTP_AUTHORIZATION=bearer)

    assert again.status_code == 200
    assert ProviderEvent.objects.count() == 1


@pytest.mark.parametrize("answer", ["null", "7", "<html>Bad gateway</html>"])
def test_apple_answering_get_transaction_info_with_no_json_object_is_503(
    player_client,
    real_offer,
    apple,  # noqa: F811 - fixture
    mocked_http,
    answer,
):
    """The library failed on `null` or a number with a TypeError (a 500)."""
    mocked_http.add(responses.GET, PRODUCTION + "2000000123", body=answer, status=200)

    response = redeem_apple(player_client, {"transaction_id": "2000000123"}, real_offer)

    assert response.status_code == 503
    assert response.json()["code"] == "payment_provider_unavailable"
    assert not Purchase.objects.exists()


@pytest.mark.parametrize(
    "answer", ["null", "[]", '"cs_test_1"', "{}", '{"id": "cs_test_1"}', '{"id": 7, "url": "u"}']
)
def test_stripe_answering_no_checkout_session_is_503_and_nothing_is_charged(
    player_client, real_offer, stripe_account, mocked_http, answer
):
    """The SDK hands back any JSON Stripe answers; only a body that is not JSON is its error."""
    mocked_http.add(responses.POST, SESSIONS, body=answer, status=200)

    response = player_client.post(
        "/api/v1/shop/purchase", {"offer_id": real_offer.pk}, HTTP_IDEMPOTENCY_KEY="k1"
    )

    assert response.status_code == 503
    assert response.json()["code"] == "payment_provider_unavailable"
    assert Purchase.objects.get().status == "failed"
