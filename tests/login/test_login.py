import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from unittest import mock

import pytest
import requests
import responses
from django.db import connection
from django.utils import timezone
from responses import matchers

from apps.accounts.models import AuthSession, Game, PlatformIdentity, Player
from apps.analytics.models import RawEvent
from apps.inventory.models import Currency, LedgerEntry, Wallet
from apps.login.services.login import log_in
from apps.platforms.errors import InvalidCredentials, PlatformUnavailable
from apps.platforms.models import PlatformCredential
from apps.platforms.verifiers import VerifiedIdentity
from tests.accounts.conftest import LOGIN, assert_problem
from tests.conftest import in_thread


def post_login(api_client, body, game_key="alpha-client-key"):
    return api_client.post(LOGIN, body, HTTP_X_GAME_KEY=game_key)


DEV_ALICE = {"platform": "dev", "credentials": {"user_id": "alice", "display_name": "Alice"}}


@pytest.fixture
def gold(game):
    return Currency.objects.create(game=game, code="gold", name="Gold")


@pytest.mark.django_db
def test_first_login_creates_the_player_with_starting_grant_and_events(
    api_client, game, dev_platform, gold
):
    game.starting_grant = {"gold": 500}
    game.save()

    response = post_login(api_client, DEV_ALICE)

    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 7200 and body["refresh_expires_in"] == 2592000
    assert body["player"]["created"] is True and body["player"]["display_name"] == "Alice"
    player = Player.objects.get(pk=body["player"]["id"])
    assert player.game == game and player.last_login_at is not None
    assert player.identities.get().platform_user_id == "alice"
    assert Wallet.objects.get(player=player, currency=gold).balance == 500
    assert LedgerEntry.objects.filter(player=player, reason="starting_grant").count() == 1
    names = list(RawEvent.objects.filter(player=player).values_list("name", flat=True))
    assert sorted(names) == ["player_created", "session_start"]
    assert AuthSession.objects.filter(player=player, platform="dev").count() == 1
    # One moment: a login across UTC midnight counts the player new on the day it was created.
    moments = set(RawEvent.objects.filter(player=player).values_list("occurred_at", flat=True))
    assert moments == {player.created_at}


@pytest.mark.django_db
def test_second_login_finds_the_same_player_and_grants_nothing_again(
    api_client, game, dev_platform, gold
):
    game.starting_grant = {"gold": 500}
    game.save()
    first = post_login(api_client, DEV_ALICE).json()
    first_login_at = Player.objects.get().last_login_at

    second = post_login(api_client, DEV_ALICE).json()

    assert second["player"] == {**first["player"], "created": False}
    assert Player.objects.get().last_login_at > first_login_at
    assert PlatformIdentity.objects.get().last_login_at > first_login_at
    assert Player.objects.count() == 1
    assert LedgerEntry.objects.count() == 1
    assert RawEvent.objects.filter(name="session_start").count() == 2
    assert RawEvent.objects.filter(name="player_created").count() == 1


@pytest.mark.django_db
def test_same_platform_user_in_another_game_is_another_player(api_client, game, other_game):
    for g in (game, other_game):
        PlatformCredential.objects.create(game=g, platform="dev")

    in_alpha = post_login(api_client, DEV_ALICE).json()
    in_beta = post_login(api_client, DEV_ALICE, game_key="beta-client-key").json()

    assert in_alpha["player"]["id"] != in_beta["player"]["id"]
    assert Player.objects.get(pk=in_beta["player"]["id"]).game == other_game


@pytest.mark.django_db
def test_banned_player_cannot_log_in(api_client, dev_platform):
    player_id = post_login(api_client, DEV_ALICE).json()["player"]["id"]
    Player.objects.filter(pk=player_id).update(banned_until=timezone.now() + timedelta(days=1))

    body = assert_problem(post_login(api_client, DEV_ALICE), 403, "player_banned")

    assert "banned_until" in body
    assert AuthSession.objects.count() == 1  # only the session from before the ban


@pytest.mark.django_db
def test_platform_without_credentials_is_400_platform_not_configured(api_client, game):
    assert_problem(post_login(api_client, DEV_ALICE), 400, "platform_not_configured")
    assert Player.objects.count() == 0


