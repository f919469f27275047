"""Where the server may connect: the one guard every outbound caller uses (issue 14 item 7).

A URL an operator types into a game's config (a key set, a token endpoint) or a client names (a
Game Center key) must not make the server reach its own network: the cloud metadata service,
the database, an admin port. So:

- `check_url` (static, at save time and before each request): `https`, a host name, no user
  info, the host on the allow-list the caller passes, and an IP-literal host never internal;
- `check_destination` (before each request): every address the host resolves to is public;
- `GuardedAdapter` (at connect time): the connection goes only to an address resolved and
  checked in that same step, so a name that resolves to a public address for the check and to
  127.0.0.1 a moment later (DNS rebinding) is still refused.

"Internal" is loopback, private (RFC 1918, ULA), link-local (169.254/16, fe80::/10, where cloud
metadata lives), carrier-grade NAT, multicast, reserved and unspecified addresses, and IPv6
forms that embed one (IPv4-mapped, NAT64). `OUTBOUND_ALLOW_PRIVATE` turns the address checks off
for a deployment that means it (local fakes, tests); the https and host rules stay.
"""

from __future__ import annotations

import ipaddress
import logging
import re
import socket
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, NameResolutionError, NewConnectionError
from urllib3.util import connection, parse_url

logger = logging.getLogger("gamingpanel.outbound")

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
NAT64 = ipaddress.ip_network("64:ff9b::/96")


class RefusedDestination(Exception):
    """Why a URL may not be fetched. The message names the host, never the whole URL (a query
    string may carry a key)."""


def allow_private() -> bool:
    return bool(settings.OUTBOUND_ALLOW_PRIVATE)


def host_matches(host: str, patterns: Iterable[str]) -> bool:
    """`host` is one of `patterns`: an exact name, or `*.example.com` for any name under it."""
    host = host.lower().rstrip(".")
    for raw in patterns:
        pattern = raw.strip().lower().rstrip(".")
        if pattern.startswith("*."):
            if host.endswith(pattern[1:]) and len(host) > len(pattern) - 1:
                return True
        elif pattern and host == pattern:
            return True
    return False


