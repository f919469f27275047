import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from django.db import OperationalError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from apps.accounts.errors import InvalidToken
from apps.accounts.models import AuthSession, Game, Player, SessionRefreshToken, hash_key
from apps.accounts.services.bans import ban_player, unban_player
from apps.accounts.services.privacy import erase_player
from apps.accounts.services.sessions import find_refresh_token, prune_ended_sessions
from apps.accounts.tasks import prune_sessions
from apps.analytics.models import RawEvent
from apps.login.services.login import refresh_tokens
from apps.platforms.models import PlatformCredential
from gamingpanel.shortcache import clear_every_cache
from tests.accounts.conftest import LOGOUT, REFRESH, VALIDATE, assert_problem, bearer
from tests.accounts.server_urls import WHOAMI

pytestmark = pytest.mark.urls("tests.accounts.server_urls")


def refresh(raw: str):
    return APIClient().post(REFRESH, {"refresh_token": raw})


def session_of(tokens: dict) -> AuthSession:
    return SessionRefreshToken.objects.get(token_hash=hash_key(tokens["refresh_token"])).session


def back_in_time(seconds: int) -> None:
    """Move the last rotation into the past, as if the client retried that much later."""
    AuthSession.objects.update(grace_until=timezone.now() - timedelta(seconds=seconds))


@pytest.mark.django_db
def test_refresh_rotates_into_a_new_pair(tokens):
    response = refresh(tokens["refresh_token"])

    assert response.status_code == 200
    pair = response.json()
    assert pair["refresh_token"] != tokens["refresh_token"]
    assert pair["access_token"] != tokens["access_token"]
    assert pair["expires_in"] == 7200 and pair["refresh_expires_in"] == 2592000
    assert bearer(pair["access_token"]).get(WHOAMI).status_code == 200
    session = session_of(pair)
    assert session.tokens.filter(retired_at__isnull=True).count() == 1
    assert session_of(tokens) == session  # same session, new token
    assert RawEvent.objects.filter(name="session_start").count() == 2


@pytest.mark.django_db
def test_refresh_tokens_are_stored_only_as_hashes(tokens):
    stored = list(SessionRefreshToken.objects.values_list("token_hash", flat=True))
    assert stored == [hash_key(tokens["refresh_token"])]
    assert tokens["refresh_token"] not in stored


@pytest.mark.django_db
def test_retry_inside_the_grace_window_gets_a_valid_pair_and_revokes_nothing(tokens):
    lost = refresh(tokens["refresh_token"]).json()  # the client never saw this answer

    retry = refresh(tokens["refresh_token"])

    assert retry.status_code == 200
    pair = retry.json()
    assert bearer(pair["access_token"]).get(WHOAMI).status_code == 200
    assert refresh(pair["refresh_token"]).status_code == 200
    assert session_of(pair).revoked_at is None
    # The pair that was lost is retired, not left alive as a second family.
    assert SessionRefreshToken.objects.filter(retired_at__isnull=True).count() == 1
    assert lost["refresh_token"] != pair["refresh_token"]


@pytest.mark.django_db
def test_the_last_token_after_the_grace_window_is_reuse(tokens, django_capture_on_commit_callbacks):
    newer = refresh(tokens["refresh_token"]).json()
    back_in_time(1)
    assert bearer(newer["access_token"]).get(WHOAMI).status_code == 200

    with django_capture_on_commit_callbacks(execute=True):
        assert_problem(refresh(tokens["refresh_token"]), 401, "refresh_token_reused")

    assert session_of(newer).revoke_reason == "refresh_token_reused"
    assert_problem(refresh(newer["refresh_token"]), 401, "token_revoked")
    assert_problem(bearer(newer["access_token"]).get(WHOAMI), 401, "token_revoked")


@pytest.mark.django_db
def test_an_older_token_is_reuse_even_inside_the_window(tokens, django_capture_on_commit_callbacks):
    second = refresh(tokens["refresh_token"]).json()
    third = refresh(second["refresh_token"]).json()
    assert bearer(third["access_token"]).get(WHOAMI).status_code == 200

    with django_capture_on_commit_callbacks(execute=True):
        assert_problem(refresh(tokens["refresh_token"]), 401, "refresh_token_reused")

    assert_problem(refresh(third["refresh_token"]), 401, "token_revoked")
    assert_problem(bearer(third["access_token"]).get(WHOAMI), 401, "token_revoked")
    assert_problem(bearer(tokens["access_token"]).get(WHOAMI), 401, "token_revoked")


