import datetime
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from unittest import mock

import pytest
from django.db import connection

from apps.accounts.errors import LastIdentity
from apps.accounts.models import Game, PlatformIdentity, Player
from apps.login.services.identities import unlink_identity
from apps.platforms.models import PlatformCredential
from apps.platforms.verifiers import VerifiedIdentity
from gamingpanel.shortcache import clear_every_cache
from tests.accounts.conftest import assert_problem, bearer

LINK, UNLINK = "/api/v1/auth/link", "/api/v1/auth/unlink"
STEAM = {"platform": "steam", "credentials": {"ticket": "14000000"}}

pytestmark = pytest.mark.django_db


@pytest.fixture
def steam(game):
    PlatformCredential.objects.create(game=game, platform="steam", config={"app_id": "480"})
    verifier = mock.Mock(required_config=())
    verifier.verify.return_value = VerifiedIdentity("7656119", "Gabe", entitlement_checked=True)
    with mock.patch("apps.login.services.login.get_verifier", return_value=verifier):
        yield verifier


def platforms_of(response) -> list[str]:
    return [identity["platform"] for identity in response.json()["identities"]]


def test_link_attaches_a_second_identity(tokens, steam):
    response = bearer(tokens["access_token"]).post(LINK, STEAM)

    assert response.status_code == 200
    assert platforms_of(response) == ["dev", "steam"]
    steam_identity = response.json()["identities"][1]
    assert steam_identity["platform_user_id"] == "7656119" and steam_identity["linked_at"]
    assert PlatformIdentity.objects.get(platform="steam").player_id == tokens["player"]["id"]


def test_the_linked_identity_logs_in_to_the_same_player(tokens, steam, api_client):
    bearer(tokens["access_token"]).post(LINK, STEAM)

    response = api_client.post(
        "/api/v1/auth/third-party/login", STEAM, HTTP_X_GAME_KEY="alpha-client-key"
    )

    assert response.json()["player"] == {**tokens["player"], "created": False}


def test_linking_the_same_identity_again_changes_nothing(tokens, steam):
    client = bearer(tokens["access_token"])
    client.post(LINK, STEAM)

    response = client.post(LINK, STEAM)

    assert response.status_code == 200
    assert PlatformIdentity.objects.count() == 2


def test_an_identity_of_another_player_is_409_identity_taken(login, steam, api_client):
    api_client.post("/api/v1/auth/third-party/login", STEAM, HTTP_X_GAME_KEY="alpha-client-key")
    alice = login("alice")

    response = bearer(alice["access_token"]).post(LINK, STEAM)

    assert_problem(response, 409, "identity_taken")
    assert PlatformIdentity.objects.filter(player_id=alice["player"]["id"]).count() == 1


def test_a_second_account_on_a_linked_platform_is_409(tokens, steam):
    client = bearer(tokens["access_token"])
    client.post(LINK, STEAM)
    steam.verify.return_value = VerifiedIdentity("999", "Other", entitlement_checked=True)

    assert_problem(client.post(LINK, STEAM), 409, "platform_already_linked")


def test_link_checks_ownership_like_login(tokens, steam):
    steam.verify.return_value = VerifiedIdentity("7656119", "Gabe", entitlement_checked=False)
    assert_problem(bearer(tokens["access_token"]).post(LINK, STEAM), 403, "not_entitled")
    assert PlatformIdentity.objects.count() == 1


def test_link_needs_the_platform_configured(tokens):
    response = bearer(tokens["access_token"]).post(LINK, STEAM)
    assert_problem(response, 400, "platform_not_configured")


def test_unlink_detaches_one_identity(tokens, steam):
    client = bearer(tokens["access_token"])
    client.post(LINK, STEAM)

    response = client.post(UNLINK, {"platform": "dev"})

    assert response.status_code == 200
    assert platforms_of(response) == ["steam"]


def test_unlinking_an_account_ends_the_sessions_it_opened_and_it_cannot_link_back(
    tokens, steam, api_client, django_capture_on_commit_callbacks
):
    alice = bearer(tokens["access_token"])
    alice.post(LINK, STEAM)  # a Steam account (say, someone else's, linked with a stolen token)
    taken = api_client.post(
        "/api/v1/auth/third-party/login", STEAM, HTTP_X_GAME_KEY="alpha-client-key"
    ).json()
    intruder = bearer(taken["access_token"])
    assert intruder.get(LINK).status_code == 200  # in as alice's player

    with django_capture_on_commit_callbacks(execute=True):  # the revocation is published
        assert alice.post(UNLINK, {"platform": "steam"}).status_code == 200

    assert_problem(intruder.get(LINK), 401, "token_revoked")
    refreshed = api_client.post("/api/v1/auth/refresh", {"refresh_token": taken["refresh_token"]})
    assert_problem(refreshed, 401, "token_revoked")
    assert_problem(intruder.post(LINK, STEAM), 401, "token_revoked")  # no way to link it back
    assert alice.get(LINK).status_code == 200  # alice's own (dev) session goes on
    assert platforms_of(alice.get(LINK)) == ["dev"]


