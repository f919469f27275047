"""The panel in a real browser: Debian's Chromium driven by Playwright against a live server.

Installed by `scripts/install_browser.sh` (never a downloaded browser build). Screenshots of the
dashboard and the player page go to docs/screenshots/ for the README when missing or with
GP_UPDATE_SCREENSHOTS=1."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from apps.accounts.models import GameAccess, Player
from apps.analytics import demo as analytics_demo
from apps.audit.models import AuditLogEntry
from apps.battlepass import demo as battlepass_demo
from apps.inventory import demo as inventory_demo
from apps.inventory.models import Wallet
from apps.shop import demo as shop_demo
from tests.panel.conftest import PASSWORD, make_user

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="needs /usr/bin/chromium: run scripts/install_browser.sh"
    ),
]


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the ORM calls the tests make
    # between browser steps are still plain synchronous calls.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=LAUNCH_ARGS
        )
        yield chromium
        chromium.close()
    os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


@pytest.fixture
def world(transactional_db, game, other_game, player, other_player):
    inventory_demo.seed(game)
    battlepass_demo.seed(game)  # before the shop: its premium pass is an offer
    shop_demo.seed(game)  # offers give the top-offers chart its names
    players = analytics_demo.seed(game, offers=shop_demo.offer_prices(game))
    inventory_demo.seed_ledger_activity(game=game, players=players[:12])
    analytics_demo.aggregate(game)  # the dashboards read the aggregates
    return {
        "operator": make_user("oscar", game, GameAccess.Role.OPERATOR),
        "analyst": make_user("anna", game, GameAccess.Role.ANALYST),
        "owner": make_user("olivia", game, GameAccess.Role.OWNER),
        "other_operator": make_user("bob", other_game, GameAccess.Role.OPERATOR),
    }


@pytest.fixture
def shots(tmp_path) -> Path:
    """docs/screenshots when asked (GP_UPDATE_SCREENSHOTS=1) or missing, else a temp dir, so a
    test run does not rewrite committed images."""
    wanted = ("dashboard.png", "player.png")
    update = os.environ.get("GP_UPDATE_SCREENSHOTS") == "1"
    if update or not all((SCREENSHOTS / name).exists() for name in wanted):
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        return SCREENSHOTS
    return tmp_path


def log_in(browser, live_server, username: str):
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.goto(f"{live_server.url}/admin/login/?next=/panel/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url("**/panel/games/**")
    return page


def charts_drawn(page) -> int:
    """Canvases Chart.js drew on, with at least one painted pixel."""
    return page.evaluate(
        """() => [...document.querySelectorAll('canvas[data-drawn="true"]')].filter(canvas => {
               const pixels = canvas.getContext('2d')
                   .getImageData(0, 0, canvas.width, canvas.height).data;
               for (let i = 3; i < pixels.length; i += 4) if (pixels[i] > 0) return true;
               return false;
           }).length"""
    )


def test_operator_sees_charts_bans_and_grants_and_the_audit_log_shows_both(
    browser, live_server, world, game, player, shots
):
    page = log_in(browser, live_server, "oscar")

    assert page.locator("h1").inner_text() == "Alpha dashboard"
    page.wait_for_function("document.querySelectorAll('canvas[data-drawn=\"true\"]').length === 4")
    assert charts_drawn(page) == 4
    assert page.locator("#retention table td[style]").count() > 0
    page.screenshot(path=str(shots / "dashboard.png"), full_page=True)

    page.click("nav.gp-nav >> text=Players")
    page.fill("input[name=q]", "alice")
    page.click("form.gp-search button")
    page.click(f"#player-results >> text={player.pk}")
    page.fill("#ban-form input[name=reason]", "Cheating in ranked")
    page.click("#ban-form button")
    # The ban asks first, on a page of its own; nothing has changed yet.
    assert "Cheating in ranked" in page.locator("#confirmation-facts").inner_text()
    assert not Player.objects.get(pk=player.pk).is_banned
    page.click("#confirm-form button")
    assert "is banned" in page.locator("ul.messagelist").inner_text()
    page.select_option("#grant-form select[name=target]", "currency:gold")
    page.fill("#grant-form input[name=quantity]", "250")
    page.fill("#grant-form input[name=reason]", "Outage compensation")
    page.click("#grant-form button")
    assert "Granted 250 gold" in page.locator("ul.messagelist").inner_text()
    assert page.locator('#wallet [data-currency="gold"]').inner_text() == "250"
    page.screenshot(path=str(shots / "player.png"), full_page=True)

    player.refresh_from_db()
    assert player.is_banned
    assert Wallet.objects.get(player=player, currency__code="gold").balance == 250
    owner_page = log_in(browser, live_server, "olivia")
    owner_page.goto(f"{live_server.url}/admin/audit/auditlogentry/")
    log = owner_page.locator("#result_list").inner_text()
    assert "player.ban" in log and "inventory.grant" in log
    assert "Cheating in ranked" in log and "Outage compensation" in log


def test_analyst_reads_but_cannot_change_anything(browser, live_server, world, game, player):
    page = log_in(browser, live_server, "anna")
    page.wait_for_function("document.querySelectorAll('canvas[data-drawn=\"true\"]').length === 4")

    page.goto(f"{live_server.url}/panel/games/{game.pk}/players/{player.pk}/")
    assert page.locator("#ban-form, #grant-form, #revoke-form").count() == 0
    token = next(c["value"] for c in page.context.cookies() if c["name"] == "csrftoken")
    for action in ("ban", "grant", "revoke-sessions"):
        response = page.request.post(
            f"{live_server.url}/panel/games/{game.pk}/players/{player.pk}/{action}",
            form={"reason": "sneaky", "target": "currency:gold", "quantity": "5",
                  "direction": "grant", "idempotency_key": "k"},
            headers={"X-CSRFToken": token, "Referer": live_server.url},
        )  # fmt: skip
        assert response.status == 403, action
    admin_change = page.goto(f"{live_server.url}/admin/accounts/player/{player.pk}/change/")
    assert admin_change.status == 200
    assert page.locator("input[name=_save]").count() == 0

    player.refresh_from_db()
    assert player.banned_until is None
    assert not AuditLogEntry.objects.exists()


def test_operator_of_game_b_cannot_open_game_a_by_changing_the_url(
    browser, live_server, world, game, other_game, player
):
    page = log_in(browser, live_server, "bob")
    assert f"/panel/games/{other_game.pk}/" in page.url

    for path in (
        f"/panel/games/{game.pk}/",
        f"/panel/games/{game.pk}/players/",
        f"/panel/games/{game.pk}/players/{player.pk}/",
        f"/panel/games/{game.pk}/export/daily.csv",
    ):
        assert page.goto(live_server.url + path).status == 404, path
    assert Player.objects.get(pk=player.pk).banned_until is None
