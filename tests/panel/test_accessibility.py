"""The panel is usable with a screen reader and a keyboard (WCAG 2.1 AA): axe-core, run inside
each main page in Debian's Chromium, finds no serious or critical violation, in the light and the
dark theme; form errors are tied to their fields; and a destructive action, behind its
confirmation, can be done with the keyboard alone.

axe-core comes from the `axe-playwright-python` package (the `dev` extras), which ships
axe.min.js: nothing is fetched at test time."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.contrib.auth import get_user_model
from django.urls import reverse

from apps.accounts.models import Game, GameAccess, Player
from apps.accounts.services import set_game_access
from apps.accounts.services.bans import ban_player
from apps.battlepass.models import Season
from apps.cloudsave.models import Document
from apps.cloudsave.services import Precondition, put_document
from apps.devdocs.demo_seed import seed_demo_game
from apps.events.models import Event
from apps.leaderboards.models import Board
from apps.shop.models import Offer
from tests.panel.conftest import PASSWORD, make_user
from tests.panel.test_browser import CHROMIUM
from tests.panel.test_browser import browser as chromium_browser

browser = chromium_browser  # the module's fixture: Debian's Chromium, headless

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(), reason="needs /usr/bin/chromium: run scripts/install_browser.sh"
    ),
]

# WCAG 2.0/2.1 A and AA, and axe's best practices (landmarks, heading order, skip link).
AXE_OPTIONS = {
    "runOnly": {
        "type": "tag",
        "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"],
    },
    "resultTypes": ["violations"],
}
BLOCKING = {"serious", "critical"}
# Moderate in axe's scale, but what a screen-reader user navigates by: held to as well.
STRUCTURE_RULES = {
    "landmark-one-main",
    "page-has-heading-one",
    "heading-order",
    "region",
    "landmark-unique",
    "landmark-no-duplicate-main",
    "skip-link",
}


@dataclass(frozen=True)
class Violation:
    page: str
    rule: str
    impact: str
    nodes: tuple[str, ...]

    def __str__(self) -> str:
        nodes = ", ".join(self.nodes[:8])
        return f"{self.page}: {self.rule} ({self.impact}) x{len(self.nodes)}: {nodes}"


def axe_violations(page, name: str) -> list[Violation]:
    results = Axe().run(page, options=AXE_OPTIONS).response
    return [
        Violation(
            page=name,
            rule=found["id"],
            impact=found["impact"] or "",
            nodes=tuple(" ".join(map(str, node["target"])) for node in found["nodes"]),
        )
        for found in results["violations"]
    ]


def blocking(violations: list[Violation]) -> list[Violation]:
    return [v for v in violations if v.impact in BLOCKING or v.rule in STRUCTURE_RULES]


def summary(violations: list[Violation]) -> str:
    counts: Counter[tuple[str, str]] = Counter()
    for violation in violations:
        counts[violation.rule, violation.impact] += len(violation.nodes)
    return "\n".join(
        f"{rule} ({impact}): {count}" for (rule, impact), count in sorted(counts.items())
    )


def id_problems(page) -> list[str]:
    """Ids used twice on the page (WCAG 2.1's 4.1.1: a label or a description may then go to the
    wrong field), and aria-describedby, aria-labelledby or label[for] naming an id it lacks."""
    return page.evaluate(
        """() => {
            const problems = [];
            const seen = new Set();
            for (const element of document.querySelectorAll('[id]')) {
                if (seen.has(element.id)) problems.push(`#${element.id} twice`);
                seen.add(element.id);
            }
            for (const element of document.querySelectorAll(
                    '[aria-describedby], [aria-labelledby], label[for]')) {
                const ids = [
                    ...(element.getAttribute('aria-describedby') || '').split(/\\s+/),
                    ...(element.getAttribute('aria-labelledby') || '').split(/\\s+/),
                    element.getAttribute('for') || '',
                ].filter(Boolean);
                for (const id of ids) {
                    if (!seen.has(id)) problems.push(`${element.outerHTML.slice(0, 80)} names no #${id}`);
                }
            }
            return problems;
        }"""
    )


@pytest.fixture
def demo(transactional_db):
    """The demo game (every app's demo data), an owner, a player with cloud-save versions to
    restore, and a banned player."""
    game = seed_demo_game()
    make_user("olivia", game, GameAccess.Role.OWNER)
    player = Player.objects.filter(game=game).order_by("pk").first()
    for value in ({"level": 1}, {"level": 2}):
        document = Document.objects.filter(player=player, key="slot1").first()
        put_document(
            player=player,
            key="slot1",
            value=value,
            precondition=(
                Precondition(version=document.version)
                if document
                else Precondition(create_only=True)
            ),
            source="client",
            idempotency_key=None,
        )
    # A banned player: the list shows their red badge.
    banned = Player.objects.filter(game=game).order_by("pk")[1]
    ban_player(player=banned, reason="Botting", until=None, actor=None)
    return {"game": game, "player": player}


def log_in(browser, live_server, *, color_scheme: str = "light"):
    context = browser.new_context(
        viewport={"width": 1400, "height": 900}, color_scheme=color_scheme
    )
    context.set_default_timeout(20_000)
    page = context.new_page()
    page.goto(f"{live_server.url}/admin/login/?next=/panel/")
    page.fill("#id_username", "olivia")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url("**/panel/games/**")
    return page


def panel_pages(game, player) -> dict[str, str]:
    board = Board.objects.filter(game=game).order_by("pk").first()
    return {
        "dashboard": reverse("panel:dashboard", args=[game.pk]),
        "players": reverse("panel:players", args=[game.pk]),
        "player": reverse("panel:player", args=[game.pk, player.pk]),
        "segment action": reverse("panel:segment", args=[game.pk]),
        "leaderboards": reverse("panel:leaderboards", args=[game.pk]),
        "leaderboard": reverse("panel:leaderboard", args=[game.pk, board.pk]),
        "remote config": reverse("panel:config", args=[game.pk]),
        "two-factor": reverse("panel:two-factor"),
    }


def admin_pages(game, player) -> dict[str, str]:
    def change(model, obj) -> str:
        meta = model._meta
        return reverse(f"admin:{meta.app_label}_{meta.model_name}_change", args=[obj.pk])

    offer = Offer.objects.filter(category__game=game).order_by("pk").first()
    event = Event.objects.filter(game=game).order_by("pk").first()
    season = Season.objects.filter(game=game).order_by("pk").first()
    document = Document.objects.get(player=player, key="slot1")
    return {
        "admin index": reverse("admin:index"),
        "offers": reverse("admin:shop_offer_changelist"),
        "offer": change(Offer, offer),
        "purchases": reverse("admin:shop_purchase_changelist"),
        "events": reverse("admin:events_event_changelist"),
        "event": change(Event, event),
        "seasons": reverse("admin:battlepass_season_changelist"),
        "season": change(Season, season),
        "generate tiers": reverse("admin:battlepass_season_generate_tiers", args=[season.pk]),
        "cloud saves": reverse("admin:cloudsave_document_changelist"),
        "cloud save": change(Document, document),
        "payments": reverse("admin:payments_payment_changelist"),
        "payment accounts": reverse("admin:payments_provideraccount_changelist"),
        "server keys": reverse("admin:accounts_serverkey_changelist"),
        "new server key": reverse("admin:accounts_serverkey_add"),
        "game settings": reverse("admin:accounts_game_change", args=[game.pk]),
        "platform credentials": reverse("admin:platforms_platformcredential_changelist"),
        "grant": reverse("admin:inventory_wallet_grant"),
        "audit log": reverse("admin:audit_auditlogentry_changelist"),
    }


def check_pages(page, live_server, pages: dict[str, str]) -> list[Violation]:
    """axe's violations on each page, and its id problems."""
    found: list[Violation] = []
    for name, path in pages.items():
        response = page.goto(f"{live_server.url}{path}")
        assert response is not None and response.status == 200, (name, path)
        found += axe_violations(page, name)
        if problems := id_problems(page):
            found.append(Violation(name, "id-problems", "serious", tuple(problems)))
    return found


def assert_none_blocking(violations: list[Violation]) -> None:
    found = blocking(violations)
    assert found == [], summary(found) + "\n\n" + "\n".join(map(str, found))


@pytest.mark.parametrize("color_scheme", ["light", "dark"])
def test_the_sign_in_page_has_no_serious_violation(browser, live_server, demo, color_scheme):
    context = browser.new_context(
        viewport={"width": 1400, "height": 900}, color_scheme=color_scheme
    )
    page = context.new_page()
    violations = check_pages(page, live_server, {"sign-in": "/admin/login/?next=/panel/"})
    page.fill("#id_username", "olivia")
    page.fill("#id_password", "not the password")
    page.click("input[type=submit]")
    page.wait_for_selector(".errornote")
    violations += axe_violations(page, "sign-in, refused")
    assert_none_blocking(violations)


def confirmation_pages(game, player) -> dict[str, tuple[str, str, dict[str, str]]]:
    """Pages a form's POST answers: the page the form is on, the form, what is typed in it."""
    return {
        "ban confirmation": (
            reverse("panel:player", args=[game.pk, player.pk]),
            "#ban-form",
            {"input[name=reason]": "Chargeback fraud"},
        ),
    }


def check_posted_pages(page, live_server, pages) -> list[Violation]:
    """axe's violations and the id problems on each page a form's POST answers."""
    found: list[Violation] = []
    for name, (path, form, typed) in pages.items():
        page.goto(f"{live_server.url}{path}")
        for field, value in typed.items():
            page.fill(f"{form} {field}", value)
        page.click(f"{form} button[type=submit]")
        page.wait_for_selector("#confirm-form")
        found += axe_violations(page, name)
        if problems := id_problems(page):
            found.append(Violation(name, "id-problems", "serious", tuple(problems)))
    return found


@pytest.mark.parametrize("color_scheme", ["light", "dark"])
def test_the_panel_pages_have_no_serious_violation(browser, live_server, demo, color_scheme):
    page = log_in(browser, live_server, color_scheme=color_scheme)
    page.wait_for_function("document.querySelectorAll('canvas[data-drawn=\"true\"]').length > 0")
    game, player = demo["game"], demo["player"]
    violations = check_pages(page, live_server, panel_pages(game, player))
    violations += check_posted_pages(page, live_server, confirmation_pages(game, player))
    assert_none_blocking(violations)


@pytest.mark.parametrize("color_scheme", ["light", "dark"])
def test_the_admin_pages_have_no_serious_violation(browser, live_server, demo, color_scheme):
    page = log_in(browser, live_server, color_scheme=color_scheme)
    assert_none_blocking(check_pages(page, live_server, admin_pages(demo["game"], demo["player"])))


def tab_to(page, selector: str, *, limit: int = 300) -> None:
    """Press Tab until `selector` has the focus; each element on the way shows a focus ring of
    at least 2 px."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        stop = page.evaluate(
            """selector => {
                const element = document.activeElement;
                const style = getComputedStyle(element);
                return {html: element.outerHTML.slice(0, 80), outline: style.outlineStyle,
                        width: parseFloat(style.outlineWidth), found: element.matches(selector)};
            }""",
            selector,
        )
        assert stop["outline"] != "none" and stop["width"] >= 2, stop
        if stop["found"]:
            return
    raise AssertionError(f"{selector} is not reached with the keyboard")


@pytest.fixture
def two_games(demo):
    """Olivia owns a second game, listed after the demo game in the game picker."""
    zulu = Game.objects.create(name="Zulu", slug="zulu", client_key="zulu-client-key", sandbox=True)
    set_game_access(
        user=get_user_model().objects.get(username="olivia"), game=zulu, role=GameAccess.Role.OWNER
    )
    return {**demo, "zulu": zulu}


def test_keyboard_only_sign_in_skip_link_game_switch_and_ban(browser, live_server, two_games):
    game, player, zulu = two_games["game"], two_games["player"], two_games["zulu"]
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    context.set_default_timeout(20_000)
    page = context.new_page()
    page.goto(f"{live_server.url}/admin/login/?next=/panel/")
    # The username field has the focus: type, Tab to the password, Enter submits.
    assert page.evaluate("document.activeElement.id") == "id_username"
    page.keyboard.type("olivia")
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/panel/games/{game.pk}/")

    # The first Tab stop is the skip link, shown when focused; it moves the focus to the content.
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip-to-content-link"
    box = page.evaluate("document.activeElement.getBoundingClientRect().toJSON()")
    assert box["top"] >= 0 and box["height"] > 0
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "content-start"

    # The game picker: an arrow key changes the choice without leaving the page (WCAG 3.2.2);
    # the Go button, next in the tab order, opens the chosen game.
    tab_to(page, "#gp-game")
    page.evaluate("window.gpSamePage = true")
    page.keyboard.press("ArrowDown")
    assert page.locator("#gp-game").input_value() == str(zulu.pk)
    tab_to(page, "#game-picker button")
    assert page.evaluate("window.gpSamePage === true")
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/panel/games/{zulu.pk}/")
    assert page.locator("h1").inner_text() == "Zulu dashboard"

    # Back to the demo game's players, find one, open them and ban them: keys only.
    page.goto(f"{live_server.url}/panel/games/{game.pk}/")
    tab_to(page, "nav.gp-nav a[href$='/players/']")
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/panel/games/{game.pk}/players/")
    tab_to(page, "input[name=q]")
    page.keyboard.type(str(player.pk))
    page.keyboard.press("Enter")
    page.wait_for_url("**/players/?q=*")
    tab_to(page, f"#player-results a[href$='/players/{player.pk}/']")
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/players/{player.pk}/")
    tab_to(page, "#ban-form input[name=reason]")
    page.keyboard.type("Chargeback fraud")
    tab_to(page, "#ban-form button")
    page.keyboard.press("Enter")
    # The ban asks first: Cancel goes back with nothing changed; Confirm bans.
    page.wait_for_selector("#confirm-form")
    tab_to(page, "#confirm-cancel")
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/players/{player.pk}/")
    player.refresh_from_db()
    assert not player.is_banned
    tab_to(page, "#ban-form input[name=reason]")
    page.keyboard.type("Chargeback fraud")
    tab_to(page, "#ban-form button")
    page.keyboard.press("Enter")
    page.wait_for_selector("#confirm-form")
    assert "Chargeback fraud" in page.locator("#confirmation-facts").inner_text()
    tab_to(page, "#confirm-form button")
    page.keyboard.press("Enter")
    page.wait_for_selector("ul.messagelist")
    assert "is banned" in page.locator("ul.messagelist").inner_text()
    player.refresh_from_db()
    assert player.is_banned and player.ban_reason == "Chargeback fraud"


def test_keyboard_only_delete_behind_its_confirmation(browser, live_server, demo):
    """The admin's delete asks first, on a page of its own: reached, confirmed and cancelled with
    the keyboard alone."""
    event = Event.objects.filter(game=demo["game"]).order_by("pk").first()
    page = log_in(browser, live_server)
    page.goto(f"{live_server.url}{reverse('admin:events_event_change', args=[event.pk])}")
    tab_to(page, "a.deletelink")
    page.keyboard.press("Enter")
    page.wait_for_url("**/delete/")
    # "No, take me back" leaves everything as it was.
    tab_to(page, "a.cancel-link")
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/event/{event.pk}/change/")
    assert Event.objects.filter(pk=event.pk).exists()

    tab_to(page, "a.deletelink")
    page.keyboard.press("Enter")
    page.wait_for_url("**/delete/")
    tab_to(page, ".delete-confirmation input[type=submit]")
    page.keyboard.press("Enter")
    page.wait_for_url("**/events/event/")
    assert "was deleted successfully" in page.locator("ul.messagelist").inner_text()
    assert not Event.objects.filter(pk=event.pk).exists()


def errors_of_invalid_fields(page) -> list[dict]:
    """Each field marked aria-invalid, with the texts of what its aria-describedby names (null
    for a missing id) and of its labels."""
    return page.evaluate(
        """() => [...document.querySelectorAll('[aria-invalid="true"]')].map(field => ({
            name: field.name,
            described: (field.getAttribute('aria-describedby') || '').split(/\\s+/)
                .filter(Boolean)
                .map(id => document.getElementById(id))
                .map(element => element ? element.textContent.trim() : null),
            labels: [...field.labels].map(label => label.textContent.trim()),
        }))"""
    )


def test_form_errors_are_tied_to_their_fields(browser, live_server, demo):
    """A screen reader reads a field's error with the field: aria-invalid, and aria-describedby
    naming the element that holds the error's text."""
    page = log_in(browser, live_server)
    players = reverse("panel:players", args=[demo["game"].pk])
    page.goto(f"{live_server.url}{players}?q={'x' * 201}&min_level=abc&sort=spend")
    invalid = {field["name"]: field["described"] for field in errors_of_invalid_fields(page)}
    assert set(invalid) == {"q", "min_level", "sort"}, invalid
    assert "at most 200 characters" in " ".join(map(str, invalid["q"]))
    assert "whole number" in " ".join(map(str, invalid["min_level"]))
    assert "say which one" in " ".join(map(str, invalid["sort"]))
    assert_none_blocking(axe_violations(page, "players, invalid filters"))

    page.goto(f"{live_server.url}{reverse('admin:events_event_add')}")
    page.click("input[name=_save]")  # everything empty
    page.wait_for_selector(".errornote")
    invalid = {field["name"]: field for field in errors_of_invalid_fields(page)}
    assert {"name", "starts_at_0", "starts_at_1"} <= set(invalid), invalid
    for field in invalid.values():
        # Described by its error, or (a date/time pair, which Django ties to no error) labelled.
        assert None not in field["described"], field
        assert "This field is required." in " ".join(field["described"] + field["labels"]), field