@pytest.mark.django_db
def test_disabled_platform_is_400_platform_not_configured(api_client, game):
    PlatformCredential.objects.create(game=game, platform="dev", enabled=False)
    assert_problem(post_login(api_client, DEV_ALICE), 400, "platform_not_configured")


@pytest.mark.django_db
def test_dev_platform_is_refused_for_a_production_game(api_client, game, dev_platform):
    Game.objects.filter(pk=game.pk).update(sandbox=False)
    assert_problem(post_login(api_client, DEV_ALICE), 400, "platform_not_configured")
    assert Player.objects.count() == 0


@pytest.mark.django_db
def test_unknown_platform_is_400_unsupported_platform(api_client, game):
    body = {"platform": "gameboy", "credentials": {}}
    assert_problem(post_login(api_client, body), 400, "unsupported_platform")


@pytest.mark.django_db
def test_unknown_game_key_is_401(api_client, game):
    assert_problem(post_login(api_client, DEV_ALICE, game_key="nope"), 401, "invalid_game_key")


@pytest.mark.django_db
@pytest.mark.parametrize(
    "body",
    [
        {},
        {"platform": "dev"},
        {"platform": "dev", "credentials": "alice"},
        {"platform": ["dev"], "credentials": {}},
        {"platform": "dev", "credentials": {"user_id": 7}},
        {"platform": "dev", "credentials": {"user_id": "no spaces please"}},
        # No platform issues a credential with U+0000 or a lone surrogate; a column stores
        # neither, and an outbound request cannot encode a surrogate (once a 500).
        {"platform": "dev", "credentials": {"user_id": "u1", "display_name": "x\u0000"}},
        {"platform": "dev", "credentials": {"user_id": "u1", "display_name": "x\ud800"}},
    ],
)
def test_malformed_login_is_400_validation_error(api_client, dev_platform, body):
    # As text with every non-ASCII character escaped, as a client's encoder sends a surrogate.
    sent = api_client.post(
        LOGIN, json.dumps(body), content_type="application/json", HTTP_X_GAME_KEY="alpha-client-key"
    )
    assert_problem(sent, 400, "validation_error")
    assert Player.objects.count() == 0


@pytest.mark.django_db
@pytest.mark.parametrize("charset", ["rot13", "hex", "base64"])
def test_a_charset_that_is_no_text_encoding_is_malformed_json(api_client, dev_platform, charset):
    response = api_client.post(
        LOGIN,
        b'{"platform": "dev", "credentials": {"user_id": "u1"}}',
        content_type=f"application/json; charset={charset}",
        HTTP_X_GAME_KEY="alpha-client-key",
    )
    assert response.status_code in (400, 415), response.content[:200]
    assert response.json()["code"] in ("malformed_json", "unsupported_media_type")
    assert Player.objects.count() == 0


@pytest.mark.django_db
def test_malformed_json_is_a_problem_not_a_500(api_client, dev_platform):
    response = api_client.post(
        LOGIN, b"{nope", content_type="application/json", HTTP_X_GAME_KEY="alpha-client-key"
    )
    assert_problem(response, 400, "malformed_json")


def fake_verifier(result=None, error=None):
    verifier = mock.Mock(required_config=())
    verifier.verify.side_effect = error
    verifier.verify.return_value = result
    return mock.patch("apps.login.services.login.get_verifier", return_value=verifier)


@pytest.fixture
def steam(game):
    return PlatformCredential.objects.create(game=game, platform="steam", config={"app_id": "480"})


STEAM_BODY = {"platform": "steam", "credentials": {"ticket": "14000000"}}


@pytest.mark.django_db
def test_login_passes_the_games_platform_config_to_the_verifier(api_client, steam):
    identity = VerifiedIdentity("76561197960287930", "Gabe", entitlement_checked=True)
    with fake_verifier(result=identity) as get_verifier:
        response = post_login(api_client, STEAM_BODY)

    assert response.status_code == 200
    config, credentials = get_verifier.return_value.verify.call_args.args
    assert config["app_id"] == "480" and config["sandbox"] is True
    assert credentials == {"ticket": "14000000"}
    assert PlatformIdentity.objects.get().platform_user_id == "76561197960287930"


