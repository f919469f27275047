"""The integration guide: Markdown in docs/guide/ (readable on a code host), served as HTML.

Links are written for the repository (`tokens.md#refresh`, `../platforms.md`,
`../../apps/devdocs/static/devdocs/login-flow.svg`) and rewritten here for the panel.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import markdown
from django.conf import settings
from django.templatetags.static import static

DOCS_DIR = Path(settings.BASE_DIR) / "docs"
GUIDE_DIR = DOCS_DIR / "guide"

# The guide's reading order; the sidebar and the "next" links follow it.
GUIDE_PAGES: list[tuple[str, str]] = [
    ("index", "Start here"),
    ("architecture", "Architecture overview"),
    ("authentication", "Authentication per platform"),
    ("tokens", "Token management and refresh"),
    ("errors", "Error handling"),
    ("cloud-save", "Cloud save"),
    ("remote-config", "Remote config"),
    ("offline", "Offline support"),
    ("game-servers", "Game servers"),
    ("security", "Security"),
    ("testing", "Testing: sandbox and Postman"),
    ("monitoring", "Monitoring"),
    ("rate-limits", "Rate limits and headers"),
    ("leaderboards", "Leaderboards and tournaments"),
    ("privacy", "Account deletion and data export"),
]
GUIDE_TITLES = dict(GUIDE_PAGES)

_GUIDE_LINK = re.compile(r'href="(?:\./)?([a-z0-9-]+)\.md(#[^"]*)?"')
_REFERENCE_LINK = re.compile(r'href="\.\./([a-z0-9_-]+)\.md(#[^"]*)?"')
# Seen from docs/<name>.md: a sibling reference page, or a guide page under guide/.
_SIBLING_LINK = re.compile(r'href="(?:\./)?([a-z0-9_-]+)\.md(#[^"]*)?"')
_INTO_GUIDE_LINK = re.compile(r'href="(?:\./)?guide/([a-z0-9-]+)\.md(#[^"]*)?"')
_STATIC_SRC = re.compile(r'(src|href)="(?:\.\./)*apps/devdocs/static/([^"]+)"')


@dataclass(frozen=True)
class RenderedPage:
    title: str
    html: str
    toc: str


def render_markdown(text: str, *, reference: bool = False) -> RenderedPage:
    """HTML of a guide page (docs/guide/) or, with `reference`, of an area's page (docs/)."""
    md = markdown.Markdown(
        # superfences, not fenced_code: fences inside list items (the walkthrough's steps) are
        # code blocks too, not inline code (tests/devdocs/test_docs_pages.py).
        extensions=["tables", "pymdownx.superfences", "toc", "attr_list", "sane_lists"],
        extension_configs={"toc": {"permalink": False, "toc_depth": "2-3"}},
    )
    html = md.convert(text)
    if reference:
        html = _INTO_GUIDE_LINK.sub(lambda m: f'href="/docs/{_page_url(m[1])}{m[2] or ""}"', html)
        html = _SIBLING_LINK.sub(lambda m: f'href="/docs/ref/{m[1]}{m[2] or ""}"', html)
    else:
        html = _GUIDE_LINK.sub(lambda m: f'href="/docs/{_page_url(m[1])}{m[2] or ""}"', html)
        html = _REFERENCE_LINK.sub(lambda m: f'href="/docs/ref/{m[1]}{m[2] or ""}"', html)
    html = _STATIC_SRC.sub(lambda m: f'{m[1]}="{static(m[2])}"', html)
    title_match = re.search(r"^# (.+)$", text, flags=re.MULTILINE)
    toc = md.toc  # type: ignore[attr-defined]  # set by the toc extension, as its docs say
    return RenderedPage(title=title_match[1] if title_match else "", html=html, toc=toc)


def _page_url(page: str) -> str:
    return "" if page == "index" else page


def guide_page_path(page: str) -> Path | None:
    if page not in GUIDE_TITLES:
        return None
    path = GUIDE_DIR / f"{page}.md"
    return path if path.is_file() else None


def reference_page_path(name: str) -> Path | None:
    """Another area's reference page (docs/<name>.md), if it has been written."""
    path = DOCS_DIR / f"{name}.md"
    return path if path.is_file() else None
