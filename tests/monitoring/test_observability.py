"""Sentry and OpenTelemetry are opt-in: nothing starts without their settings, and with them the
SDKs are started with the configured values. No network: the SDK entry points are replaced."""

from __future__ import annotations

import secrets
import sys
from collections.abc import Iterator
from unittest import mock

import pytest
import sentry_sdk
from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.http import trace_exporter
from opentelemetry.instrumentation.django import DjangoInstrumentor

from gamingpanel import observability


@pytest.fixture(autouse=True)
def fresh() -> Iterator[None]:
    observability._started.clear()
    with (
        mock.patch.object(sentry_sdk, "init") as sentry_init,
        mock.patch.object(trace_exporter, "OTLPSpanExporter") as exporter,
        mock.patch.object(trace, "set_tracer_provider") as set_provider,
        mock.patch.object(DjangoInstrumentor, "instrument") as instrument,
    ):
        fresh.calls = {  # type: ignore[attr-defined]
            "sentry": sentry_init,
            "exporter": exporter,
            "provider": set_provider,
            "instrument": instrument,
        }
        yield
    observability._started.clear()


def calls() -> dict[str, mock.MagicMock]:
    return fresh.calls  # type: ignore[attr-defined]


def test_nothing_starts_without_settings(settings):
    settings.SENTRY_DSN = ""
    settings.OTEL_EXPORTER_OTLP_ENDPOINT = ""

    assert observability.setup() == set()
    for entry_point in calls().values():
        entry_point.assert_not_called()


def test_sentry_starts_with_the_dsn_and_sends_no_personal_data(settings):
    settings.SENTRY_DSN = "https://public@sentry.example/1"
    settings.SENTRY_ENVIRONMENT = "staging"
    settings.SENTRY_TRACES_SAMPLE_RATE = 0.25
    settings.OTEL_EXPORTER_OTLP_ENDPOINT = ""

    assert observability.setup() == {"sentry"}
    assert observability.setup() == {"sentry"}  # once per process

    calls()["sentry"].assert_called_once()
    options = calls()["sentry"].call_args.kwargs
    assert options["dsn"] == "https://public@sentry.example/1"
    assert options["environment"] == "staging"
    assert options["traces_sample_rate"] == 0.25
    assert options["send_default_pii"] is False
    assert options["max_request_body_size"] == "never"
    # The scrubber's own answer, not its list (sentry-sdk 2.7x keeps the names normalised).
    secrets = {
        "X-Game-Key": "game-secret",
        "X-Server-Key": "server-secret",
        "Authorization": "Bearer token-secret",
        "Idempotency-Key": "key-secret",
    }
    event = {"request": {"headers": {**secrets, "Accept": "application/json"}}}
    options["event_scrubber"].scrub_event(event)
    headers = event["request"]["headers"]
    assert all(headers[name] != value for name, value in secrets.items())
    assert headers["Accept"] == "application/json"
    calls()["exporter"].assert_not_called()


def test_tracing_starts_with_the_otlp_endpoint(settings):
    settings.SENTRY_DSN = ""
    settings.OTEL_EXPORTER_OTLP_ENDPOINT = "http://collector.internal:4318/"
    settings.OTEL_SERVICE_NAME = "panel-eu"
    settings.OTEL_TRACES_SAMPLE_RATE = 0.5

    assert observability.setup() == {"otel"}

    calls()["exporter"].assert_called_once_with(endpoint="http://collector.internal:4318/v1/traces")
    provider = calls()["provider"].call_args.args[0]
    assert provider.resource.attributes["service.name"] == "panel-eu"
    assert "0.5" in provider.sampler.get_description()
    calls()["instrument"].assert_called_once()
    # No query string in a trace (tests/monitoring/test_trace_redaction.py).
    assert calls()["instrument"].call_args.kwargs["request_hook"] is observability.redact_query
    calls()["sentry"].assert_not_called()


def test_sentry_events_carry_no_local_variables(settings):
    """A verifier's frame holds the game's platform secrets; an exception event built with the
    panel's options (sentry-sdk's own builder) keeps the frames and none of their variables."""
    from sentry_sdk.utils import event_from_exception

    settings.SENTRY_DSN = "https://public@sentry.example/1"
    # The client's options as sentry_sdk.init would complete them (its defaults, then ours).
    options = {**sentry_sdk.consts.DEFAULT_OPTIONS, **observability.sentry_options()}

    def verify(config: dict) -> None:
        client_secret = config["client_secret"]  # noqa: F841 - the local that must not leave
        raise RuntimeError("upstream answered garbage")

    secret = secrets.token_hex(16)  # made at run time: the source lines sent show no value
    try:
        verify({"client_secret": secret})
    except RuntimeError:
        event, _ = event_from_exception(sys.exc_info(), client_options=options)

    frames = event["exception"]["values"][0]["stacktrace"]["frames"]
    assert any(frame["function"] == "verify" for frame in frames)
    assert all("vars" not in frame for frame in frames)
    assert secret not in repr(event)
