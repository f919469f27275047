"""JSON log lines carrying the request id, with anything token- or key-shaped scrubbed."""

from __future__ import annotations

import contextvars
import json
import logging
import re
from datetime import UTC, datetime

request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")

REDACTED = "[redacted]"

# Names whose value is a credential, as a query string, a header or text writes them
# (`key=…`, `X-Server-Key: …`, `password=…`; and IDC Games' token and user id, which its API
# takes as idctk= and idcuuid=).
_NAMED = (
    r"(?:api_?)?key|ticket|token|secret|password|passwd|signature|code|apisecret|idctk|idcuuid"
    r"|sessionid"
)
# The same names as a JSON object or a Python dict or repr writes them: anything ending in one
# ("refresh_token", "publisher_key", "privateKey", "server_auth_code"), but not a bare "key" (a
# save's or a config's name) nor a bare "code" (a problem's or a processor's error code).
_QUOTED_NAME = (
    r"[\"'](?:[a-z0-9_-]+key|[a-z0-9_-]*(?:token|secret|password|passwd|signature|ticket|idctk"
    r"|sessionid|(?:auth|authorization|exchange)[_-]?code))[\"']"
)

# Each pattern's `secret` group (or, without one, the whole match) becomes [redacted].
_SECRET_PATTERNS = [
    # A private key in PEM (an Apple .p8 key, a Google service account's), its line breaks
    # real or escaped, to its END line or the end of the text (a truncated one).
    re.compile(
        r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----.*?"
        r"(?:-----END (?:[A-Z0-9]+ )*PRIVATE KEY-----|$)",
        re.DOTALL,
    ),
    # The password of a URL's user info (redis://:password@host, postgres://user:password@db).
    re.compile(r"(?i)\b[a-z][a-z0-9+.-]*://[^\s/:@\"']*:(?P<secret>[^\s/@\"']+)(?=@)"),
    # An Authorization header's credentials, whatever its scheme (Bearer, Basic, Digest…).
    re.compile(
        r"(?i)\bauthorization[\"']?\s*[:=]\s*[\"']?(?P<secret>(?:[a-z]+\s+)?[A-Za-z0-9._~+/=-]+)"
    ),
    # A signature header's whole value: Stripe's `t=…,v1=…,v0=…` holds commas.
    re.compile(r"(?i)signature[\"']?\s*[=:]\s*[\"']?(?P<secret>[^\s\"'&;]+)"),
    re.compile(rf"(?i)(?:{_NAMED})[=:]\s*[\"']?(?P<secret>[^&\s\"',;}}]+)"),
    # Quoted: the whole quoted value, spaces and escaped quotes included; unquoted: a number,
    # true/false, a bare word.
    re.compile(rf"(?i){_QUOTED_NAME}\s*:\s*\"(?P<secret>(?:[^\"\\]|\\.)*)(?=\"|$)"),
    re.compile(rf"(?i){_QUOTED_NAME}\s*:\s*'(?P<secret>(?:[^'\\]|\\.)*)(?='|$)"),
    re.compile(rf"(?i){_QUOTED_NAME}\s*:\s*(?P<secret>[^\s\"',}}\]{{\[][^\s\"',}}\]]*)"),
    re.compile(r"(?i)\bbearer\s+(?P<secret>[A-Za-z0-9._~+/=-]+)"),
    # Paths named by a secret: a payment's public token is a buyer's checkout and return page
    # (apps/payments/page_urls.py), and anyone holding it may pay or cancel (a route's
    # `<str:token>` or `{token}` stays); a Google Play purchase token is a path segment of the
    # Play Developer API's URLs (…/tokens/<token>:acknowledge).
    re.compile(r"/payments/(?:sandbox/checkout|return)/(?![<{])(?P<secret>[^/?#\s\"']+)"),
    re.compile(
        r"/purchases/(?:products|subscriptions(?:v2)?)/(?:[^/\s]+/)?"
        r"tokens/(?P<secret>[^/?#:\s\"']+)"
    ),
    # Secrets that say what they are, wherever they stand: JWT / JWE compact forms, the panel's
    # server keys (sk_) and refresh tokens (rt_), Stripe's secret, restricted and webhook-signing
    # keys, Google's OAuth access tokens.
    re.compile(
        r"\b(?:eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9._-]+|(?:sk|rt)_[A-Za-z0-9_-]{40,}"
        r"|(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{8,}|whsec_[A-Za-z0-9+/=]{8,}|ya29\.[A-Za-z0-9._-]+)"
    ),
]
# Text holding none of these holds nothing the patterns find: most lines are let through after
# this one search (a 4xx warning's line in about 1 us instead of 20).
_MAY_HOLD_A_SECRET = re.compile(
    r"(?i)key|ticket|token|secret|passw|signature|code|idc|session|authoriz|bearer|://"
    r"|PRIVATE KEY|eyJ|sk_|rt_|rk_|whsec_|ya29\.|/payments/|/tokens/"
)


def _redact(match: re.Match[str]) -> str:
    if "secret" not in match.re.groupindex:
        return REDACTED
    start, end = match.span("secret")
    offset = match.start()
    whole = match.group(0)
    return whole[: start - offset] + REDACTED + whole[end - offset :]


def scrub(text: str) -> str:
    """`text` with every credential it holds replaced by [redacted]: the one scrubbing of the
    logs, of what Sentry receives and of the spans exported (gamingpanel.observability)."""
    if not _MAY_HOLD_A_SECRET.search(text):
        return text
    for pattern in _SECRET_PATTERNS:
        text = pattern.sub(_redact, text)
    return text


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get()
        return True


class ScrubSecretsFilter(logging.Filter):
    """Last line of defence: code should not log secrets, but exception text may carry URLs."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "access", None) is not None:
            return True  # an access line: method, route name and status only (gamingpanel.access)
        record.msg = scrub(record.getMessage())
        record.args = ()
        if record.exc_info and record.exc_info[1] is not None:
            # Formatters write exc_text as it is when it is set; the exception itself stays on
            # the record for Sentry's logging integration, which reports it with its stack
            # trace and scrubs its message there (gamingpanel.observability.scrub_event).
            record.exc_text = scrub(logging.Formatter().formatException(record.exc_info))
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "request_id": getattr(record, "request_id", "-"),
            "message": record.getMessage(),
        }
        if access := getattr(record, "access", None):  # gamingpanel.access: the request's fields
            line.update(access)
        if record.exc_text:
            line["exception"] = record.exc_text
        return json.dumps(line)
