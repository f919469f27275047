"""An admin list whose query string holds U+0000 (no stored text holds it, and PostgreSQL refuses
it in a query) is Django's "invalid filter" redirect, whichever filter carries it: our fixed
choice filters and Django's own field lookups alike. It was a 500."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

pytestmark = pytest.mark.django_db


@pytest.fixture
def root_client(client):
    client.force_login(get_user_model().objects.create_superuser("root", password="x"))
    return client


@pytest.mark.parametrize(
    "url",
    [
        "/admin/accounts/authsession/?platform__exact=a%00b",
        "/admin/accounts/authsession/?revoke_reason__exact=%00",
        "/admin/accounts/platformidentity/?platform__exact=dev%00",
        "/admin/accounts/player/?display_name=a%00b",
        "/admin/multiplayer/registeredserver/?region=%00",
        "/admin/multiplayer/xprule/?outcome__exact=%00",
    ],
)
def test_a_filter_holding_u0000_is_the_invalid_filter_answer(root_client, game, url):
    response = root_client.get(url)

    assert response.status_code == 302
    assert response["Location"].endswith("?e=1")


def test_a_filter_without_it_still_filters(root_client, game, player):
    response = root_client.get("/admin/accounts/player/?display_name=alice")

    assert response.status_code == 200
    assert [p.pk for p in response.context["cl"].result_list] == [player.pk]
