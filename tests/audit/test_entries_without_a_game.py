"""The audit entries of no game (failed sign-ins and lock-outs, two-factor resets, a deleted
game's log): every superuser reads them, in the list and on each entry's page, whether or not
the sign-in gave a two-factor code, and on a deployment with no game at all; an owner does not.
A game that requires two-factor sign-in keeps its entries from a sign-in without a code."""

from django.contrib.auth import get_user_model
from django.test import Client

from apps.accounts.models import GameAccess, Player
from apps.accounts.services import set_game_access
from apps.audit.services import record_action, record_login_failure
from tests.panel.conftest import PASSWORD
from tests.panel.test_two_factor import set_up

LIST = "/admin/audit/auditlogentry/"


def _page(pk: int) -> str:
    return f"/admin/audit/auditlogentry/{pk}/change/"


def _superuser_signed_in(settings) -> tuple[Client, object]:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    root = get_user_model().objects.create_superuser("root", password=PASSWORD)
    client = Client()
    assert (
        client.post("/admin/login/", {"username": "root", "password": PASSWORD}).status_code == 302
    )
    return client, root


def test_a_superuser_without_a_code_reads_the_entries_of_no_game(client, db, settings):
    entry = record_login_failure(username="nobody", address="203.0.113.9", locked_out=False)
    assert entry is not None and entry.game_id is None
    signed_in, _ = _superuser_signed_in(settings)

    listed = signed_in.get(LIST)  # a deployment with no game yet
    page = signed_in.get(_page(entry.pk))

    assert listed.status_code == 200 and [e.pk for e in listed.context["cl"].result_list] == [
        entry.pk
    ]
    assert page.status_code == 200 and "203.0.113.9" in page.content.decode()


def test_a_superuser_with_a_code_opens_an_entry_of_no_game(game, settings):
    entry = record_login_failure(username="nobody", address="203.0.113.9", locked_out=False)
    signed_in, root = _superuser_signed_in(settings)
    set_up(signed_in, root)  # confirming verifies this sign-in

    assert entry.pk in [e.pk for e in signed_in.get(LIST).context["cl"].result_list]
    assert signed_in.get(_page(entry.pk)).status_code == 200


def test_a_two_factor_games_entries_stay_hidden_from_a_sign_in_without_a_code(
    game, other_game, settings
):
    game.require_operator_otp = True
    game.save()
    hidden = record_action(
        actor=None,
        game=game,
        action="player.ban",
        target=Player.objects.create(game=game, display_name="hidden"),
        after={"banned": True},
    )
    shown = record_action(
        actor=None,
        game=other_game,
        action="player.ban",
        target=Player.objects.create(game=other_game, display_name="shown"),
        after={"banned": True},
    )
    gameless = record_login_failure(username="nobody", address="203.0.113.9", locked_out=False)
    signed_in, _ = _superuser_signed_in(settings)

    listed = {e.pk for e in signed_in.get(LIST).context["cl"].result_list}

    assert listed == {shown.pk, gameless.pk}
    assert signed_in.get(_page(hidden.pk)).status_code in (302, 403)


def test_an_owner_does_not_read_the_entries_of_no_game(client, game):
    owner = get_user_model().objects.create_user("olga", password="pw-long-enough-1")
    set_game_access(user=owner, game=game, role=GameAccess.Role.OWNER)
    entry = record_login_failure(username="olga", address="203.0.113.9", locked_out=False)
    client.force_login(owner)

    assert client.get(_page(entry.pk)).status_code in (302, 403)
    assert entry.pk not in [e.pk for e in client.get(LIST).context["cl"].result_list]
