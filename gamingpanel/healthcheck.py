"""The web container's health check: `python -m gamingpanel.healthcheck` exits 0 when
GET /api/v1/health/live (liveness: the process answers, whatever the database and Redis do)
answers 200, else 1. `python -m gamingpanel.healthcheck /api/v1/health` asks readiness instead
(the database up; what a load balancer probes).

Liveness, because what a container's health decides is a restart (an orchestrator's, an
autoheal's) and whether the TLS front starts: a restart mends a wedged process, not a database or
Redis outage, where restarting every web container at once only adds to it.

It asks the server in its own container (127.0.0.1:$PORT) but names a host the settings allow, the
first of DJANGO_ALLOWED_HOSTS: Django answers any other Host with 400. Both paths are exempt from
the HTTPS redirect (settings.SECURE_REDIRECT_EXEMPT), so plain HTTP inside the container is
enough. Only the standard library: it runs every few seconds and must start fast.
"""

from __future__ import annotations

import http.client
import os
import sys

LIVE_PATH = "/api/v1/health/live"
READY_PATH = "/api/v1/health"


def allowed_host(value: str) -> str:
    """The first host of a DJANGO_ALLOWED_HOSTS value, as a Host header: '.example.com' (the
    domain and its subdomains) is answered as 'example.com'; none (the local default) as
    'localhost'."""
    hosts = [host.strip() for host in value.split(",") if host.strip() and host.strip() != "*"]
    return hosts[0].lstrip(".") if hosts else "localhost"


def check(port: int, host: str, timeout: float = 3.0, path: str = LIVE_PATH) -> int:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request("GET", path, headers={"Host": host})
        response = connection.getresponse()
        body = response.read(500)
    except OSError as error:
        print(f"health check: {type(error).__name__}: {error}", file=sys.stderr)
        return 1
    finally:
        connection.close()
    if response.status != 200:
        print(f"health check: {response.status} {body!r}", file=sys.stderr)
        return 1
    return 0


def main(argv: list[str]) -> int:
    port = int(os.environ.get("PORT") or 8000)
    path = argv[0] if argv else LIVE_PATH
    return check(port, allowed_host(os.environ.get("DJANGO_ALLOWED_HOSTS", "")), path=path)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