@pytest.mark.django_db
@pytest.mark.parametrize(("platform_name", "stored"), [(None, "Neo"), ("Gabe", "Gabe")])
def test_the_clients_display_name_is_the_fallback_for_a_platform_without_one(
    api_client, steam, platform_name, stored
):
    identity = VerifiedIdentity("76561197960287930", platform_name, entitlement_checked=True)
    body = {"platform": "steam", "credentials": {"ticket": "14000000", "display_name": " Neo "}}
    with fake_verifier(result=identity):
        response = post_login(api_client, body)

    assert response.status_code == 200
    assert Player.objects.get().display_name == stored


@pytest.mark.django_db
def test_ownership_not_confirmed_is_403_and_creates_nobody(api_client, steam):
    identity = VerifiedIdentity("76561197960287930", "Gabe", entitlement_checked=False)
    with fake_verifier(result=identity):
        assert_problem(post_login(api_client, STEAM_BODY), 403, "not_entitled")
    assert Player.objects.count() == 0


@pytest.mark.django_db
def test_a_verifier_answer_without_user_id_is_503_not_a_500(api_client, steam):
    with fake_verifier(result=VerifiedIdentity("", "Nobody", entitlement_checked=True)):
        assert_problem(post_login(api_client, STEAM_BODY), 503, "platform_unavailable")
    assert Player.objects.count() == 0


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("error", "status", "code"),
    [
        (InvalidCredentials("ticket refused"), 401, "invalid_credentials"),
        (PlatformUnavailable("timeout"), 503, "platform_unavailable"),
    ],
)
def test_platform_refusals_pass_through_as_problems(api_client, steam, error, status, code):
    with fake_verifier(error=error):
        assert_problem(post_login(api_client, STEAM_BODY), status, code)
    assert Player.objects.count() == 0 and AuthSession.objects.count() == 0


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_racing_first_logins_of_one_identity_make_one_player(game, dev_platform):
    def first_login(_: int) -> int:
        try:
            return log_in(game=game, platform="dev", credentials={"user_id": "alice"}).player.pk
        finally:
            connection.close()

    with ThreadPoolExecutor(8) as pool:
        player_ids = set(pool.map(first_login, range(8)))

    assert len(player_ids) == 1
    assert Player.objects.count() == 1 and PlatformIdentity.objects.count() == 1
    assert AuthSession.objects.count() == 8
    assert RawEvent.objects.filter(name="player_created").count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_racing_first_logins_grant_the_starting_grant_once(game, dev_platform):
    Currency.objects.create(game=game, code="gold", name="Gold")
    Game.objects.filter(pk=game.pk).update(starting_grant={"gold": 500})
    start = threading.Barrier(8)

    def first_login(_: int) -> int:
        try:
            start.wait()
            return log_in(game=game, platform="dev", credentials={"user_id": "bob"}).player.pk
        finally:
            connection.close()

    game.refresh_from_db()
    with ThreadPoolExecutor(8) as pool:
        player_ids = set(pool.map(first_login, range(8)))

    assert len(player_ids) == 1
    player = Player.objects.get()
    assert Wallet.objects.get(player=player).balance == 500
    assert LedgerEntry.objects.filter(player=player, reason="starting_grant").count() == 1
    assert RawEvent.objects.filter(name="player_created").count() == 1


STEAM_AUTH = "https://steam.test/ISteamUserAuth/AuthenticateUserTicket/v1/"
STEAM_NAMES = "https://steam.test/ISteamUser/GetPlayerSummaries/v2/"
STEAM_OWNS = "https://steam.test/ISteamUser/CheckAppOwnership/v4/"
STEAM_CONFIG = {"app_id": "480", "identity": "gp-login"}
TICKET_OK = {"response": {"params": {"result": "OK", "steamid": "76561197960287930"}}}


@pytest.fixture
def real_steam(game, settings):
    """The real Steam verifier, the game's encrypted publisher key, Steam faked by responses."""
    settings.STEAM_API_BASE_URL = "https://steam.test"
    credential = PlatformCredential(game=game, platform="steam", config=STEAM_CONFIG)
    credential.set_secrets({"publisher_key": "PUBLISHERKEY0123456789"})
    credential.save()
    with responses.RequestsMock() as steam:
        yield steam


