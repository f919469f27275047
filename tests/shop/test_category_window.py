"""A category's visible window runs forwards, as an offer's, an event's and a season's do: one
saved backwards was never visible, and its offers never sold, with no word to the operator."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from apps.accounts.models import GameAccess
from apps.shop.models import Category

pytestmark = pytest.mark.django_db


def window_form(game, *, visible_from, visible_until) -> dict[str, str]:
    return {
        "game": str(game.pk),
        "name": "Weekend",
        "position": "0",
        "active": "on",
        "visible_from_0": f"{visible_from:%Y-%m-%d}",
        "visible_from_1": f"{visible_from:%H:%M:%S}",
        "visible_until_0": f"{visible_until:%Y-%m-%d}",
        "visible_until_1": f"{visible_until:%H:%M:%S}",
    }


def test_a_window_that_ends_before_it_starts_is_refused_in_the_admin(client, make_operator, game):
    client.force_login(make_operator("olga", game, GameAccess.Role.OPERATOR))
    starts = timezone.now().replace(microsecond=0) + timedelta(days=2)

    response = client.post(
        "/admin/shop/category/add/",
        window_form(game, visible_from=starts, visible_until=starts - timedelta(days=1)),
    )

    assert response.status_code == 200  # the form again, with the error
    assert "A category&#x27;s window ends after it starts." in response.content.decode()
    assert not Category.objects.exists()


def test_a_window_that_runs_forwards_is_saved(client, make_operator, game):
    client.force_login(make_operator("olga", game, GameAccess.Role.OPERATOR))
    starts = timezone.now().replace(microsecond=0) + timedelta(days=2)

    response = client.post(
        "/admin/shop/category/add/",
        window_form(game, visible_from=starts, visible_until=starts + timedelta(days=1)),
    )

    assert response.status_code == 302
    saved = Category.objects.get()
    assert (saved.visible_from, saved.visible_until) == (starts, starts + timedelta(days=1))


@pytest.mark.parametrize("length", [timedelta(0), timedelta(days=-1)])
def test_clean_refuses_an_empty_or_backwards_window(game, length):
    starts = timezone.now()
    category = Category(
        game=game, name="Weekend", visible_from=starts, visible_until=starts + length
    )

    with pytest.raises(ValidationError) as refused:
        category.full_clean()

    assert "visible_until" in refused.value.message_dict


def test_an_open_ended_window_is_fine(game):
    for window in ({"visible_from": timezone.now()}, {"visible_until": timezone.now()}):
        category = Category(game=game, name="Open ended", **window)
        category.full_clean()  # raises ValidationError if refused
        category.save()

    assert Category.objects.filter(name="Open ended").count() == 2
