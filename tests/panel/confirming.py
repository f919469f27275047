"""Going through a destructive panel action's confirmation as a browser does: post the form,
read the confirmation page's form (its hidden fields: the original ones, the state the page
saw, confirm=yes) and post that back."""

from __future__ import annotations

from html.parser import HTMLParser

from django.http import HttpResponse
from django.test import Client


class _ConfirmForm(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.inside = False
        self.fields: dict[str, list[str]] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        named = dict(attrs)
        if tag == "form":
            self.inside = named.get("id") == "confirm-form"
        elif tag == "input" and self.inside and named.get("name"):
            self.fields.setdefault(named["name"] or "", []).append(named.get("value") or "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.inside = False


def is_confirmation(response: HttpResponse) -> bool:
    return response.status_code == 200 and b'id="confirm-form"' in response.content


def confirmation_fields(response: HttpResponse) -> dict[str, list[str]]:
    """The fields the confirmation page's Confirm button sends (the CSRF token left out: the
    test client does not check it)."""
    assert is_confirmation(response), response.content.decode()[:2000]
    parser = _ConfirmForm()
    parser.feed(response.content.decode())
    parser.fields.pop("csrfmiddlewaretoken", None)
    return parser.fields


def confirm(client: Client, url: str, data: dict, **kwargs) -> HttpResponse:
    """Post the form, then its confirmation; the confirmation's answer."""
    asked = client.post(url, data)
    return client.post(url, confirmation_fields(asked), **kwargs)