@pytest.mark.django_db
def test_the_pair_lost_to_a_retry_is_reuse_when_it_shows_up(tokens):
    lost = refresh(tokens["refresh_token"]).json()
    refresh(tokens["refresh_token"])  # the retry replaced it

    assert_problem(refresh(lost["refresh_token"]), 401, "refresh_token_reused")


@pytest.mark.django_db
def test_reuse_revokes_only_that_session(login):
    first = login("alice")
    second_device = login("alice")
    refresh(first["refresh_token"])
    back_in_time(60)

    refresh(first["refresh_token"])

    assert bearer(second_device["access_token"]).get(WHOAMI).status_code == 200
    assert AuthSession.objects.filter(revoked_at__isnull=True).count() == 1
    assert refresh(second_device["refresh_token"]).status_code == 200


@pytest.mark.django_db
def test_expired_refresh_token_is_401_token_expired(tokens):
    SessionRefreshToken.objects.update(expires_at=timezone.now() - timedelta(seconds=1))

    assert_problem(refresh(tokens["refresh_token"]), 401, "token_expired")
    assert session_of(tokens).revoked_at is None


@pytest.mark.django_db
@pytest.mark.parametrize("raw", ["rt_unknown", "x" * 201, ""])
def test_unknown_or_malformed_refresh_token_is_refused(tokens, raw):
    response = refresh(raw)
    assert response.status_code in (400, 401)
    assert response.json()["code"] in ("invalid_token", "validation_error")
    assert AuthSession.objects.get().revoked_at is None


@pytest.mark.django_db
def test_banned_player_cannot_refresh(tokens):
    Player.objects.update(banned_until=timezone.now() + timedelta(days=1))
    assert_problem(refresh(tokens["refresh_token"]), 403, "player_banned")


@pytest.mark.django_db
def test_logout_revokes_the_session_and_its_tokens(tokens, django_capture_on_commit_callbacks):
    client = bearer(tokens["access_token"])

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(LOGOUT)

    assert response.status_code == 204
    assert session_of(tokens).revoke_reason == "logout"
    assert_problem(client.get(WHOAMI), 401, "token_revoked")
    assert_problem(refresh(tokens["refresh_token"]), 401, "token_revoked")


@pytest.mark.django_db
def test_logout_needs_a_token(api_client):
    assert_problem(api_client.post(LOGOUT), 401, "not_authenticated")