def test_the_last_identity_cannot_be_unlinked(tokens):
    response = bearer(tokens["access_token"]).post(UNLINK, {"platform": "dev"})

    assert_problem(response, 409, "last_identity")
    assert PlatformIdentity.objects.count() == 1


def test_an_identity_the_game_no_longer_accepts_does_not_count_as_a_way_back(tokens, steam):
    client = bearer(tokens["access_token"])
    client.post(LINK, STEAM)  # dev + steam
    Game.objects.update(sandbox=False)  # the game went live: dev logins are refused
    clear_every_cache()

    response = client.post(UNLINK, {"platform": "steam"})

    assert_problem(response, 409, "last_identity")
    assert PlatformIdentity.objects.count() == 2
    Game.objects.update(sandbox=True)
    PlatformCredential.objects.filter(platform="steam").update(enabled=False)
    clear_every_cache()
    assert_problem(client.post(UNLINK, {"platform": "dev"}), 409, "last_identity")
    PlatformCredential.objects.filter(platform="steam").update(enabled=True)
    clear_every_cache()
    assert client.post(UNLINK, {"platform": "dev"}).status_code == 200


def test_unlinking_a_platform_not_linked_is_404(tokens):
    response = bearer(tokens["access_token"]).post(UNLINK, {"platform": "steam"})
    assert_problem(response, 404, "identity_not_linked")


def test_link_and_unlink_need_a_player_token(api_client, server_client):
    assert_problem(api_client.post(LINK, STEAM), 401, "not_authenticated")
    assert_problem(server_client.post(UNLINK, {"platform": "dev"}), 403, "wrong_credential_kind")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_racing_unlinks_never_leave_a_player_without_identity(tokens, steam):
    bearer(tokens["access_token"]).post(LINK, STEAM)  # dev + steam
    player = Player.objects.get()

    def unlink(platform: str) -> None:
        try:
            with suppress(LastIdentity):
                unlink_identity(player=player, platform=platform)
        finally:
            connection.close()

    with ThreadPoolExecutor(2) as pool:
        list(pool.map(unlink, ["dev", "steam"]))

    assert PlatformIdentity.objects.filter(player=player).count() == 1


def test_a_link_the_database_failed_gives_its_single_use_token_back(tokens, steam):
    from django.db import OperationalError

    from apps.platforms.errors import InvalidCredentials
    from apps.platforms.verifiers.base import first_use

    def single_use(config, credentials):
        if not first_use("test-token", credentials["ticket"], seconds=600):
            raise InvalidCredentials("already used")
        return VerifiedIdentity("7656119", "Gabe", entitlement_checked=True)

    steam.verify.side_effect = single_use
    client = bearer(tokens["access_token"])
    down = mock.patch(
        "apps.login.services.identities._attach", side_effect=OperationalError("down")
    )
    with down:
        assert_problem(client.post(LINK, STEAM), 503, "service_unavailable")

    assert platforms_of(client.post(LINK, STEAM)) == ["dev", "steam"]  # the retry
    assert_problem(client.post(LINK, STEAM), 401, "invalid_credentials")


def test_get_link_lists_the_players_identities(tokens, steam, api_client):
    client = bearer(tokens["access_token"])
    before = client.get(LINK)
    client.post(LINK, STEAM)

    after = client.get(LINK)

    assert (before.status_code, platforms_of(before)) == (200, ["dev"])
    assert platforms_of(after) == ["dev", "steam"]
    assert after.json() == client.post(LINK, STEAM).json()  # the shape link answers
    assert api_client.get(LINK).status_code == 401


