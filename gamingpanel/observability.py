"""Error reporting (Sentry) and tracing (OpenTelemetry over OTLP/HTTP): both opt-in, off unless
their setting names where to send (SENTRY_DSN, OTEL_EXPORTER_OTLP_ENDPOINT). Nothing is imported
or started otherwise. Called by the WSGI/ASGI entry points and the Celery app, after settings
and before the first request (docs/guide/monitoring.md).
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from opentelemetry.trace import Span

from gamingpanel.logging import scrub

logger = logging.getLogger(__name__)

# Headers whose values are credentials here, on top of what Sentry already strips by default.
SECRET_HEADERS = ["x-game-key", "x-server-key", "idempotency-key", "stripe-signature"]
# What Sentry's HTTP client integration records of an outbound call besides its URL: the query
# carries platform credentials (Steam's publisher key and the player's ticket, IDCGames'
# secret), so it never leaves; the URL it records has no query.
OUTBOUND_QUERY_DATA = ("http.query", "http.fragment")

_started: set[str] = set()


def setup() -> set[str]:
    """Start what the settings ask for, once per process; returns what is running."""
    if settings.SENTRY_DSN and "sentry" not in _started:
        init_sentry()
        _started.add("sentry")
    if settings.OTEL_EXPORTER_OTLP_ENDPOINT and "otel" not in _started:
        init_tracing()
        _started.add("otel")
    return set(_started)


def sentry_options() -> dict[str, Any]:
    from sentry_sdk.scrubber import DEFAULT_DENYLIST, EventScrubber

    return {
        "dsn": settings.SENTRY_DSN,
        "environment": settings.SENTRY_ENVIRONMENT,
        "traces_sample_rate": settings.SENTRY_TRACES_SAMPLE_RATE,
        # No user, IP, cookies or request bodies: tokens and credentials travel in them.
        "send_default_pii": False,
        "max_request_body_size": "never",
        # No stack frames' local variables: a verifier's frame holds the game's platform
        # secrets (its config, a publisher key, a client secret) and the credential being
        # checked, under names no denylist can foresee.
        "include_local_variables": False,
        "event_scrubber": EventScrubber(denylist=[*DEFAULT_DENYLIST, *SECRET_HEADERS]),
        "before_breadcrumb": scrub_breadcrumb,
        "before_send": scrub_event,
        "before_send_transaction": scrub_event,
    }


def scrub_breadcrumb(crumb: dict[str, Any], hint: object = None) -> dict[str, Any]:
    """An outbound call's breadcrumb without its query; a log line's as the logs scrub it."""
    data = crumb.get("data")
    if isinstance(data, dict):
        for name in OUTBOUND_QUERY_DATA:
            data.pop(name, None)
    if isinstance(crumb.get("message"), str):
        crumb["message"] = scrub(crumb["message"])
    return crumb


def scrub_event(event: dict[str, Any], hint: object = None) -> dict[str, Any]:
    """An error or a transaction as it leaves: the request's query string and URL scrubbed as
    the logs are (a webhook's ?token=), no outbound call's query in its spans or breadcrumbs,
    its message scrubbed."""
    request = event.get("request")
    if isinstance(request, dict):
        for name in ("query_string", "url"):
            if isinstance(request.get(name), str):
                request[name] = scrub(request[name])
    for span in event.get("spans") or ():
        data = span.get("data") if isinstance(span, dict) else None
        if isinstance(data, dict):
            for name in OUTBOUND_QUERY_DATA:
                data.pop(name, None)
    crumbs = event.get("breadcrumbs")
    for crumb in (crumbs.get("values") if isinstance(crumbs, dict) else crumbs) or ():
        if isinstance(crumb, dict):
            scrub_breadcrumb(crumb)
    logentry = event.get("logentry")
    if isinstance(logentry, dict):
        for name in ("message", "formatted"):
            if isinstance(logentry.get(name), str):
                logentry[name] = scrub(logentry[name])
        logentry.pop("params", None)
    if isinstance(event.get("message"), str):
        event["message"] = scrub(event["message"])
    return event


def init_sentry() -> None:
    import sentry_sdk

    # The Django, Celery, Redis and logging integrations turn themselves on when importable.
    sentry_sdk.init(**sentry_options())
    logger.info("sentry error reporting on (environment %s)", settings.SENTRY_ENVIRONMENT)


def tracing_endpoint() -> str:
    """The OTLP/HTTP traces URL: the endpoint as the OpenTelemetry specification reads
    OTEL_EXPORTER_OTLP_ENDPOINT (a base URL), with /v1/traces added."""
    return settings.OTEL_EXPORTER_OTLP_ENDPOINT.rstrip("/") + "/v1/traces"


def init_tracing() -> None:
    from opentelemetry import trace
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.instrumentation.django import DjangoInstrumentor
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor
    from opentelemetry.sdk.trace.sampling import ParentBasedTraceIdRatio

    provider = TracerProvider(
        resource=Resource.create(
            {
                "service.name": settings.OTEL_SERVICE_NAME,
                "deployment.environment": settings.DEPLOYMENT_NAME,
            }
        ),
        sampler=ParentBasedTraceIdRatio(settings.OTEL_TRACES_SAMPLE_RATE),
    )
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=tracing_endpoint())))
    trace.set_tracer_provider(provider)
    # A span per request named by its route; no header is recorded (the instrumentation's
    # default), so neither are tokens or keys, and no query string (redact_query).
    DjangoInstrumentor().instrument(tracer_provider=provider, request_hook=redact_query)
    logger.info("tracing on: OTLP to %s", tracing_endpoint())


REDACTED = "[redacted]"
# Attributes of a span that hold a URL or its query string (the HTTP semantic conventions, old
# and new names). Photon's authentication sends the server key and a player's token in its
# query, Google's push sends its secret there: a trace records the path, never the query.
URL_ATTRIBUTES = ("http.url", "http.target", "url.full", "url.query")


def redact_query(span: Span, request: HttpRequest | None = None) -> None:
    """The Django instrumentation's request hook (it runs once the request's attributes are
    set, before the span can end): the query string of each URL attribute becomes
    `[redacted]`."""
    if not span.is_recording():
        return
    attributes = getattr(span, "attributes", None) or {}
    for name in URL_ATTRIBUTES:
        value = attributes.get(name)
        if not isinstance(value, str) or not value:
            continue
        if name == "url.query":
            span.set_attribute(name, REDACTED)
        elif "?" in value:
            span.set_attribute(name, value.partition("?")[0] + "?" + REDACTED)
