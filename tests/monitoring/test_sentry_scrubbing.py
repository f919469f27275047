"""What Sentry receives carries no credential: an outbound platform call's query (Steam's
publisher key and the player's ticket) neither in a breadcrumb nor in a span, an incoming
webhook's ?token= scrubbed, a log message scrubbed. The real SDK builds and sends the events,
through the panel's options, to a transport kept in memory; the platform is a local server."""

from __future__ import annotations

import json
import secrets
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
import requests
import sentry_sdk
from sentry_sdk.envelope import Envelope
from sentry_sdk.transport import Transport

from gamingpanel import observability


class Kept(Transport):
    def __init__(self, options: dict | None = None) -> None:
        super().__init__(options)
        self.sent: list[Envelope] = []

    def capture_envelope(self, envelope: Envelope) -> None:
        self.sent.append(envelope)

    def text(self) -> str:
        return "\n".join(
            json.dumps(item.payload.json) for envelope in self.sent for item in envelope.items
        )


class Platform(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        self.send_response(403)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def platform() -> Iterator[str]:
    server = HTTPServer(("127.0.0.1", 0), Platform)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


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


def test_an_outbound_calls_query_reaches_sentry_in_no_breadcrumb_and_no_span(kept, platform):
    key, ticket = secrets.token_hex(16), secrets.token_hex(24)
    with sentry_sdk.start_transaction(name="login"):
        requests.get(
            f"{platform}/ISteamUserAuth/AuthenticateUserTicket/v1/",
            params={"key": key, "appid": 480, "ticket": ticket},
            timeout=5,
        )
        sentry_sdk.capture_message("our_key_rejected")
    sentry_sdk.flush()

    sent = kept.text()
    assert "AuthenticateUserTicket" in sent  # the call was recorded, by its URL
    assert '"type": "transaction"' in sent or '"spans"' in sent
    assert key not in sent and ticket not in sent


def test_an_incoming_query_and_a_message_are_scrubbed_as_the_logs_are(kept):
    token = secrets.token_hex(16)
    webhook = {"url": "https://panel.example/api/v1/payments/webhooks/google-play"}
    with sentry_sdk.new_scope() as scope:
        # What the Django integration puts on an event of a request (its query string as sent).
        scope.add_event_processor(
            lambda event, hint: {**event, "request": {**webhook, "query_string": f"token={token}"}}
        )
        sentry_sdk.capture_message(f"upstream said token={token}")
    sentry_sdk.flush()

    sent = kept.text()
    assert "google-play" in sent and "upstream said token=" in sent
    assert token not in sent
