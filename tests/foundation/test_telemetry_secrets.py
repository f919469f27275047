"""What leaves for Sentry and for the OpenTelemetry collector carries no credential: an
exception's message, an outbound call's path (a Google Play purchase token), a header named for
a credential, a payment page's token in its path. Sentry's real SDK builds and sends the events
through the panel's options to a transport kept in memory; the tracing is the panel's own
(observability.init_tracing) with its OTLP exporter kept in memory."""

from __future__ import annotations

import json
import logging
import secrets
from collections.abc import Callable, Iterator
from unittest import mock

import pytest
import requests
import sentry_sdk
from django.http import HttpRequest, HttpResponse
from django.test import Client
from django.urls import path
from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.http import trace_exporter
from opentelemetry.instrumentation.django import DjangoInstrumentor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from gamingpanel import observability
from tests.monitoring.test_sentry_scrubbing import Kept, platform  # noqa: F401 (a fixture)

# Made at import: the source lines an exception's stack trace shows name it, never its value.
PUBLISHER_KEY = secrets.token_hex(16)


def platform_call_failed(request: HttpRequest) -> HttpResponse:
    """A page whose platform call failed, as requests words it: the URL, query and all."""
    raise requests.ConnectionError(
        "HTTPSConnectionPool(host='partner.steam-api.com', port=443): Max retries exceeded "
        f"with url: /ISteamUser/CheckAppOwnership/v4/?key={PUBLISHER_KEY}&steamid=7656"
    )


urlpatterns = [path("platform-check/", platform_call_failed)]


@pytest.fixture
def kept(settings) -> Iterator[Kept]:
    settings.SENTRY_DSN = "https://public@sentry.example/1"
    settings.SENTRY_TRACES_SAMPLE_RATE = 1.0
    transport = Kept()
    sentry_sdk.init(**observability.sentry_options(), transport=transport)
    try:
        yield transport
    finally:
        sentry_sdk.get_client().close()
        sentry_sdk.get_global_scope().set_client(None)  # Sentry is off again for other tests


def test_an_exception_s_message_reaches_sentry_scrubbed(kept):
    key = secrets.token_hex(16)

    def platform_call() -> None:
        raise requests.ConnectionError(f"Max retries exceeded with url: /v1/?key={key}&appid=480")

    try:
        platform_call()
    except requests.ConnectionError:
        sentry_sdk.capture_exception()  # as the Django and Celery integrations report one
    try:
        platform_call()
    except requests.ConnectionError:
        logging.getLogger("apps.platforms").exception("steam CheckAppOwnership failed")
    sentry_sdk.flush()

    sent = kept.text()
    assert sent.count('"type": "ConnectionError"') == 2  # both reported, as what they were
    assert "Max retries exceeded with url: /v1/?key=[redacted]&appid=480" in sent
    assert key not in sent


def test_an_outbound_call_s_path_token_reaches_sentry_scrubbed(kept, platform):  # noqa: F811
    purchase_token = secrets.token_urlsafe(24)
    with sentry_sdk.start_transaction(name="finish_google_purchase"):
        requests.post(
            f"{platform}/androidpublisher/v3/applications/com.studio.game/purchases/products/"
            f"gems/tokens/{purchase_token}:acknowledge",
            timeout=5,
        )
        sentry_sdk.capture_message("not acknowledged")
    sentry_sdk.flush()

    sent = kept.text()
    assert "purchases/products/gems/tokens/[redacted]:acknowledge" in sent  # breadcrumb, span
    assert purchase_token not in sent


def test_a_header_named_for_a_credential_reaches_sentry_redacted(kept):
    signature, hub = secrets.token_hex(16), secrets.token_hex(16)
    headers = {
        "Sandbox-Signature": f"t=1700000000,v1={signature}",
        "X-Hub-Signature-256": f"sha256={hub}",
        "Accept": "application/json",
    }
    with sentry_sdk.new_scope() as scope:
        # What the Django integration puts on an event of a request: its headers as sent.
        scope.add_event_processor(
            lambda event, hint: {
                **event,
                "request": {"url": "https://panel.example/x", "headers": headers},
            }
        )
        sentry_sdk.capture_message("webhook refused")
    sentry_sdk.flush()

    sent = json.loads(kept.text())
    assert sent["request"]["headers"]["Accept"] == "application/json"
    assert signature not in kept.text() and hub not in kept.text()


@pytest.fixture
def exported(settings) -> Iterator[Callable[[], str]]:
    """The panel's tracing as init_tracing starts it, its OTLP exporter kept in memory: every
    span exported meanwhile, as JSON text."""
    settings.OTEL_EXPORTER_OTLP_ENDPOINT = "http://collector.invalid:4318"
    memory = InMemorySpanExporter()
    with (
        mock.patch.object(trace_exporter, "OTLPSpanExporter", return_value=memory),
        mock.patch.object(trace, "set_tracer_provider") as set_provider,
    ):
        observability.init_tracing()
    provider = set_provider.call_args.args[0]

    def spans() -> str:
        provider.force_flush()
        finished = memory.get_finished_spans()
        assert finished, "no span was exported"
        return "\n".join(span.to_json() for span in finished)

    try:
        yield spans
    finally:
        DjangoInstrumentor().uninstrument()
        provider.shutdown()


@pytest.mark.django_db
def test_a_payment_page_s_token_is_in_no_span(exported):
    token = secrets.token_urlsafe(32)

    Client().get(f"/payments/return/{token}")
    Client().get(f"/payments/sandbox/checkout/{token}?from=game")

    sent = exported()
    assert "/payments/return/[redacted]" in sent
    assert "/payments/sandbox/checkout/[redacted]?[redacted]" in sent
    assert token not in sent


@pytest.mark.urls(__name__)
def test_a_page_s_exception_reaches_a_span_scrubbed(exported):
    """The instrumentation records a page's exception (its message and stack trace, as an
    event and as the span's status) after any hook could see it."""
    response = Client(raise_request_exception=False).get("/platform-check/")

    sent = exported()
    assert response.status_code == 500
    assert '"exception.type": "requests.exceptions.ConnectionError"' in sent
    assert "CheckAppOwnership/v4/?key=[redacted]&steamid=7656" in sent
    assert PUBLISHER_KEY not in sent
