"""The integration guide at /docs/: every page renders, links resolve, every error code is there."""

from __future__ import annotations

import re
from html import unescape
from pathlib import Path
from urllib.parse import urljoin, urlsplit
from xml.etree import ElementTree

import pytest
from django.contrib.staticfiles import finders

from apps.devdocs.pages import DOCS_DIR, GUIDE_DIR, GUIDE_PAGES, render_markdown
from tests.foundation.test_problem_codes_documented import DRF_CODES, declared_codes

ROOT = Path(__file__).resolve().parents[2]
DIAGRAMS = ["system-flow.svg", "login-token-flow.svg", "data-flows.svg"]


def codes_in_code_base() -> set[str]:
    """Every problem code the source sets (one scan: tests/foundation's problem-code check)."""
    return set(declared_codes())


def _page_url(name: str) -> str:
    return "/docs/" if name == "index" else f"/docs/{name}"


def test_the_code_base_declares_the_contract_codes():
    codes = codes_in_code_base()

    assert {"validation_error", "token_expired", "insufficient_funds", "rate_limited"} <= codes
    assert {"not_authenticated", "malformed_json", "internal_error"} <= codes


def test_every_error_code_in_the_code_base_is_in_the_error_guide(client):
    html = client.get("/docs/errors").content.decode()

    missing = sorted(code for code in codes_in_code_base() if f'id="{code}"' not in html)
    assert missing == [], f"add these codes to docs/guide/errors.md: {missing}"


def test_every_code_in_the_error_guide_exists(client):
    html = client.get("/docs/errors").content.decode()
    documented = set(re.findall(r'<span id="([a-z0-9_]+)"></span>', html))

    assert sorted(documented - codes_in_code_base() - DRF_CODES) == []


@pytest.mark.parametrize("name", [name for name, _ in GUIDE_PAGES])
def test_every_guide_page_renders_as_html(client, name):
    response = client.get(_page_url(name))

    assert response.status_code == 200
    html = response.content.decode()
    assert "<h1" in html and "</article>" in html
    assert 'href="/static/devdocs/guide.css"' in html


def test_every_markdown_file_in_the_guide_is_in_the_navigation():
    files = {path.stem for path in GUIDE_DIR.glob("*.md")}

    assert files == {name for name, _ in GUIDE_PAGES}


def test_unknown_page_is_404(client):
    assert client.get("/docs/no-such-page").status_code == 404
    assert client.get("/docs/ref/no-such-page").status_code == 404
    assert client.get("/docs/ref/operations/no-such-page").status_code == 404
    assert client.get("/docs/ref/operations/no-such-file.yml").status_code == 404
    # A guide page has one address (/docs/<page>); a Markdown file is served as a page only.
    assert client.get("/docs/ref/guide/tokens").status_code == 404
    assert client.get("/docs/ref/operations/README.md").status_code == 404


def test_links_between_pages_resolve(client):
    """Every /docs/ link of the guide, and of the area pages it links, answers 200."""
    pages = [_page_url(name) for name, _ in GUIDE_PAGES]
    visited, broken = set(), []
    while pages:
        page = pages.pop()
        if page in visited:
            continue
        visited.add(page)
        html = client.get(page).content.decode()
        hrefs = re.findall(r'href="([^"]+)"', html)
        if not page.startswith("/docs/ref/"):  # the guide links pages, never Markdown files
            assert not [href for href in hrefs if ".md" in href and "://" not in href], page
        for target in {href.split("#")[0] for href in hrefs if href.startswith("/docs/")}:
            if client.get(target).status_code != 200:
                broken.append(f"{page} → {target}")
            elif target.startswith("/docs/ref/"):
                pages.append(target)

    assert broken == []
    assert "/docs/ref/auth" in visited and "/docs/ref/economy" in visited


def _links(html: str) -> list[str]:
    article = html.split("<article>", 1)[1].split("</article>", 1)[0]
    return [
        *re.findall(r'<a\b[^>]*\bhref="([^"]*)"', article),
        *re.findall(r'<img\b[^>]*\bsrc="([^"]*)"', article),
    ]


