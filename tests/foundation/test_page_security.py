"""The HTML pages' headers (issue 14 item 10): a Content-Security-Policy on panel, admin, docs and
API reference pages that their own markup obeys (no inline script), none on JSON; HSTS, the HTTPS
redirect and the proxy header as the environment sets them."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import User
from django.test import Client, override_settings

CSP = "Content-Security-Policy"
PAGES = ["/admin/login/", "/admin/", "/panel/", "/docs/", "/api/v1/docs/", "/api/v1/redoc/"]
# A <script> element without src (and not a JSON data block): what script-src 'self' blocks.
INLINE_SCRIPT = re.compile(
    r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/(?:ld\+)?json\")[^>]*>", re.IGNORECASE
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def operator() -> Client:
    user = User.objects.create_user("olga", password="pw-long-enough-1", is_staff=True)
    user.is_superuser = True
    user.save()
    client = Client()
    client.force_login(user)
    return client


def directives(response) -> dict[str, str]:
    header = response[CSP]
    return {part.split()[0]: part for part in (p.strip() for p in header.split(";")) if part}


@pytest.mark.parametrize("path", PAGES)
def test_every_page_has_a_policy_its_markup_obeys(operator, path):
    response = operator.get(path, follow=True)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    policy = directives(response)
    assert policy["script-src"] == "script-src 'self'"
    assert policy["default-src"] == "default-src 'self'"
    assert policy["frame-ancestors"] == "frame-ancestors 'none'"
    assert policy["object-src"] == "object-src 'none'"
    html = response.content.decode()
    assert INLINE_SCRIPT.findall(html) == [], path
    assert re.findall(r"<[^>]+\son[a-z]+=", html) == [], path  # onclick= and kin are inline too


def test_the_inline_script_finder_finds_one():
    assert INLINE_SCRIPT.findall('<script>alert(1)</script><script src="/a.js"></script>') == [
        "<script>"
    ]
    assert INLINE_SCRIPT.findall('<script type="application/json">{}</script>') == []


def test_swagger_ui_starts_from_a_script_of_its_own(operator):
    page = operator.get("/api/v1/docs/").content.decode()
    start = re.search(r'<script src="([^"]*\?[^"]*script=[^"]*)"', page)
    assert start, page
    script = operator.get(start.group(1).replace("&amp;", "&"))
    assert script.status_code == 200
    assert script["Content-Type"].startswith("application/javascript")
    assert "SwaggerUIBundle" in script.content.decode()


def test_json_answers_carry_no_policy(client):
    response = client.get("/api/v1/health")
    assert response["Content-Type"].startswith("application/json")
    assert CSP not in response


@override_settings(
    SECURE_HSTS_SECONDS=31536000,
    SECURE_HSTS_INCLUDE_SUBDOMAINS=True,
    SECURE_HSTS_PRELOAD=True,
    SECURE_SSL_REDIRECT=True,
)
def test_https_through_the_proxy_gets_hsts_and_plain_http_is_redirected(client):
    through_proxy = client.get("/admin/login/", HTTP_X_FORWARDED_PROTO="https")
    assert through_proxy.status_code == 200
    assert through_proxy["Strict-Transport-Security"] == (
        "max-age=31536000; includeSubDomains; preload"
    )

    plain = client.get("/admin/login/")
    assert plain.status_code == 301
    assert plain["Location"] == "https://testserver/admin/login/"

    health = client.get("/api/v1/health")  # a load balancer's probe, over plain HTTP
    assert health.status_code in {200, 503}
    live = client.get("/api/v1/health/live")  # the container's own check, over plain HTTP
    assert live.status_code == 200
    assert client.get("/api/v1/health/livex").status_code == 301  # the exemption is exact
    scrape = client.get("/metrics")  # Prometheus on the compose network, over plain HTTP
    assert scrape.status_code in {401, 404}  # asked for its token, not redirected


@override_settings(SECURE_PROXY_SSL_HEADER=None, SECURE_SSL_REDIRECT=True)
def test_without_a_proxy_the_header_is_not_trusted(client):
    response = client.get("/admin/login/", HTTP_X_FORWARDED_PROTO="https")
    assert response.status_code == 301
