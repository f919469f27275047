"""Every page under /docs/ (the guide, the reference pages it links) and the API reference pages:
code blocks render as blocks, and nothing is loaded from another host (issue 16 item 7)."""

from __future__ import annotations

import re

import markdown
import pytest

from apps.devdocs.pages import GUIDE_PAGES, render_markdown

# Something the page loads (not a link a reader may follow): src=, a stylesheet or preconnect
# <link>, CSS url(…) or @import, pointing at another host.
EXTERNAL_LOAD = re.compile(
    r"""(?:\bsrc\s*=\s*["']|<link\b[^>]*\bhref\s*=\s*["']|url\(\s*["']?|@import\s+["'])"""
    r"""(?:https?:)?//""",
    re.IGNORECASE,
)
# A fence Markdown did not take as one: ``` left in the text, or inline code that starts with a
# fence's language name (or nothing) and a line break: a fenced block read as a code span.
LANGUAGES = "bash|sh|shell|console|json|python|py|http|text|csharp|cs|cpp|c|yaml|toml|ini|sql|js"
BROKEN_FENCE = re.compile(rf"(?<!<pre>)<code>(?:{LANGUAGES})?\n")
STEP = "1. Log in:\n\n   ```bash\n   curl -s http://x\n   ```\n"


def broken_code_blocks(html: str) -> list[str]:
    found = [match.group(0) for match in BROKEN_FENCE.finditer(html)]
    if "```" in html:
        found.append("```")
    return found


def docs_pages(client) -> dict[str, str]:  # noqa: ANN001
    """Every /docs/ page reachable from the guide's pages, with its HTML."""
    queue = ["/docs/" if name == "index" else f"/docs/{name}" for name, _ in GUIDE_PAGES]
    pages: dict[str, str] = {}
    while queue:
        page = queue.pop()
        if page in pages:
            continue
        response = client.get(page)
        assert response.status_code == 200, page
        pages[page] = html = response.content.decode()
        for href in re.findall(r'href="(/docs/[^"#]*)', html):
            queue.append(href)
    return pages


def test_the_checks_catch_what_they_look_for():
    # What Markdown's own fenced_code (the guide's renderer before) made of a fence in a list.
    broken = markdown.markdown(STEP, extensions=["fenced_code"])
    assert broken_code_blocks(broken) != []
    assert broken_code_blocks("<p>```bash</p>") != []
    assert broken_code_blocks("<p>see <code>x\ny</code> wrapped</p>") == []
    assert EXTERNAL_LOAD.search('<link rel="preconnect" href="https://fonts.gstatic.com">')
    assert EXTERNAL_LOAD.search('<script src="//cdn.example/x.js">')
    assert EXTERNAL_LOAD.search("body { background: url('https://x.example/a.png') }")
    assert not EXTERNAL_LOAD.search('<a href="https://partner.steamgames.com/doc">Steam</a>')


def test_fences_inside_list_items_render_as_code_blocks():
    html = render_markdown(STEP).html
    assert "<pre" in html and "curl" in html
    assert broken_code_blocks(html) == []


def test_every_docs_page_renders_its_code_blocks_and_loads_nothing_from_outside(client):
    pages = docs_pages(client)

    assert "/docs/" in pages and "/docs/ref/auth" in pages
    for page, html in pages.items():
        assert broken_code_blocks(html) == [], page
        assert EXTERNAL_LOAD.findall(html) == [], page
    walkthrough = pages["/docs/"]
    assert walkthrough.count("<pre") >= 5  # the five-minute walkthrough's commands


@pytest.mark.parametrize("page", ["/api/v1/docs/", "/api/v1/redoc/"])
def test_the_api_reference_pages_load_nothing_from_outside(client, page):
    response = client.get(page)

    assert response.status_code == 200
    html = response.content.decode()
    assert EXTERNAL_LOAD.findall(html) == []
    assert "fonts.googleapis.com" not in html and "fonts.gstatic.com" not in html
    for asset in re.findall(r'src="(/static/[^"]+)"', html):
        assert client.get(asset).status_code == 200, asset
