"""JSON log lines carrying the request id, with anything token- or key-shaped scrubbed."""

from __future__ import annotations

import contextvars
import json
import logging
import re
from datetime import UTC, datetime

request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")

_SECRET_PATTERNS = [
    # key=..., ticket=..., token=..., secret=..., password=... in query strings or text (and
    # IDC Games' token and user id, which its API takes as idctk= and idcuuid=)
    re.compile(
        r"(?i)((?:api_?)?key|ticket|token|secret|password|signature|code|apisecret|idctk|idcuuid)"
        r"([=:]\s*\"?)([^&\s\"',}]+)"
    ),
    # The same names as a JSON or Python dict writes them ("refresh_token": "...",
    # 'api_key': '...'); not a bare "code", which is also a problem's or a processor's error code.
    re.compile(
        r"(?i)([\"'](?:[a-z0-9_]*_)?(?:api_?key|apikey|ticket|token|secret|password|signature|idctk)"
        r"[\"'])(\s*:\s*[\"']?)([^&\s\"',}]+)"
    ),
    re.compile(r"(?i)(bearer\s+)([A-Za-z0-9._~+/=-]+)"),
    # Paths named by a secret: a payment's public token is a buyer's checkout and return page
    # (apps/payments/page_urls.py), and anyone holding it may pay or cancel.
    re.compile(r"(/payments/(?:sandbox/checkout|return)/)([^/?#\s\"']+)"),
    re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9._-]+"),  # JWT / JWE compact forms
]


def scrub(text: str) -> str:
    for pattern in _SECRET_PATTERNS:
        if pattern.groups >= 3:
            text = pattern.sub(lambda m: f"{m.group(1)}{m.group(2)}[redacted]", text)
        elif pattern.groups == 2:
            text = pattern.sub(lambda m: f"{m.group(1)}[redacted]", text)
        else:
            text = pattern.sub("[redacted]", text)
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
            record.exc_text = scrub(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
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