@pytest.mark.parametrize("platform", ["xbox", "STEAM", ""])
def test_a_platform_outside_the_enum_is_unsupported_platform(tokens, platform):
    client = bearer(tokens["access_token"])
    linked = client.post(LINK, {"platform": platform, "credentials": {}}, format="json")
    unlinked = client.post(UNLINK, {"platform": platform}, format="json")

    assert (linked.status_code, linked.json()["code"]) == (400, "unsupported_platform")
    assert (unlinked.status_code, unlinked.json()["code"]) == (400, "unsupported_platform")
    assert (
        bearer(tokens["access_token"]).post(UNLINK, {"platform": 5}, format="json").json()["code"]
        == "validation_error"
    )  # not a string at all


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_login_waiting_on_an_unlink_of_its_identity_makes_a_new_player(tokens, steam):
    import threading
    import time

    from apps.accounts.services import sessions
    from apps.login.services.login import log_in
    from tests.conftest import in_thread

    bearer(tokens["access_token"]).post(LINK, STEAM)  # dev + steam
    player = Player.objects.get()
    deleted, release = threading.Event(), threading.Event()

    def revoke_and_hold(**kwargs):
        deleted.set()  # the identity is deleted, the player locked, until the unlink commits
        release.wait(10)
        return sessions.revoke_sessions(**kwargs)

    with mock.patch("apps.login.services.identities.revoke_sessions", revoke_and_hold):
        unlink = in_thread(lambda: unlink_identity(player=player, platform="steam"))
        assert deleted.wait(10)
        login = in_thread(
            lambda: log_in(game=player.game, platform="steam", credentials={"ticket": "14"})
        )
        time.sleep(0.3)
        assert not login.done()  # waiting for the player's lock
        release.set()
        unlink.result(10)
        result = login.result(10)

    # The steam account is no longer alice's: its login must not reach her player.
    assert result.created and result.player.pk != player.pk
    assert PlatformIdentity.objects.get(platform="steam").player_id == result.player.pk
    assert [i.platform for i in PlatformIdentity.objects.filter(player=player)] == ["dev"]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_an_unlink_and_a_refresh_that_locked_the_session_first_do_not_deadlock(
    tokens, steam, monkeypatch
):
    """The refresh holds its session's lock, then records its session start (a row naming the
    player: a key-share lock on the player's row); the unlink holds the player's row, then
    waits for the session to revoke it. The unlink's lock must not be one that insert waits for:
    with FOR UPDATE the two deadlocked and one of them failed."""
    from apps.accounts.models import AuthSession
    from tests.accounts.conftest import refresh_racing

    bearer(tokens["access_token"]).post(LINK, STEAM)  # dev + steam
    player = Player.objects.get()

    response, _ = refresh_racing(
        tokens["refresh_token"],
        lambda: unlink_identity(player=player, platform="dev"),
        monkeypatch,
    )

    assert response.status_code == 200, response.content
    assert list(PlatformIdentity.objects.values_list("platform", flat=True)) == ["steam"]
    dev_sessions = AuthSession.objects.filter(platform="dev")
    assert {s.revoke_reason for s in dev_sessions} == {AuthSession.RevokeReason.IDENTITY_UNLINKED}


def _committed_after(work, during):
    """Run `work` in a transaction on its own connection and hold it, its locks taken, until
    `during(done, release)` lets it commit (release.set()); `during`'s result is given back."""
    import threading

    from django.db import transaction

    from tests.conftest import in_thread

    held, release = threading.Event(), threading.Event()

    def hold():
        with transaction.atomic():
            work()
            held.set()
            release.wait(10)

    done = in_thread(hold)
    assert held.wait(10)
    try:
        return during(done, release)
    finally:
        release.set()
        done.result(10)


def _log_in_while_held(game):
    """A steam login started while the other transaction holds its locks: it must wait."""
    import time

    from apps.login.services.login import log_in
    from tests.conftest import in_thread

    def during(done, release):
        login = in_thread(lambda: log_in(game=game, platform="steam", credentials={"ticket": "1"}))
        time.sleep(0.3)
        assert not login.done()  # waiting for the player's lock
        release.set()
        done.result(10)
        return login.result(10)

    return during


LONG_AGO = datetime.datetime(2020, 1, 1, tzinfo=datetime.UTC)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_login_waiting_on_an_unlink_leaves_the_old_player_untouched(tokens, steam):
    """The login read the identity's player before the unlink committed, then waited for that
    player's lock: the account is no longer that player's, so it must not stamp it."""
    bearer(tokens["access_token"]).post(LINK, STEAM)  # dev + steam
    Player.objects.update(last_login_at=LONG_AGO)
    alice = Player.objects.get()

    result = _committed_after(
        lambda: unlink_identity(player=alice, platform="steam"), _log_in_while_held(alice.game)
    )

    assert result.created and result.player.pk != alice.pk
    alice.refresh_from_db()
    assert alice.last_login_at == LONG_AGO  # not stamped by a login that is no longer hers
    assert PlatformIdentity.objects.get(platform="steam").player_id == result.player.pk


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_login_waiting_while_the_account_moves_to_another_player_logs_in_to_that_one(
    tokens, steam
):
    """Unlinked from alice and linked to bob while a login of it waited on alice: it logs in to
    bob, the account's owner now, and leaves alice as she was."""
    from apps.login.services.identities import link_identity

    bearer(tokens["access_token"]).post(LINK, STEAM)  # alice: dev + steam
    Player.objects.update(last_login_at=LONG_AGO)
    alice = Player.objects.get()
    bob = Player.objects.create(game=alice.game, display_name="bob", last_login_at=LONG_AGO)

    def move():
        unlink_identity(player=alice, platform="steam")
        link_identity(player=bob, platform="steam", credentials={"ticket": "2"})

    result = _committed_after(move, _log_in_while_held(alice.game))

    assert not result.created and result.player.pk == bob.pk
    assert Player.objects.count() == 2  # the login's own new player rolled back
    alice.refresh_from_db()
    bob.refresh_from_db()
    assert alice.last_login_at == LONG_AGO
    assert bob.last_login_at is not None and bob.last_login_at > LONG_AGO
    assert PlatformIdentity.objects.get(platform="steam").player_id == bob.pk
