from __future__ import annotations

from pathlib import Path

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from apps.devdocs.pages import (
    DOCS_DIR,
    FILE_TYPES,
    GUIDE_PAGES,
    GUIDE_TITLES,
    guide_page_path,
    reference_file_path,
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
    return _render(request, path, current=page, following=following)


def reference_page(request: HttpRequest, name: str, folder: str = "") -> HttpResponse:
    path = reference_page_path(name, folder)
    if path is None:
        raise Http404("No such reference page.")
    return _render(request, path, current=None, following=None)


def reference_file(request: HttpRequest, folder: str, name: str) -> HttpResponse:
    path = reference_file_path(folder, name)
    if path is None:
        raise Http404("No such file.")
    return HttpResponse(path.read_bytes(), content_type=FILE_TYPES[path.suffix.lstrip(".")])


def _render(
    request: HttpRequest,
    path: Path,
    *,
    current: str | None,
    following: tuple | None,
) -> HttpResponse:
    folder = "" if path.parent == DOCS_DIR else path.parent.relative_to(DOCS_DIR).as_posix()
    rendered = render_markdown(path.read_text(encoding="utf-8"), folder=folder)
    context = {
        "page": rendered,
        "title": rendered.title or GUIDE_TITLES.get(current or "", path.stem),
        "pages": GUIDE_PAGES,
        "current": current,
        "following": following,
    }
    return render(request, "devdocs/page.html", context)
