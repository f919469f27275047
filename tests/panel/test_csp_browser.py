"""The pages still work under their Content-Security-Policy, in Debian's Chromium: the admin login
(and the lock-out page after too many failures), the panel's dashboard with its charts, the
developer docs, Swagger UI and ReDoc, with no CSP violation reported by the browser."""

from __future__ import annotations

import pytest
from django.conf import settings

from tests.panel.conftest import PASSWORD, make_user
from tests.panel.test_browser import CHROMIUM, browser, charts_drawn, world  # noqa: F401

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="needs /usr/bin/chromium: run scripts/install_browser.sh"
    ),
]


def open_page(browser):  # noqa: F811
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    context.set_default_timeout(20_000)
    page = context.new_page()
    violations: list[str] = []
    page.on(
        "console",
        lambda message: (
            violations.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    return page, violations


def test_the_panel_works_under_its_policy(browser, live_server, world, game):  # noqa: F811
    page, violations = open_page(browser)
    response = page.goto(f"{live_server.url}/admin/login/?next=/panel/")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    page.fill("#id_username", "olivia")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url("**/panel/games/**")
    page.wait_for_function("document.querySelectorAll('canvas[data-drawn=\"true\"]').length > 0")
    assert charts_drawn(page) > 0
    page.goto(f"{live_server.url}/admin/accounts/player/")
    assert page.locator("#result_list").count() == 1
    assert violations == []


def test_the_docs_and_the_api_reference_render_under_the_policy(browser, live_server, db):  # noqa: F811
    page, violations = open_page(browser)
    page.goto(f"{live_server.url}/docs/")
    assert page.locator("h1").count() >= 1

    page.goto(f"{live_server.url}/api/v1/docs/")
    page.wait_for_selector(".opblock", timeout=30_000)  # Swagger UI drew the operations
    assert page.locator(".opblock").count() > 10

    page.goto(f"{live_server.url}/api/v1/redoc/")
    page.wait_for_selector("[data-section-id]", timeout=30_000)  # ReDoc drew the sections
    # The one thing refused: ReDoc's "powered by" logo from its CDN (nothing loads from outside).
    assert [text for text in violations if "cdn.redoc.ly/redoc/logo-mini.svg" not in text] == []


def test_the_lock_out_page_shows_in_the_browser(browser, live_server, db):  # noqa: F811
    make_user("lena", None, None)
    page, violations = open_page(browser)
    for _ in range(settings.AXES_FAILURE_LIMIT):
        page.goto(f"{live_server.url}/admin/login/")
        page.fill("#id_username", "lena")
        page.fill("#id_password", "not-the-password")
        page.click("input[type=submit]")
    assert page.locator("h1", has_text="Too many failed logins").count() == 1
    assert page.locator("text=Logins are paused for 15 minutes").count() == 1
    assert violations == []
