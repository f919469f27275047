from __future__ import annotations

from pathlib import Path

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from apps.devdocs.pages import (
    GUIDE_PAGES,
    GUIDE_TITLES,
    guide_page_path,
    reference_page_path,
    render_markdown,
)


def guide_page(request: HttpRequest, page: str) -> HttpResponse:
    path = guide_page_path(page)
    if path is None:
        raise Http404("No such guide page.")
    names = [name for name, _ in GUIDE_PAGES]
    position = names.index(page)
    following = GUIDE_PAGES[position + 1] if position + 1 < len(GUIDE_PAGES) else None
    return _render(request, path, current=page, following=following, reference=False)


def reference_page(request: HttpRequest, name: str) -> HttpResponse:
    path = reference_page_path(name)
    if path is None:
        raise Http404("No such reference page.")
    return _render(request, path, current=None, following=None, reference=True)


def _render(
    request: HttpRequest,
    path: Path,
    *,
    current: str | None,
    following: tuple | None,
    reference: bool,
) -> HttpResponse:
    rendered = render_markdown(path.read_text(encoding="utf-8"), reference=reference)
    context = {
        "page": rendered,
        "title": rendered.title or GUIDE_TITLES.get(current or "", path.stem),
        "pages": GUIDE_PAGES,
        "current": current,
        "following": following,
    }
    return render(request, "devdocs/page.html", context)
