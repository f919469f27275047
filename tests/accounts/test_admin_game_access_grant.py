"""A role granted in the admin (Game accesses) goes through set_game_access, as every grant: the
user is made staff, without which the admin would not let them in to use it."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from apps.accounts.models import GameAccess
from apps.accounts.services import set_game_access
from apps.audit.models import AuditLogEntry

pytestmark = pytest.mark.django_db

ADD = "/admin/accounts/gameaccess/add/"


@pytest.fixture
def owner(game):
    olivia = get_user_model().objects.create_user(username="olivia", password="pw-long-enough-1")
    set_game_access(user=olivia, game=game, role=GameAccess.Role.OWNER)
    return olivia


def new_user(username: str):
    return get_user_model().objects.create_user(username=username, password="pw-long-enough-1")


def test_a_role_granted_in_the_admin_makes_its_user_staff(client, owner, game):
    carol = new_user("carol")
    assert not carol.is_staff
    client.force_login(owner)

    response = client.post(ADD, {"username": "carol", "game": game.pk, "role": "analyst"})

    assert response.status_code == 302
    access = GameAccess.objects.get(user=carol, game=game)
    assert access.role == GameAccess.Role.ANALYST
    assert AuditLogEntry.objects.filter(action="admin_add", target_id=str(access.pk)).exists()
    carol.refresh_from_db()
    assert carol.is_staff
    client.force_login(carol)
    assert client.get("/admin/").status_code == 200  # the access is of use


def test_a_grant_moved_to_another_user_makes_that_user_staff(client, owner, game):
    carol, dave = new_user("carol"), new_user("dave")
    access = set_game_access(user=carol, game=game, role=GameAccess.Role.ANALYST)
    client.force_login(owner)

    response = client.post(
        f"/admin/accounts/gameaccess/{access.pk}/change/",
        {"username": "dave", "game": game.pk, "role": "operator"},
    )

    assert response.status_code == 302
    access.refresh_from_db()
    assert (access.user, access.role) == (dave, GameAccess.Role.OPERATOR)
    assert GameAccess.objects.filter(game=game).count() == 2  # olivia's and this one, moved
    dave.refresh_from_db()
    assert dave.is_staff


def test_a_role_change_in_the_admin_keeps_the_same_row(client, owner, game):
    carol = new_user("carol")
    access = set_game_access(user=carol, game=game, role=GameAccess.Role.ANALYST)
    client.force_login(owner)

    client.post(
        f"/admin/accounts/gameaccess/{access.pk}/change/",
        {"username": "carol", "game": game.pk, "role": "operator"},
    )

    assert list(GameAccess.objects.filter(user=carol).values_list("pk", "role")) == [
        (access.pk, "operator")
    ]
