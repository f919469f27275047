"""Sessions, the logged-in operator, messages and CSRF run for the panel and the admin, not for
the API (which authenticates by token or key and sets no cookies)."""

import pytest
from django.http import HttpResponse
from django.test import RequestFactory

from gamingpanel.middleware import (
    PanelAuthenticationMiddleware,
    PanelCsrfViewMiddleware,
    PanelMessageMiddleware,
    PanelSessionMiddleware,
)


def seen_by_view(path: str) -> dict[str, bool]:
    """What a view behind the panel-only middleware finds on its request."""

    def view(request):  # noqa: ANN001, ANN202
        return HttpResponse(
            ",".join(name for name in ("session", "user", "_messages") if hasattr(request, name))
        )

    chain = PanelSessionMiddleware(PanelAuthenticationMiddleware(PanelMessageMiddleware(view)))
    response = chain(RequestFactory().get(path))
    return dict.fromkeys(response.content.decode().split(",") if response.content else [], True)


@pytest.mark.django_db
def test_the_panel_gets_sessions_operators_and_messages():
    assert seen_by_view("/panel/") == {"session": True, "user": True, "_messages": True}


def test_the_api_gets_none_of_them():
    assert seen_by_view("/api/v1/player/inventory") == {}


def test_csrf_guards_panel_forms_and_leaves_the_api_alone():
    csrf = PanelCsrfViewMiddleware(lambda request: HttpResponse())

    def post_without_token(path: str) -> int | None:
        request = RequestFactory().post(path, {})
        request.COOKIES = {}
        refused = csrf.process_view(request, lambda r: HttpResponse(), (), {})
        return None if refused is None else refused.status_code

    assert post_without_token("/panel/players/1/ban") == 403
    assert post_without_token("/api/v1/shop/purchase") is None