def is_internal(address: str | IPAddress) -> bool:
    """Loopback, private, link-local, shared, multicast, reserved or unspecified; an IPv6
    address embedding an IPv4 one is judged by that one."""
    ip = ipaddress.ip_address(address.split("%", 1)[0]) if isinstance(address, str) else address
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return is_internal(ip.ipv4_mapped)
        if ip in NAT64:
            return is_internal(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
    return (
        not ip.is_global
        or ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
    )


def _ip_literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


# A host name as it is connected to: labels of letters, digits, hyphens (and underscores), dots
# between. Python's URL parser takes any character in a host, where requests (urllib3) ends the
# host at a backslash: "https://evil.test\.example.com/" read as a host under example.com was
# sent to evil.test.
HOST_NAME = re.compile(
    r"[a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?(?:\.[a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?)*"
)


def check_url(url: str, *, hosts: Sequence[str] | None = None) -> str:
    """The URL's host when it is `https`, names a host (on `hosts`, when given) and no user
    info, and is not an internal IP literal; else RefusedDestination saying why. The host is
    the one requests connects to: a URL the two parsers read differently is refused."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a port that is not a number
        connected_to = (parse_url(url).host or "").strip("[]").rstrip(".").lower()
    except ValueError:
        raise RefusedDestination("it is not a valid URL") from None
    if parts.scheme.lower() != "https":
        raise RefusedDestination("it must be an https:// URL")
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise RefusedDestination("it names no host")
    if parts.username is not None or parts.password is not None:
        raise RefusedDestination("it must not carry a user name or password")
    if (_ip_literal(host) is None and not HOST_NAME.fullmatch(host)) or connected_to != host:
        raise RefusedDestination(f"{host!r} is not a host name")
    if hosts is not None and not host_matches(host, hosts):
        allowed = ", ".join(hosts) or "none"
        raise RefusedDestination(f"the host {host} is not an allowed host ({allowed})")
    literal = _ip_literal(host)
    if literal is not None and is_internal(literal) and not allow_private():
        raise RefusedDestination(f"{host} is an internal address")
    return host


def resolve(host: str, port: int) -> list[str]:
    """Every address `host` resolves to (tests replace this)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


# The system resolver takes no timeout (glibc waits 5 s per try, several tries) and urllib3's
# timeouts do not cover it: a lookup runs on one of these threads and its caller waits at most
# its timeout. A lookup still running after that finishes on its own thread.
_RESOLVER = ThreadPoolExecutor(max_workers=4, thread_name_prefix="gp-resolve")


def resolve_within(host: str, port: int, timeout: float | None) -> list[str]:
    """`resolve`, waiting at most `timeout` seconds (TimeoutError); None waits as long as it takes."""
    if timeout is None:
        return resolve(host, port)
    lookup = _RESOLVER.submit(resolve, host, port)
    try:
        return lookup.result(timeout=max(timeout, 0.0))
    except FutureTimeout:
        raise TimeoutError(f"resolving {host} took longer than {timeout:.1f} s") from None


def check_destination(
    url: str, *, unresolvable_ok: bool = True, timeout: float | None = None
) -> None:
    """Every address the URL's host resolves to must be public, unless OUTBOUND_ALLOW_PRIVATE.

    A name that does not resolve is let through by default: the request fails on its own,
    and the guarded connection checks whatever it resolves to then. A lookup slower than
    `timeout` raises TimeoutError."""
    if allow_private():
        return
    parts = urlsplit(url)
    host = (parts.hostname or "").rstrip(".")
    try:
        addresses = resolve_within(host, parts.port or 443, timeout)
    except TimeoutError:
        raise
    except (OSError, UnicodeError):
        if unresolvable_ok:
            return
        raise RefusedDestination(f"{host} does not resolve") from None
    internal = [address for address in addresses if is_internal(address)]
    if internal:
        raise RefusedDestination(f"{host} resolves to an internal address ({internal[0]})")


class _GuardedConnection(HTTPConnection):
    """Connects only to an address it resolved and found public in the same step."""

    def _new_conn(self) -> socket.socket:
        # Through a proxy, the socket goes to the proxy and the proxy resolves the origin:
        # the origin was checked by check_destination before the request.
        if allow_private() or getattr(self, "_tunnel_host", None):
            return super()._new_conn()
        connect_timeout = self.timeout if isinstance(self.timeout, int | float) else None
        try:
            addresses = resolve_within(self._dns_host, self.port, connect_timeout)
        except TimeoutError as exc:
            raise ConnectTimeoutError(self, f"Resolving {self.host} timed out.") from exc
        except socket.gaierror as exc:
            raise NameResolutionError(self.host, self, exc) from exc
        internal = [address for address in addresses if is_internal(address)]
        if internal or not addresses:
            logger.error(
                "ALERT outbound connection to %s refused: it resolves to an internal address "
                "(%s); set OUTBOUND_ALLOW_PRIVATE only if this deployment means it",
                self.host,
                internal[0] if internal else "none",
            )
            raise NewConnectionError(self, f"refused: {self.host} resolves to an internal address")
        error: OSError | None = None
        for address in addresses:
            try:
                return connection.create_connection(
                    (address, self.port),
                    self.timeout,
                    source_address=self.source_address,
                    socket_options=self.socket_options,
                )
            except TimeoutError as exc:
                raise ConnectTimeoutError(
                    self, f"Connection to {self.host} timed out. (connect timeout={self.timeout})"
                ) from exc
            except OSError as exc:
                error = exc
        raise NewConnectionError(self, f"Failed to establish a new connection: {error}")


class GuardedHTTPConnection(_GuardedConnection):
    pass


class GuardedHTTPSConnection(_GuardedConnection, HTTPSConnection):
    """TLS still checks the certificate against the host name, not the address."""


class GuardedHTTPConnectionPool(HTTPConnectionPool):
    ConnectionCls = GuardedHTTPConnection


class GuardedHTTPSConnectionPool(HTTPSConnectionPool):
    ConnectionCls = GuardedHTTPSConnection


class GuardedAdapter(HTTPAdapter):
    """A requests adapter whose connections go through the guard; mount it on a Session."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {
            "http": GuardedHTTPConnectionPool,
            "https": GuardedHTTPSConnectionPool,
        }
