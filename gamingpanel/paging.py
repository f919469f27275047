"""How a cursor-paged list names its next page, the same for every one of them (docs/guide/
index.md, "Pagination"): `Link: <url>; rel="next"` and `X-Next-Cursor`, on a page that has a
next one only."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol
from urllib.parse import urlencode

from django.http import HttpResponseBase, QueryDict


class PagedRequest(Protocol):
    """Django's HttpRequest, or DRF's Request, which hands these to it."""

    path: str

    def build_absolute_uri(self, location: str | None = None) -> str: ...


def set_next_page(
    response: HttpResponseBase,
    request: PagedRequest,
    cursor: str,
    query: QueryDict | Mapping[str, str],
) -> None:
    """Names the page after `response`'s: the request's path, absolute, with `cursor` first and
    then `query`'s parameters in their order (any `cursor` among them left out, each value of a
    repeated one kept)."""
    pairs = query.lists() if isinstance(query, QueryDict) else ((k, [v]) for k, v in query.items())
    kept = [(name, value) for name, values in pairs if name != "cursor" for value in values]
    url = request.build_absolute_uri(f"{request.path}?{urlencode([('cursor', cursor), *kept])}")
    response["Link"] = f'<{url}>; rel="next"'
    response["X-Next-Cursor"] = cursor
