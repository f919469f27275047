"""What login keeps per process, and for how long: the game behind a client key and the game's
platform credential, each at most its stated seconds."""

from unittest import mock

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.accounts.models import AuthSession, Game, PlatformIdentity, Player
from apps.accounts.selectors import GAME_BY_CLIENT_KEY_SECONDS
from apps.analytics.models import RawEvent
from apps.inventory.models import Currency, Wallet
from apps.platforms.models import PlatformCredential
from apps.platforms.selectors import CREDENTIAL_SECONDS
from apps.platforms.verifiers import VerifiedIdentity
from gamingpanel import shortcache
from tests.accounts.conftest import LOGIN, assert_problem
from tests.conftest import is_ledger_write, wallet_lock_at

pytestmark = pytest.mark.django_db

DEV_ALICE = {"platform": "dev", "credentials": {"user_id": "alice", "display_name": "Alice"}}
STEAM_BODY = {"platform": "steam", "credentials": {"ticket": "14000000"}}


@pytest.fixture
def clock(monkeypatch) -> list[float]:
    now = [5000.0]
    monkeypatch.setattr(shortcache.time, "monotonic", lambda: now[0])
    return now


def post_login(api_client, body=DEV_ALICE, game_key="alpha-client-key"):
    return api_client.post(LOGIN, body, HTTP_X_GAME_KEY=game_key)


def test_a_disabled_credential_stops_logins_within_the_bound(api_client, dev_platform, clock):
    assert post_login(api_client).status_code == 200

    PlatformCredential.objects.filter(pk=dev_platform.pk).update(enabled=False)
    clock[0] += CREDENTIAL_SECONDS * 0.9
    stale = post_login(api_client)
    clock[0] += CREDENTIAL_SECONDS * 0.2
    fresh = post_login(api_client)

    assert stale.status_code == 200
    assert_problem(fresh, 400, "platform_not_configured")
    assert AuthSession.objects.count() == 2  # the first login and the stale one, not the third


def test_a_rotated_secret_reaches_the_verifier_within_the_bound(api_client, game, clock):
    credential = PlatformCredential(game=game, platform="steam", config={"app_id": "480"})
    credential.set_secrets({"publisher_key": "OLD-KEY"})
    credential.save()
    identity = VerifiedIdentity("76561197960287930", "Gabe", entitlement_checked=True)
    verifier = mock.Mock(required_config=())
    verifier.verify.return_value = identity
    with mock.patch("apps.login.services.login.get_verifier", return_value=verifier):
        post_login(api_client, STEAM_BODY)
        credential.set_secrets({"publisher_key": "NEW-KEY"})
        credential.save()
        clock[0] += CREDENTIAL_SECONDS * 0.9
        post_login(api_client, STEAM_BODY)
        clock[0] += CREDENTIAL_SECONDS * 0.2
        post_login(api_client, STEAM_BODY)

    keys = [call.args[0]["publisher_key"] for call in verifier.verify.call_args_list]
    assert keys == ["OLD-KEY", "OLD-KEY", "NEW-KEY"]


def test_a_missing_credential_is_not_kept(api_client, game, clock):
    assert_problem(post_login(api_client), 400, "platform_not_configured")

    PlatformCredential.objects.create(game=game, platform="dev")

    assert post_login(api_client).status_code == 200  # at once, the clock never moved


def test_a_game_leaving_sandbox_refuses_dev_logins_within_the_bound(
    api_client, game, dev_platform, clock
):
    assert post_login(api_client).status_code == 200

    Game.objects.filter(pk=game.pk).update(sandbox=False)
    clock[0] += GAME_BY_CLIENT_KEY_SECONDS * 0.9
    stale = post_login(api_client)
    clock[0] += GAME_BY_CLIENT_KEY_SECONDS * 0.2
    fresh = post_login(api_client)

    assert stale.status_code == 200
    assert_problem(fresh, 400, "platform_not_configured")


def test_a_changed_client_key_stops_the_old_one_within_the_bound(
    api_client, game, dev_platform, clock
):
    assert post_login(api_client).status_code == 200

    Game.objects.filter(pk=game.pk).update(client_key="alpha-rotated-key")
    new_key = post_login(api_client, game_key="alpha-rotated-key")  # never kept as unknown
    clock[0] += GAME_BY_CLIENT_KEY_SECONDS * 0.9
    stale = post_login(api_client)
    clock[0] += GAME_BY_CLIENT_KEY_SECONDS * 0.2
    fresh = post_login(api_client)

    assert new_key.status_code == 200 and stale.status_code == 200
    assert_problem(fresh, 401, "invalid_game_key")