@pytest.mark.django_db
def test_validate_says_revoked_after_logout(
    tokens, server_client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        bearer(tokens["access_token"]).post(LOGOUT)
    response = server_client.post(VALIDATE, {"token": tokens["access_token"]})
    assert response.json() == {"valid": False, "reason": "token_revoked"}


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_racing_refreshes_with_one_token_leave_one_live_family(tokens):
    found = find_refresh_token(tokens["refresh_token"])

    def refresh_once(_: int) -> str:
        try:
            return refresh_tokens(token=found).refresh_token
        finally:
            connection.close()

    with ThreadPoolExecutor(6) as pool:
        issued = list(pool.map(refresh_once, range(6)))

    # Every racer got an answer (one rotation, the rest retries), yet one token lives.
    assert len(set(issued)) == 6
    live = SessionRefreshToken.objects.filter(retired_at__isnull=True)
    assert live.count() == 1
    assert [raw_token for raw_token in issued if hash_key(raw_token) == live.get().token_hash]
    assert AuthSession.objects.get().revoked_at is None
    assert RawEvent.objects.filter(name="session_start").count() == 2  # login + one rotation


@pytest.mark.django_db
def test_pruning_keeps_ended_sessions_a_week_so_a_refresh_says_why(login, server_client):
    live, expired, long_expired, revoked = (login(name) for name in "abcd")
    now = timezone.now()
    for tokens, at in ((expired, now), (long_expired, now - timedelta(days=7, seconds=1))):
        session_of(tokens).tokens.update(expires_at=at)
        AuthSession.objects.filter(pk=session_of(tokens).pk).update(expires_at=at)
    AuthSession.objects.filter(pk=session_of(revoked).pk).update(
        revoked_at=now - timedelta(days=3), revoke_reason="logout"
    )

    assert prune_sessions() == 1

    assert AuthSession.objects.count() == 3
    assert refresh(live["refresh_token"]).status_code == 200
    assert refresh(expired["refresh_token"]).json()["code"] == "token_expired"
    assert refresh(revoked["refresh_token"]).json()["code"] == "token_revoked"
    assert refresh(long_expired["refresh_token"]).json()["code"] == "invalid_token"  # gone
    check = server_client.post(VALIDATE, {"token": revoked["access_token"]}).json()
    assert check == {"valid": False, "reason": "token_revoked"}


@pytest.mark.django_db
def test_pruning_deletes_a_batch_of_sessions_at_a_time_each_with_its_tokens(login):
    sessions = [session_of(login(f"old-{n}")) for n in range(5)]
    kept = session_of(login("current"))
    long_ago = timezone.now() - timedelta(days=8)
    AuthSession.objects.filter(pk__in=[s.pk for s in sessions]).update(expires_at=long_ago)
    # A rotated session: its grace token (a retired token of its own) goes with it.
    rotated = sessions[2]
    retired = rotated.tokens.get()
    AuthSession.objects.filter(pk=rotated.pk).update(grace_token=retired)

    with CaptureQueriesContext(connection) as captured:
        assert prune_ended_sessions(batch=2) == 5

    session_table = AuthSession._meta.db_table
    deletes = [
        q["sql"]
        for q in captured.captured_queries
        if q["sql"].startswith(f'DELETE FROM "{session_table}"')
    ]
    assert len(deletes) == 3  # 2 + 2 + 1, not one statement (or transaction) for the backlog
    assert list(AuthSession.objects.values_list("pk", flat=True)) == [kept.pk]
    assert not SessionRefreshToken.objects.exclude(session=kept).exists()


@pytest.mark.django_db
def test_a_live_sessions_long_expired_retired_tokens_are_pruned_and_its_recent_ones_kept(login):
    first = login("regular")
    session = session_of(first)
    chain = [first["refresh_token"]]
    for _ in range(3):
        chain.append(refresh(chain[-1]).json()["refresh_token"])
    oldest, old, recent, live = chain
    long_ago = timezone.now() - timedelta(days=8)
    SessionRefreshToken.objects.filter(token_hash__in=[hash_key(oldest), hash_key(old)]).update(
        expires_at=long_ago
    )
    # The session's grace token among them: the link is cleared, not the session deleted.
    AuthSession.objects.filter(pk=session.pk).update(
        grace_token=SessionRefreshToken.objects.get(token_hash=hash_key(old))
    )

    assert prune_sessions() == 2

    kept = set(session.tokens.values_list("token_hash", flat=True))
    assert kept == {hash_key(recent), hash_key(live)}
    assert AuthSession.objects.get(pk=session.pk).grace_token_id is None
    # A pruned token is unknown (it had expired: no use to anyone), the session lives on.
    assert refresh(old).json()["code"] == "invalid_token"
    assert AuthSession.objects.get(pk=session.pk).revoked_at is None
    # A retired token still kept is reuse, as before.
    assert refresh(recent).json()["code"] == "refresh_token_reused"


@pytest.mark.django_db
def test_the_grace_window_is_the_setting_30_seconds_by_default(tokens, settings):
    assert settings.REFRESH_REUSE_GRACE_SECONDS == 30
    before = timezone.now()
    refresh(tokens["refresh_token"])

    grace_until = session_of(tokens).grace_until
    assert before + timedelta(seconds=30) <= grace_until <= timezone.now() + timedelta(seconds=30)


@pytest.mark.django_db
def test_with_no_grace_window_a_retry_is_reuse(tokens, settings):
    settings.REFRESH_REUSE_GRACE_SECONDS = 0
    refresh(tokens["refresh_token"])

    retry = refresh(tokens["refresh_token"])

    assert_problem(retry, 401, "refresh_token_reused")
    assert session_of(tokens).revoked_at is not None


@pytest.mark.django_db
def test_a_session_deleted_after_its_token_was_found_is_401_not_500(tokens):
    found = find_refresh_token(tokens["refresh_token"])
    AuthSession.objects.filter(pk=found.session_id).delete()  # pruned, or its player deleted

    with pytest.raises(InvalidToken):
        refresh_tokens(token=found)


@pytest.mark.django_db
def test_after_a_ban_ends_the_old_refresh_token_says_revoked_not_banned(tokens):
    player = Player.objects.get(pk=tokens["player"]["id"])
    ban_player(player=player, reason="cheat", until=None, actor=None)
    assert_problem(refresh(tokens["refresh_token"]), 403, "player_banned")

    unban_player(player=player, reason="appeal", actor=None)

    assert_problem(refresh(tokens["refresh_token"]), 401, "token_revoked")  # log in again


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_refresh_and_a_ban_lock_only_their_own_rows(tokens):
    """A ban holds the player, a refresh the session: neither holds the game's row, which every
    insert naming the game shares (a login elsewhere in the game would wait for it)."""
    player = Player.objects.get(pk=tokens["player"]["id"])
    found = find_refresh_token(tokens["refresh_token"])

    during_refresh = game_row_while(lambda: refresh_tokens(token=found), game_id=player.game_id)
    during_ban = game_row_while(
        lambda: ban_player(player=player, reason="x", until=None, actor=None),
        game_id=player.game_id,
    )

    assert (during_refresh, during_ban) == ("free", "free")


def game_row_while(work, *, game_id: int) -> str:
    """Run `work` in a transaction on another connection and, while it is held open, take what
    an insert naming the game takes of the game's row, without waiting: "free" when it could,
    "locked" when `work` holds the row, "never held" when `work` did not get that far."""
    holding, done = threading.Event(), threading.Event()

    def hold() -> None:
        try:
            with transaction.atomic():
                work()
                holding.set()
                done.wait(10)
        finally:
            connection.close()

    thread = threading.Thread(target=hold)
    thread.start()
    try:
        if not holding.wait(10):
            return "never held"
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(
                    "SELECT 1 FROM accounts_game WHERE id = %s FOR KEY SHARE NOWAIT", [game_id]
                )
                cursor.fetchone()
        except OperationalError:  # LockNotAvailable: the work holds the game's row
            return "locked"
        return "free"
    finally:
        done.set()
        thread.join()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "change", ["game out of sandbox", "credential disabled", "credential gone"]
)
def test_a_session_of_a_platform_the_game_no_longer_accepts_ends_at_its_refresh(
    tokens, game, change
):
    if change == "game out of sandbox":
        Game.objects.filter(pk=game.pk).update(sandbox=False)  # dev logins are refused now
    elif change == "credential disabled":
        PlatformCredential.objects.filter(game=game, platform="dev").update(enabled=False)
    else:
        PlatformCredential.objects.filter(game=game, platform="dev").delete()
    clear_every_cache()

    assert_problem(refresh(tokens["refresh_token"]), 401, "token_revoked")

    session = session_of(tokens)
    assert session.revoked_at is not None and session.revoke_reason == "operator"
    assert_problem(refresh(tokens["refresh_token"]), 401, "token_revoked")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("ended_by", "status", "code", "account_deleted"),
    [
        ("erasure", 401, "token_revoked", True),
        ("ban", 403, "player_banned", None),
        ("logout", 401, "token_revoked", None),
    ],
)
def test_a_session_that_had_already_ended_says_why_though_its_platform_is_gone(
    tokens, game, ended_by, status, code, account_deleted, django_capture_on_commit_callbacks
):
    player = Player.objects.get(pk=tokens["player"]["id"])
    with django_capture_on_commit_callbacks(execute=True):
        if ended_by == "erasure":
            erase_player(player=player, actor=None)
        elif ended_by == "ban":
            ban_player(player=player, reason="cheating", until=None, actor=None)
        else:
            assert bearer(tokens["access_token"]).post(LOGOUT).status_code == 204
    PlatformCredential.objects.filter(game=game, platform="dev").update(enabled=False)
    clear_every_cache()

    body = assert_problem(refresh(tokens["refresh_token"]), status, code)

    assert body.get("account_deleted") is account_deleted
    session = session_of(tokens)
    assert session.revoke_reason == {"erasure": "player_erased", "ban": "player_banned"}.get(
        ended_by, "logout"
    )