def test_every_link_of_every_docs_page_reaches_what_it_names(client):
    """Relative links too, resolved against the page's URL as a browser does: a repository
    link left as written (`operations/README.md` on /docs/ref/economy) is a 404 in the panel.
    A link's #fragment must be an id on the page it reaches."""
    queue = [_page_url(name) for name, _ in GUIDE_PAGES]
    visited: set[str] = set()
    answers: dict = {}
    broken = []
    while queue:
        page = queue.pop()
        if page in visited:
            continue
        visited.add(page)
        for link in _links(client.get(page).content.decode()):
            if urlsplit(link).scheme or link.startswith("//"):
                continue  # another site
            target, _, fragment = urljoin(page, unescape(link)).partition("#")
            if target not in answers:
                answers[target] = client.get(target)
            answer = answers[target]
            if answer.status_code != 200:
                broken.append(f"{page}: {link} → {target} {answer.status_code}")
            elif answer["Content-Type"].startswith("text/html"):
                if fragment and f'id="{fragment}"' not in answer.content.decode():
                    broken.append(f"{page}: {link} → {target} has no #{fragment}")
                if target.startswith("/docs/"):
                    queue.append(target)

    assert broken == []
    assert {"/docs/ref/operations/README", "/docs/ref/design/DESIGN"} <= visited


@pytest.mark.parametrize(
    ("folder", "link", "served"),
    [
        ("guide", "tokens.md#refresh", "/docs/tokens#refresh"),
        ("guide", "./index.md", "/docs/"),
        ("guide", "../platforms.md#steam", "/docs/ref/platforms#steam"),
        ("guide", "../operations/README.md", "/docs/ref/operations/README"),
        ("", "guide/monitoring.md#logs", "/docs/monitoring#logs"),
        ("", "economy.md", "/docs/ref/economy"),
        ("", "design/DESIGN.md#economy-rules", "/docs/ref/design/DESIGN#economy-rules"),
        ("", "operations/prometheus-alerts.yml", "/docs/ref/operations/prometheus-alerts.yml"),
        ("operations", "../guide/monitoring.md", "/docs/monitoring"),
        ("operations", "../operations.md#rotating-keys", "/docs/ref/operations#rotating-keys"),
        ("operations", "grafana-dashboard.json", "/docs/ref/operations/grafana-dashboard.json"),
        ("operations", "#alerts", "#alerts"),
        ("", "https://example.com/notes.md", "https://example.com/notes.md"),
        ("guide", "/api/v1/docs/", "/api/v1/docs/"),
    ],
)
def test_a_repository_link_points_at_where_the_panel_serves_its_target(folder, link, served):
    html = render_markdown(f"See [it]({link}).", folder=folder).html

    assert f'<a href="{served}">it</a>' in html


def test_a_link_to_a_file_the_panel_does_not_serve_keeps_only_its_text():
    html = render_markdown(
        "From the environment ([.env.example](../../.env.example)).", folder="operations"
    ).html

    assert html == "<p>From the environment (.env.example).</p>"


def test_files_beside_the_reference_pages_are_served_as_they_are(client):
    alerts = client.get("/docs/ref/operations/prometheus-alerts.yml")
    dashboard = client.get("/docs/ref/operations/grafana-dashboard.json")

    assert alerts.status_code == 200 and alerts["Content-Type"] == "text/plain; charset=utf-8"
    assert alerts.content == (DOCS_DIR / "operations/prometheus-alerts.yml").read_bytes()
    assert dashboard.status_code == 200 and dashboard["Content-Type"] == "application/json"


def test_platform_reference_is_linked_and_served(client):
    html = client.get("/docs/authentication").content.decode()

    assert 'href="/docs/ref/platforms"' in html
    assert client.get("/docs/ref/platforms").status_code == 200


def test_architecture_page_shows_the_three_diagrams(client):
    html = client.get("/docs/architecture").content.decode()

    for diagram in DIAGRAMS:
        assert f'src="/static/devdocs/{diagram}"' in html
        path = finders.find(f"devdocs/{diagram}")
        assert path is not None
        root = ElementTree.parse(path).getroot()
        assert root.tag == "{http://www.w3.org/2000/svg}svg"
        assert root.find("{http://www.w3.org/2000/svg}title").text


def test_diagrams_draw_the_seed_flows():
    login = Path(finders.find("devdocs/login-token-flow.svg")).read_text()
    flows = Path(finders.find("devdocs/data-flows.svg")).read_text()

    assert "/api/v1/auth/third-party/login" in login
    assert "/api/v1/multiplayer/validate-token" in login
    for flow in ["Player login", "Game data", "Multiplayer", "Analytics", "Purchases"]:
        assert flow in flows


def test_guide_loads_nothing_from_another_host(client):
    for name, _ in GUIDE_PAGES:
        html = client.get(_page_url(name)).content.decode()
        assert not re.search(r'(src|href)="(https?:)?//', html.split("<article>")[0]), name
        assert "<script" not in html


@pytest.mark.django_db
def test_problem_type_links_to_its_code_in_the_guide(client, api_client):
    problem = api_client.get("/api/v1/player/stats").json()

    page, _, anchor = problem["type"].partition("#")
    assert page == "/docs/errors"
    assert f'id="{anchor}"' in client.get(page).content.decode()
