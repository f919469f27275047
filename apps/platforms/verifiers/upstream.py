"""The one HTTP client every verifier uses: pooled, time-bounded, never retried, quiet about URLs.

Anything that is not a usable answer from a healthy platform (timeout, connection or TLS error,
redirect, 429, 5xx, a body that is not JSON) becomes `503 platform_unavailable`. Callers decide
what a 4xx means for their platform.
"""

from __future__ import annotations

import io
import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from http.cookiejar import DefaultCookiePolicy
from typing import Any

import requests
from django.conf import settings
from urllib3.exceptions import HTTPError as Urllib3Error
from urllib3.util import Timeout

from apps.platforms.errors import PlatformUnavailable
from gamingpanel.outbound import GuardedAdapter, RefusedDestination, check_destination, check_url

logger = logging.getLogger("apps.platforms")

# max_retries=0: a login ticket or an auth code is single-use, so a blind retry can only fail or,
# worse, spend the code twice. The client asks the player's SDK for a fresh one instead.
# GuardedAdapter: a connection goes only to an address checked in the same step
# (gamingpanel/outbound.py), so DNS rebinding cannot reach an internal address.
SESSION = requests.Session()
SESSION.mount("https://", GuardedAdapter(pool_maxsize=32, max_retries=0))
SESSION.mount("http://", GuardedAdapter(pool_maxsize=32, max_retries=0))
# No cookie is kept or sent: the session serves every game and player, so a cookie one answer
# set (IDC's PHP session, say) would otherwise ride with the next login's calls, another
# player's or another game's. No domain is allowed, so the jar takes none.
SESSION.cookies.set_policy(DefaultCookiePolicy(allowed_domains=[]))


class _NoNetrc(requests.auth.AuthBase):
    """Adds nothing. As the session's auth it stops requests from reading the server's netrc
    (`~/.netrc`, `$NETRC`), which would send an entry's password to the platforms it matches
    and put it in place of the Bearer token a call sets; a call's own `auth` still wins.
    (`trust_env` stays on: proxies from the environment are honoured.)"""

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        return request


SESSION.auth = _NoNetrc()


# When the calls of one login must be done (time.monotonic()); None outside a login.
_deadline: ContextVar[float | None] = ContextVar("platform_deadline", default=None)
MIN_CALL_SECONDS = 0.05  # less left than this: answer 503 now rather than start a call
# The most of an answer read into memory: a platform's answers and key sets are a few KB.
MAX_BODY_BYTES = 1 << 20


@contextmanager
def login_deadline(seconds: float) -> Iterator[None]:
    """Every platform call inside shares one budget of `seconds`: a login makes up to three
    calls in a row (Steam, Google Play, Epic with ownership), and a slow platform must give the
    client a 503 within the budget, not after three full timeouts."""
    token = _deadline.set(time.monotonic() + seconds)
    try:
        yield
    finally:
        _deadline.reset(token)


def _timeout(platform: str, operation: str) -> tuple[float, float] | Timeout:
    """(connect, read) from PLATFORM_HTTP_TIMEOUT; inside a login, also a total for the call
    (connect and reads together) of what is left of the login's budget."""
    timeout = settings.PLATFORM_HTTP_TIMEOUT
    connect, read = tuple(timeout) if isinstance(timeout, list | tuple) else (timeout, timeout)
    left = _seconds_left(platform, operation)
    if left is None:
        return connect, read
    return Timeout(connect=min(connect, left), read=min(read, left), total=left)


def _connect_seconds(timeout: tuple[float, float] | Timeout) -> float | None:
    if isinstance(timeout, Timeout):
        connect = timeout.connect_timeout
        return connect if isinstance(connect, int | float) else None
    return timeout[0]


def _seconds_left(platform: str, operation: str) -> float | None:
    deadline = _deadline.get()
    if deadline is None:
        return None
    left = deadline - time.monotonic()
    if left < MIN_CALL_SECONDS:
        raise unavailable(platform, operation, "the login's time budget is spent")
    return left


def unavailable(platform: str, operation: str, reason: str) -> PlatformUnavailable:
    """Log why (never the URL or a credential) and return the error for the caller to raise."""
    logger.warning("%s %s unusable: %s", platform, operation, reason)
    return PlatformUnavailable(f"{platform} is unavailable right now; try again later.")


