"""The integration guide: Markdown in docs/guide/ (readable on a code host), served as HTML,
with the reference pages it links (docs/*.md, docs/<folder>/*.md) and the files beside them.

Links are written for the repository (`tokens.md#refresh`, `../platforms.md`,
`operations/README.md`, `../../apps/devdocs/static/devdocs/login-flow.svg`) and rewritten here
for the panel: each is resolved from the page's own folder, as a code host does.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

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

# A folder of docs/ and a page's name, as URLs take them: no dot and no slash, so nothing
# outside docs/ can be named.
FOLDER = r"[a-z0-9_-]+"
PAGE_NAME = r"[A-Za-z0-9_-]+"
# Files a reference page links beside it (example Prometheus rules, a Grafana dashboard),
# served as they are, by extension.
FILE_TYPES = {
    "yml": "text/plain; charset=utf-8",
    "yaml": "text/plain; charset=utf-8",
    "json": "application/json",
}
FILE_NAME = rf"{PAGE_NAME}\.(?:{'|'.join(FILE_TYPES)})"
STATIC_PREFIX = "apps/devdocs/static/"

_LINK = re.compile(r'<a href="([^"]*)"([^>]*)>(.*?)</a>', re.DOTALL)
_IMAGE_SRC = re.compile(r'(<img\b[^>]*?\bsrc=")([^"]*)(")')


@dataclass(frozen=True)
class RenderedPage:
    title: str
    html: str
    toc: str


def render_markdown(text: str, *, folder: str = "guide") -> RenderedPage:
    """HTML of a page of docs/<folder> ("guide", "" for docs/ itself, "operations"...)."""
    md = markdown.Markdown(
        # superfences, not fenced_code: fences inside list items (the walkthrough's steps) are
        # code blocks too, not inline code (tests/devdocs/test_docs_pages.py).
        extensions=["tables", "pymdownx.superfences", "toc", "attr_list", "sane_lists"],
        extension_configs={"toc": {"permalink": False, "toc_depth": "2-3"}},
    )
    html = md.convert(text)
    html = _LINK.sub(lambda m: _served_link(m, folder), html)
    html = _IMAGE_SRC.sub(lambda m: f"{m[1]}{panel_url(m[2], folder) or m[2]}{m[3]}", html)
    title_match = re.search(r"^# (.+)$", text, flags=re.MULTILINE)
    toc = md.toc  # type: ignore[attr-defined]  # set by the toc extension, as its docs say
    return RenderedPage(title=title_match[1] if title_match else "", html=html, toc=toc)


def _page_url(page: str) -> str:
    return "" if page == "index" else page


def panel_url(link: str, folder: str) -> str | None:
    """Where the panel serves what `link`, written in a page of docs/<folder>, names in the
    repository; the link itself when it is not a repository path (another site, an absolute
    path, a #fragment); None when the panel serves nothing there (a file outside docs/)."""
    path, hash_mark, fragment = link.partition("#")
    if not path or path.startswith("/") or urlsplit(path).scheme:
        return link
    resolved = posixpath.normpath(posixpath.join("docs", folder, path))
    suffix = f"{hash_mark}{fragment}"
    if resolved.startswith(STATIC_PREFIX):
        return static(resolved.removeprefix(STATIC_PREFIX)) + suffix
    top, *parts = resolved.split("/")
    if top != "docs":
        return None
    match parts:
        case ["guide", name] if name.endswith(".md"):
            return f"/docs/{_page_url(name.removesuffix('.md'))}{suffix}"
        case [name] if name.endswith(".md"):
            return f"/docs/ref/{name.removesuffix('.md')}{suffix}"
        case [sub, name] if name.endswith(".md"):
            return f"/docs/ref/{sub}/{name.removesuffix('.md')}{suffix}"
        case [sub, name] if re.fullmatch(FILE_NAME, name):
            return f"/docs/ref/{sub}/{name}"
    return None


def _served_link(match: re.Match[str], folder: str) -> str:
    url = panel_url(match[1], folder)
    # A link the panel cannot follow (a source file, .env.example) keeps its words, unlinked.
    return match[3] if url is None else f'<a href="{url}"{match[2]}>{match[3]}</a>'


def guide_page_path(page: str) -> Path | None:
    if page not in GUIDE_TITLES:
        return None
    path = GUIDE_DIR / f"{page}.md"
    return path if path.is_file() else None


def reference_page_path(name: str, folder: str = "") -> Path | None:
    """Another area's reference page (docs/<name>.md, or docs/<folder>/<name>.md), if it has
    been written. The guide's pages are served under /docs/<page> only."""
    if folder == "guide":
        return None
    path = DOCS_DIR / folder / f"{name}.md"
    return path if path.is_file() else None


def reference_file_path(folder: str, name: str) -> Path | None:
    """A file a reference page links beside it (docs/<folder>/<name>, a FILE_NAME)."""
    if folder == "guide" or not re.fullmatch(FILE_NAME, name):
        return None
    path = DOCS_DIR / folder / name
    return path if path.is_file() else None