@pytest.mark.django_db
def test_steam_login_end_to_end(api_client, real_steam):
    real_steam.get(
        STEAM_AUTH,
        json={
            "response": {
                "params": {
                    "result": "OK",
                    "steamid": "76561197960287930",
                    "ownersteamid": "76561197960287930",
                }
            }
        },
        match=[
            matchers.query_param_matcher(
                {
                    "key": "PUBLISHERKEY0123456789",
                    "appid": "480",
                    "ticket": "14000000",
                    "identity": "gp-login",
                }
            )
        ],
    )
    real_steam.get(STEAM_OWNS, json={"appownership": {"ownsapp": True, "permanent": True}})
    real_steam.get(STEAM_NAMES, json={"response": {"players": [{"personaname": "Gabe"}]}})

    response = post_login(api_client, STEAM_BODY)

    assert response.status_code == 200
    assert response.json()["player"]["display_name"] == "Gabe"
    assert PlatformIdentity.objects.get(platform="steam").platform_user_id == "76561197960287930"


@pytest.mark.django_db
def test_a_steam_user_who_does_not_own_the_game_is_403_and_creates_nobody(api_client, real_steam):
    real_steam.get(STEAM_AUTH, json=TICKET_OK)
    real_steam.get(STEAM_OWNS, json={"appownership": {"ownsapp": False, "permanent": False}})

    assert_problem(post_login(api_client, STEAM_BODY), 403, "not_entitled")
    assert Player.objects.count() == 0 and AuthSession.objects.count() == 0


@pytest.mark.django_db
def test_a_game_opting_out_of_steam_ownership_logs_in_without_the_check(api_client, real_steam):
    PlatformCredential.objects.filter(platform="steam").update(
        config={**STEAM_CONFIG, "check_ownership": False}
    )
    real_steam.get(STEAM_AUTH, json=TICKET_OK)
    real_steam.get(STEAM_NAMES, json={"response": {"players": []}})

    response = post_login(api_client, STEAM_BODY)

    assert response.status_code == 200
    assert PlatformIdentity.objects.get(platform="steam").platform_user_id == "76561197960287930"
    assert STEAM_OWNS not in [call.request.url.split("?")[0] for call in real_steam.calls]


@pytest.mark.django_db
def test_steam_down_is_503_and_creates_nobody(api_client, real_steam):
    real_steam.get(STEAM_AUTH, body=requests.ConnectTimeout("slow"))

    assert_problem(post_login(api_client, STEAM_BODY), 503, "platform_unavailable")
    assert Player.objects.count() == 0


@pytest.mark.django_db
def test_a_slow_platform_is_503_within_the_logins_time_budget(api_client, real_steam, settings):
    """The ticket check answers, but too late: the ownership check that would follow is never
    started, so the client hears within the budget, not after two full timeouts."""
    settings.PLATFORM_LOGIN_DEADLINE_SECONDS = 0.25
    PlatformCredential.objects.filter(platform="steam").update(
        config={**STEAM_CONFIG, "check_ownership": True}
    )

    def slow_steam(request):
        time.sleep(0.3)
        return 200, {}, json.dumps(TICKET_OK)

    real_steam.add_callback(responses.GET, STEAM_AUTH, callback=slow_steam)

    assert_problem(post_login(api_client, STEAM_BODY), 503, "platform_unavailable")
    assert len(real_steam.calls) == 1
    assert Player.objects.count() == 0


def single_use_verifier(display_name: str | None = "Gabe"):
    """Accepts each credential once, as the Epic, Nintendo and Apple verifiers do."""
    from apps.platforms.verifiers.base import first_use

    def verify(config, credentials):
        if not first_use("test-token", credentials["ticket"], seconds=600):
            raise InvalidCredentials("already used")
        return VerifiedIdentity("76561197960287930", display_name, entitlement_checked=True)

    verifier = mock.Mock()
    verifier.verify.side_effect = verify
    return mock.patch("apps.login.services.login.get_verifier", return_value=verifier)


@pytest.mark.django_db
def test_a_login_the_database_failed_gives_its_single_use_token_back(api_client, steam):
    from django.db import OperationalError

    down = mock.patch(
        "apps.login.services.login._open_for_identity", side_effect=OperationalError("down")
    )
    with single_use_verifier(), down:
        failed = post_login(api_client, STEAM_BODY)
    assert_problem(failed, 503, "service_unavailable")
    assert Player.objects.count() == 0

    with single_use_verifier():
        assert post_login(api_client, STEAM_BODY).status_code == 200  # the retry
        assert_problem(post_login(api_client, STEAM_BODY), 401, "invalid_credentials")