def our_key_rejected(platform: str, operation: str, status: int) -> PlatformUnavailable:
    """Our own key or client secret was refused: every login of the game fails until fixed."""
    logger.error(
        "ALERT %s %s answered HTTP %s: check the game's %s credentials",
        platform,
        operation,
        status,
        platform,
    )
    return PlatformUnavailable(f"{platform} is unavailable right now; try again later.")


def call(
    method: str,
    url: str,
    *,
    platform: str,
    operation: str,
    stream: bool = False,
    **kwargs: Any,
) -> requests.Response:
    """Send one request with the configured timeout; 503 unless the platform really answered.

    The URL must be https and its host must not resolve to an internal address (unless
    OUTBOUND_ALLOW_PRIVATE): a refusal is a 503 and an ALERT, since only a configuration (a
    per-game URL, a server setting, or DNS) can send us there.

    The answer's body is read here, at most MAX_BODY_BYTES and within the login's budget (a
    503 past either): requests would read it whole, however large, each read bounded by the
    read timeout only, so a body that trickles in held the login past its budget. With
    `stream=True` the caller reads it, with `read_limited`."""
    try:
        check_url(url)
        # The lookup counts against the call's connect time and the login's budget.
        check_destination(url, timeout=_connect_seconds(_timeout(platform, operation)))
    except RefusedDestination as refused:
        logger.error("ALERT %s %s refused before sending: %s", platform, operation, refused)
        raise PlatformUnavailable(
            f"{platform} is unavailable right now; try again later."
        ) from None
    except TimeoutError:
        raise unavailable(platform, operation, "resolving its host timed out") from None
    timeout = _timeout(platform, operation)  # what is left after the lookup
    try:
        response = SESSION.request(
            method,
            url,
            # requests hands a urllib3 Timeout to its adapter, as documented; its stubs omit it.
            timeout=timeout,  # type: ignore[arg-type]
            allow_redirects=False,
            stream=True,
            **kwargs,
        )
    except (requests.RequestException, UnicodeError) as exc:
        # str(exc) carries the full URL, and Steam and IDC put secrets in the query string:
        # log the exception type only, and drop the chain so no handler prints it later.
        # UnicodeError: a value UTF-8 (or, in a header, Latin-1) cannot encode, such as a
        # lone surrogate a platform's JSON named the user by (IDC's userid, sent on to its
        # profile call) or a config value outside Latin-1 in Basic auth or a Bearer header.
        raise unavailable(platform, operation, type(exc).__name__) from None
    status = response.status_code
    if status == 429 or status >= 500 or 300 <= status < 400:
        response.close()
        raise unavailable(platform, operation, f"HTTP {status}")
    if not stream:
        body = read_limited(response, limit=MAX_BODY_BYTES, platform=platform, operation=operation)
        # What requests reads `content`, `text` and `json()` from: the body already read.
        response.raw = io.BytesIO(body)
    return response


def json_body(response: requests.Response, *, platform: str, operation: str) -> Any:
    try:
        return response.json()
    except (ValueError, RecursionError):  # RecursionError: nested deeper than json parses
        raise unavailable(platform, operation, f"HTTP {response.status_code}, not JSON") from None


def json_object(response: requests.Response, *, platform: str, operation: str) -> dict[str, Any]:
    body = json_body(response, platform=platform, operation=operation)
    if not isinstance(body, dict):
        raise unavailable(platform, operation, "JSON is not an object")
    return body


def read_limited(
    response: requests.Response, *, limit: int, platform: str, operation: str
) -> bytes:
    """Read a streamed body, decompressed, refusing one larger than `limit` bytes or still
    arriving at the login's deadline (503). Read whole, the connection goes back to the pool;
    otherwise it is closed."""
    raw = response.raw
    chunks: list[bytes] = []
    size = 0
    try:
        while chunk := raw.read(8192, decode_content=True):
            deadline = _deadline.get()  # a body that trickles in stops at the login's deadline
            if deadline is not None and time.monotonic() > deadline:
                raise unavailable(platform, operation, "the body still came at the deadline")
            size += len(chunk)
            if size > limit:
                raise unavailable(platform, operation, f"body larger than {limit} bytes")
            chunks.append(chunk)
    except (Urllib3Error, OSError) as exc:
        response.close()
        raise unavailable(platform, operation, type(exc).__name__) from None
    except PlatformUnavailable:
        response.close()
        raise
    raw.release_conn()
    return b"".join(chunks)