def test_an_unknown_client_key_is_not_kept(api_client, dev_platform, clock):
    assert_problem(post_login(api_client, game_key="gamma-client-key"), 401, "invalid_game_key")

    gamma = Game.objects.create(name="Gamma", slug="gamma", client_key="gamma-client-key")
    PlatformCredential.objects.create(game=gamma, platform="dev")
    Game.objects.filter(pk=gamma.pk).update(sandbox=True)

    assert post_login(api_client, game_key="gamma-client-key").status_code == 200


def test_each_login_gets_its_own_game_and_credential(game, dev_platform):
    from apps.accounts.selectors import game_by_client_key
    from apps.platforms.selectors import platform_credential

    first = game_by_client_key("alpha-client-key")
    first.name = "changed by one request"
    second = game_by_client_key("alpha-client-key")
    credential = platform_credential(game=second, platform="dev")
    credential.enabled = False

    assert second.name == "Alpha" and second is not first
    assert platform_credential(game=second, platform="dev").enabled is True


def statements(queries: CaptureQueriesContext) -> list[str]:
    """What a login sends besides transaction control."""
    control = ("BEGIN", "COMMIT", "SAVEPOINT", "RELEASE SAVEPOINT")
    return [q["sql"].strip() for q in queries if not q["sql"].strip().startswith(control)]


def test_a_warm_returning_login_reads_nothing_kept_and_writes_in_three_round_trips(
    api_client, dev_platform
):
    assert post_login(api_client).status_code == 200  # creates alice, keeps game and credential

    with CaptureQueriesContext(connection) as queries:
        response = post_login(api_client)

    assert response.status_code == 200 and response.json()["player"]["created"] is False
    sent = statements(queries)
    # PostgreSQL: the player's and the identity's UPDATE in one prepared statement, then the
    # session's prepared insert, then its refresh token's and the analytics event's in one
    # message (run_together).
    if connection.vendor == "postgresql":
        assert [sql.split()[0] for sql in sent] == ["EXECUTE", "EXECUTE", "EXECUTE"]
        assert "gp_insert_accounts_authsession_" in sent[1]
        assert "accounts_sessionrefreshtoken" in sent[2] and "analytics_rawevent" in sent[2]
    else:
        assert [sql.split()[0] for sql in sent] == ["UPDATE", "UPDATE", *["INSERT"] * 3]
    assert not any("accounts_game" in sql or "platformcredential" in sql for sql in sent)
    login_at = AuthSession.objects.latest("pk").created_at
    assert Player.objects.get().last_login_at == login_at
    assert PlatformIdentity.objects.get().last_login_at == login_at


def test_a_new_players_fact_travels_with_the_refresh_token_when_nothing_is_granted(
    api_client, dev_platform
):
    with CaptureQueriesContext(connection) as queries:
        response = post_login(api_client)

    assert response.status_code == 200 and response.json()["player"]["created"] is True
    facts = [sql for sql in statements(queries) if "analytics_rawevent" in sql]
    if connection.vendor == "postgresql":  # both facts in the refresh token's message
        assert len(facts) == 1 and "accounts_sessionrefreshtoken" in facts[0]
        assert facts[0].count("analytics_rawevent") == 2
    player = Player.objects.get()
    names = sorted(RawEvent.objects.filter(player=player).values_list("name", flat=True))
    assert names == ["player_created", "session_start"]


def test_a_new_players_fact_travels_with_the_starting_grants_wallet_lock(
    api_client, game, dev_platform
):
    Currency.objects.create(game=game, code="gold", name="Gold")
    game.starting_grant = {"gold": 500}
    game.save()

    with CaptureQueriesContext(connection) as queries:
        response = post_login(api_client)

    assert response.status_code == 200 and response.json()["player"]["created"] is True
    created = [sql for sql in statements(queries) if "player_created" in sql]
    assert len(created) == 1
    if connection.vendor == "postgresql":  # one message: the fact, then the lock
        assert created[0].index("analytics_rawevent") < wallet_lock_at(created[0])
    # The new player's wallets are made before the grant, which then locks once, and runs in
    # the login's transaction with no savepoint of its own and no lookup of its key.
    sent = [q["sql"] for q in queries]
    start = next(
        n for n, sql in enumerate(sent) if "inventory_" in sql or "gp_create_wallets_" in sql
    )
    end = next(n for n, sql in enumerate(sent) if is_ledger_write(sql))
    grant = sent[start : end + 1]
    assert sum(wallet_lock_at(sql) > -1 for sql in grant) == 1
    assert not any(sql.startswith(("SAVEPOINT", "RELEASE")) for sql in grant)
    assert not any(sql.startswith("SELECT") and "inventory_ledgerentry" in sql for sql in grant)
    player = Player.objects.get()
    assert Wallet.objects.get(player=player).balance == 500
    assert RawEvent.objects.filter(player=player, name="player_created").count() == 1