@pytest.mark.django_db
@pytest.mark.parametrize("platform_name", [None, "Gabe"])
@pytest.mark.parametrize("bad_name", [5, "N" * 1025, "Ne\x00o"])
def test_a_display_name_refused_does_not_spend_the_token(
    api_client, steam, platform_name, bad_name
):
    """The client's name is checked before the platform vouches for the token (which spends a
    single-use one): the client corrects its name and logs in with the same token."""
    body = {"platform": "steam", "credentials": {"ticket": "14000000", "display_name": bad_name}}
    with single_use_verifier(platform_name):
        refused = post_login(api_client, body)
        body["credentials"]["display_name"] = "Neo"
        retried = post_login(api_client, body)

    assert_problem(refused, 400, "validation_error")
    assert retried.status_code == 200
    assert Player.objects.get().display_name == (platform_name or "Neo")


@pytest.mark.django_db
def test_a_login_refused_after_verification_keeps_the_token_spent(api_client, steam, game):
    from apps.accounts.services.bans import ban_player

    with single_use_verifier():
        player = Player.objects.get(pk=post_login(api_client, STEAM_BODY).json()["player"]["id"])
    ban_player(player=player, reason="cheating", until=None, actor=None)
    body = {"platform": "steam", "credentials": {"ticket": "15000000"}}

    with single_use_verifier():
        assert_problem(post_login(api_client, body), 403, "player_banned")
        assert_problem(post_login(api_client, body), 401, "invalid_credentials")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_login_waiting_on_a_ban_in_progress_sees_the_ban(game, dev_platform):
    from django.db import transaction

    from apps.accounts.errors import PlayerBanned
    from apps.accounts.services.bans import ban_player

    player = log_in(game=game, platform="dev", credentials={"user_id": "alice"}).player
    last_login_at = Player.objects.get().last_login_at
    banned, release = threading.Event(), threading.Event()

    def ban_and_hold():
        with transaction.atomic():  # the ban's lock on the player is held until release
            ban_player(player=player, reason="cheating", until=None, actor=None)
            banned.set()
            release.wait(10)

    ban = in_thread(ban_and_hold)
    assert banned.wait(10)
    login = in_thread(lambda: log_in(game=game, platform="dev", credentials={"user_id": "alice"}))
    time.sleep(0.3)
    assert not login.done()  # waiting for the player's lock
    release.set()
    ban.result(10)

    with pytest.raises(PlayerBanned):
        login.result(10)
    assert Player.objects.get().last_login_at == last_login_at
    assert not AuthSession.objects.filter(revoked_at__isnull=True).exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_ban_waiting_on_a_login_in_progress_revokes_its_session(game, dev_platform):
    from apps.accounts.services import sessions
    from apps.accounts.services.bans import ban_player

    player = log_in(game=game, platform="dev", credentials={"user_id": "alice"}).player
    locked, release = threading.Event(), threading.Event()

    def open_session_and_hold(**kwargs):
        locked.set()  # the login holds the player's lock from here to its commit
        release.wait(10)
        return sessions.open_session(**kwargs)

    with mock.patch("apps.login.services.login.open_session", open_session_and_hold):
        login = in_thread(
            lambda: log_in(game=game, platform="dev", credentials={"user_id": "alice"})
        )
        assert locked.wait(10)
        ban = in_thread(
            lambda: ban_player(player=player, reason="cheating", until=None, actor=None)
        )
        time.sleep(0.3)
        assert not ban.done()  # waiting for the player's lock
        release.set()
        session = login.result(10).tokens.session
    ban.result(10)

    revoked = AuthSession.objects.get(pk=session.pk)
    assert revoked.revoke_reason == AuthSession.RevokeReason.PLAYER_BANNED
    assert not AuthSession.objects.filter(revoked_at__isnull=True).exists()


@pytest.mark.django_db
def test_credentials_of_too_many_fields_are_refused_before_the_platform_reads_them(
    api_client, game, dev_platform
):
    credentials = {**DEV_ALICE["credentials"], **{f"x{n}": n for n in range(40)}}

    response = post_login(api_client, {"platform": "dev", "credentials": credentials})

    assert response.status_code == 400
    assert response.json()["errors"] == {"credentials": ["At most 32 credential fields."]}
    assert not Player.objects.filter(game=game).exists()
