"""A trace records a request's path, never its query string: Photon's authentication carries the
server key and a player's token there, Google's push its secret."""

import json

import pytest
from opentelemetry.instrumentation.django import DjangoInstrumentor
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from rest_framework.test import APIClient

from apps.accounts.services import create_server_key
from gamingpanel.observability import redact_query

pytestmark = pytest.mark.django_db


def test_spans_keep_the_path_and_lose_the_query(game):
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    raw_key = create_server_key(game=game, name="photon").raw_key
    DjangoInstrumentor().instrument(tracer_provider=provider, request_hook=redact_query)
    try:
        client = APIClient()
        client.get(f"/api/v1/multiplayer/photon/authenticate?key={raw_key}&token=ACCESS-SECRET")
        client.post("/api/v1/payments/webhooks/google-play?token=PUSH-SECRET", {}, format="json")
    finally:
        DjangoInstrumentor().uninstrument()

    spans = exporter.get_finished_spans()
    recorded = json.dumps([dict(span.attributes or {}) for span in spans])
    assert len(spans) == 2
    for secret in (raw_key, "ACCESS-SECRET", "PUSH-SECRET"):
        assert secret not in recorded
    assert "/api/v1/multiplayer/photon/authenticate?[redacted]" in recorded
    assert "/api/v1/payments/webhooks/google-play?[redacted]" in recorded
