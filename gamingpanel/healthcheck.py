"""The web container's health check: `python -m gamingpanel.healthcheck` exits 0 when
GET /api/v1/health answers 200, else 1.

It asks the server in its own container (127.0.0.1:$PORT) but names a host the settings allow, the
first of DJANGO_ALLOWED_HOSTS: Django answers any other Host with 400. The health endpoint is
exempt from the HTTPS redirect (settings.SECURE_REDIRECT_EXEMPT), so plain HTTP inside the
container is enough. Only the standard library: it runs every few seconds and must start fast.
"""

from __future__ import annotations

import http.client
import os
import sys

HEALTH_PATH = "/api/v1/health"


def allowed_host(value: str) -> str:
    """The first host of a DJANGO_ALLOWED_HOSTS value, as a Host header: '.example.com' (the
    domain and its subdomains) is answered as 'example.com'; none (the local default) as
    'localhost'."""
    hosts = [host.strip() for host in value.split(",") if host.strip() and host.strip() != "*"]
    return hosts[0].lstrip(".") if hosts else "localhost"


def check(port: int, host: str, timeout: float = 3.0) -> int:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request("GET", HEALTH_PATH, headers={"Host": host})
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


def main() -> int:
    port = int(os.environ.get("PORT") or 8000)
    return check(port, allowed_host(os.environ.get("DJANGO_ALLOWED_HOSTS", "")))


if __name__ == "__main__":
    sys.exit(main())
