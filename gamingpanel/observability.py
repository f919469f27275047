"""Error reporting (Sentry) and tracing (OpenTelemetry over OTLP/HTTP): both opt-in, off unless
their setting names where to send (SENTRY_DSN, OTEL_EXPORTER_OTLP_ENDPOINT). Nothing is imported
or started otherwise. Called by the WSGI/ASGI entry points and the Celery app, after settings
and before the first request (docs/guide/monitoring.md).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, cast

from django.conf import settings
from django.http import HttpRequest
from opentelemetry.trace import Span

from gamingpanel.logging import REDACTED, scrub

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import ReadableSpan
    from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

logger = logging.getLogger(__name__)

# Headers whose values are credentials here, on top of what Sentry already strips by default.
SECRET_HEADERS = ["x-game-key", "x-server-key", "idempotency-key", "stripe-signature"]
# What Sentry's HTTP client integration records of an outbound call besides its URL: the query
# carries platform credentials (Steam's publisher key and the player's ticket, IDCGames'
# secret), so it never leaves; the URL it records has no query.
OUTBOUND_QUERY_DATA = ("http.query", "http.fragment")
# A header whose name says it carries a credential (the ones above, Sentry's own, a provider's
# `Sandbox-Signature`, whatever a proxy or a client adds): its value never leaves, in an
# error report or a span.
SECRET_HEADER = re.compile(
    r"(?i)key|token|secret|signature|auth|cookie|session|password|passwd|ticket|credential"
)

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
    """A breadcrumb without an outbound call's query, every text in it scrubbed as the logs are
    (a log line's message, a URL's path: a Google Play purchase token is one)."""
    data = crumb.get("data")
    if isinstance(data, dict):
        for name in OUTBOUND_QUERY_DATA:
            data.pop(name, None)
    return scrub_texts(crumb)


def scrub_event(event: dict[str, Any], hint: object = None) -> dict[str, Any]:
    """An error or a transaction as it leaves: no credential header's value, no outbound call's
    query in its spans or breadcrumbs, no log message's arguments apart, and every text in it
    (an exception's message, a request's URL and query string, a span's description, an
    outbound URL's path, extra data) scrubbed as the logs are."""
    request = event.get("request")
    headers = request.get("headers") if isinstance(request, dict) else None
    if isinstance(headers, dict):
        for name in headers:
            if isinstance(name, str) and SECRET_HEADER.search(name):
                headers[name] = REDACTED
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
        logentry.pop("params", None)  # its formatted message is what is kept, scrubbed
    return scrub_texts(event)


def scrub_texts(value: Any) -> Any:
    """Every string in nested dicts and lists, scrubbed in place (keys stay as they are)."""
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, dict):
        for key, item in value.items():
            value[key] = scrub_texts(item)
    elif isinstance(value, list):
        value[:] = [scrub_texts(item) for item in value]
    return value


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
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter
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
    # Every span leaves scrubbed (ScrubbingSpanExporter), whatever recorded it.
    exporter = ScrubbingSpanExporter(OTLPSpanExporter(endpoint=tracing_endpoint()))
    provider.add_span_processor(BatchSpanProcessor(cast(SpanExporter, exporter)))
    trace.set_tracer_provider(provider)
    # A span per request named by its route; no header is recorded (the instrumentation's
    # default; a credential header is redacted if OTEL_INSTRUMENTATION_HTTP_CAPTURE_HEADERS_*
    # asks for it), so neither are tokens or keys, and no query string (redact_query).
    DjangoInstrumentor().instrument(tracer_provider=provider, request_hook=redact_query)
    logger.info("tracing on: OTLP to %s", tracing_endpoint())


# Attributes of a span that hold a URL or its query string (the HTTP semantic conventions, old
# and new names). Photon's authentication sends the server key and a player's token in its
# query, Google's push sends its secret there: a trace records the path, never the query; and a
# payment's checkout and return pages hold its token in their path, scrubbed as the logs do.
URL_ATTRIBUTES = ("http.url", "http.target", "url.full", "url.query")
# What a header captured into a span is called (OTEL_INSTRUMENTATION_HTTP_CAPTURE_HEADERS_*).
HEADER_ATTRIBUTE = re.compile(r"^http\.(?:request|response)\.header\.(?P<name>.+)$")


def redacted_url(name: str, value: str) -> str:
    """A URL attribute's value as a trace may keep it: no query, its path scrubbed."""
    if name == "url.query":
        return REDACTED
    path, mark, _ = value.partition("?")
    return scrub(path) + (mark and "?" + REDACTED)


def redact_query(span: Span, request: HttpRequest | None = None) -> None:
    """The Django instrumentation's request hook (it runs once the request's attributes are
    set, before the span can end): the query string of each URL attribute becomes
    `[redacted]`, and a secret in its path too."""
    if not span.is_recording():
        return
    attributes = getattr(span, "attributes", None) or {}
    for name in URL_ATTRIBUTES:
        value = attributes.get(name)
        if isinstance(value, str) and value and (kept := redacted_url(name, value)) != value:
            span.set_attribute(name, kept)


def scrubbed_attribute(name: str, value: Any) -> Any:
    if isinstance(value, str) and name in URL_ATTRIBUTES:
        return redacted_url(name, value)
    if (header := HEADER_ATTRIBUTE.match(name)) and SECRET_HEADER.search(header["name"]):
        return REDACTED
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, list | tuple):
        return tuple(scrub(item) if isinstance(item, str) else item for item in value)
    return value


def scrubbed_span(span: ReadableSpan) -> ReadableSpan:
    """A finished span as it may leave: every attribute, its events' (an exception's message
    and stack trace) and its status's description scrubbed as the logs are."""
    from opentelemetry.sdk.trace import Event, ReadableSpan
    from opentelemetry.trace import Status

    def attributes(given: Any) -> dict[str, Any]:
        return {name: scrubbed_attribute(name, value) for name, value in (given or {}).items()}

    status = span.status
    if status.description:
        status = Status(status.status_code, scrub(status.description))
    return ReadableSpan(
        name=scrub(span.name),
        context=span.context,
        parent=span.parent,
        resource=span.resource,
        attributes=attributes(span.attributes),
        events=[
            Event(event.name, attributes(event.attributes), event.timestamp)
            for event in span.events
        ],
        links=span.links,
        kind=span.kind,
        status=status,
        start_time=span.start_time,
        end_time=span.end_time,
        instrumentation_scope=span.instrumentation_scope,
    )


class ScrubbingSpanExporter:
    """Wraps the exporter every span leaves through: the request hook sees a request's URL,
    but a span also records what the instrumentation adds after it (an exception's message and
    stack trace as an event and as the status's description: a page's error). Has the SDK's
    SpanExporter methods without subclassing it, so that this module imports no SDK until
    tracing starts."""

    def __init__(self, exporter: SpanExporter) -> None:
        self.exporter = exporter

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        return self.exporter.export([scrubbed_span(span) for span in spans])

    def shutdown(self) -> None:
        self.exporter.shutdown()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return self.exporter.force_flush(timeout_millis)
