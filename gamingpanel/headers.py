"""One request header by its HTTP name, read where the WSGI server put it."""

from __future__ import annotations

import functools
from typing import Protocol

from django.utils.http import parse_etags


class HasMeta(Protocol):
    META: dict  # Django's HttpRequest and DRF's Request both carry it


def request_header(request: HasMeta, name: str) -> str | None:
    """The header `name` (`If-None-Match`, any case) as sent, None when it is not: request.META's
    `HTTP_IF_NONE_MATCH`. Not `request.headers`, whose first use builds a dictionary of every
    header of the request (about 9 us) for the one a hot endpoint reads. Not for Content-Type and
    Content-Length, which WSGI keeps without the HTTP_ prefix."""
    return request.META.get(_meta_key(name))


@functools.lru_cache(maxsize=64)
def _meta_key(name: str) -> str:
    return "HTTP_" + name.upper().replace("-", "_")


def etag_current(request: HasMeta, etag: str) -> bool:
    """Whether the request's If-None-Match names `etag`, so a GET answers 304: compared weakly
    (RFC 9110: `W/"3"` names `"3"`), any of a list (`"2", "3"`), and `*` names whatever exists.
    The one ETag as sent, what the kits send, is decided without parsing."""
    header = request_header(request, "If-None-Match")
    if header is None:
        return False
    if header == etag:
        return True
    opaque = etag.removeprefix("W/")
    return any(tag == "*" or tag.removeprefix("W/") == opaque for tag in parse_etags(header))
