from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from apps.accounts.models import PERMANENT_BAN_UNTIL, AuthSession, GameAccess, Player
from apps.accounts.services import set_game_access
from apps.accounts.services.bans import ban_player, unban_player
from apps.audit.models import AuditLogEntry
from gamingpanel.errors import InvalidInput
from tests.accounts.conftest import LOGIN, VALIDATE, assert_problem

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/accounts/player/"
SESSIONS = "/admin/accounts/authsession/"


@pytest.fixture
def operator(game):
    user = get_user_model().objects.create_user("olivia", password="pw-long-enough-1")
    set_game_access(user=user, game=game, role=GameAccess.Role.OPERATOR)
    return user


@pytest.fixture
def analyst(game):
    user = get_user_model().objects.create_user("anna", password="pw-long-enough-1")
    set_game_access(user=user, game=game, role=GameAccess.Role.ANALYST)
    return user


def logged_in_player(tokens) -> Player:
    return Player.objects.get(pk=tokens["player"]["id"])


def test_ban_ends_sessions_and_is_audited(
    tokens, operator, server_client, django_capture_on_commit_callbacks
):
    server_client.post(VALIDATE, {"token": tokens["access_token"]})  # markers complete
    until = timezone.now() + timedelta(days=7)

    with django_capture_on_commit_callbacks(execute=True):
        ban_player(player=logged_in_player(tokens), reason="aimbot", until=until, actor=operator)

    player = logged_in_player(tokens)
    assert player.banned_until == until and player.ban_reason == "aimbot"
    assert AuthSession.objects.get().revoke_reason == "player_banned"
    check = server_client.post(VALIDATE, {"token": tokens["access_token"]}).json()
    assert check == {"valid": False, "reason": "player_banned"}
    entry = AuditLogEntry.objects.get(action="player.ban")
    assert (entry.actor, entry.reason, entry.game_id) == (operator, "aimbot", player.game_id)
    assert entry.before["banned_until"] is None and entry.after["banned_until"]


def test_ban_without_end_date_is_permanent(player):
    assert ban_player(player=player, reason="fraud", until=None, actor=None).banned_until == (
        PERMANENT_BAN_UNTIL
    )


@pytest.mark.parametrize(
    ("reason", "until"),
    [("", None), ("   ", None), ("cheat", timezone.now() - timedelta(minutes=1))],
)
def test_ban_needs_a_reason_and_a_future_end(player, reason, until):
    with pytest.raises(InvalidInput):
        ban_player(player=player, reason=reason, until=until, actor=None)
    assert Player.objects.get(pk=player.pk).banned_until is None
    assert not AuditLogEntry.objects.exists()


def test_unban_lets_the_player_log_in_again(tokens, api_client, operator):
    player = ban_player(player=logged_in_player(tokens), reason="x", until=None, actor=operator)
    body = {"platform": "dev", "credentials": {"user_id": "alice"}}
    assert_problem(
        api_client.post(LOGIN, body, HTTP_X_GAME_KEY="alpha-client-key"), 403, "player_banned"
    )

    unban_player(player=player, reason="appeal accepted", actor=operator)

    assert api_client.post(LOGIN, body, HTTP_X_GAME_KEY="alpha-client-key").status_code == 200
    entry = AuditLogEntry.objects.get(action="player.unban")
    assert entry.reason == "appeal accepted" and entry.after["banned_until"] is None


def test_after_an_unban_the_banned_sessions_tokens_say_log_in_again_not_banned(
    tokens, operator, django_capture_on_commit_callbacks
):
    from tests.accounts.conftest import bearer

    with django_capture_on_commit_callbacks(execute=True):
        player = ban_player(player=logged_in_player(tokens), reason="x", until=None, actor=operator)
    old_token = bearer(tokens["access_token"])
    assert_problem(old_token.get("/api/v1/auth/link"), 403, "player_banned")

    with django_capture_on_commit_callbacks(execute=True):
        unban_player(player=player, reason="appeal accepted", actor=operator)

    assert_problem(old_token.get("/api/v1/auth/link"), 401, "token_revoked")  # log in again
    assert AuthSession.objects.get().revoke_reason == "ban_ended"


def test_a_timed_ban_that_ran_out_is_lifted_from_its_sessions_within_a_minute(
    tokens, operator, django_capture_on_commit_callbacks
):
    from apps.accounts.services.bans import lift_lapsed_bans
    from tests.accounts.conftest import bearer

    until = timezone.now() + timedelta(minutes=5)
    with django_capture_on_commit_callbacks(execute=True):
        ban_player(player=logged_in_player(tokens), reason="x", until=until, actor=operator)
    old_token = bearer(tokens["access_token"])

    assert lift_lapsed_bans(now=until - timedelta(seconds=1)) == 0  # still banned
    assert_problem(old_token.get("/api/v1/auth/link"), 403, "player_banned")
    with django_capture_on_commit_callbacks(execute=True):
        assert lift_lapsed_bans(now=until + timedelta(seconds=30)) == 1

    assert_problem(old_token.get("/api/v1/auth/link"), 401, "token_revoked")
    assert lift_lapsed_bans(now=until + timedelta(seconds=90)) == 0  # done once


def test_banned_again_the_sessions_an_unban_ended_say_banned_again(
    tokens, operator, django_capture_on_commit_callbacks
):
    from tests.accounts.conftest import bearer

    old_token = bearer(tokens["access_token"])
    with django_capture_on_commit_callbacks(execute=True):
        player = ban_player(player=logged_in_player(tokens), reason="x", until=None, actor=operator)
        unban_player(player=player, reason="appeal accepted", actor=operator)
    assert_problem(old_token.get("/api/v1/auth/link"), 401, "token_revoked")

    with django_capture_on_commit_callbacks(execute=True):
        ban_player(player=player, reason="caught again", until=None, actor=operator)

    assert_problem(old_token.get("/api/v1/auth/link"), 403, "player_banned")
    assert AuthSession.objects.get().revoke_reason == "player_banned"


def test_a_lapsed_ban_is_not_lifted_from_a_player_banned_again_since_the_list_was_read(
    tokens, operator
):
    """lift_lapsed_bans reads the players whose ban ran out, then lifts each under its lock:
    one an operator banned again in between keeps its sessions banned."""
    from apps.accounts.services.bans import lift_lapsed_ban

    until = timezone.now() + timedelta(minutes=5)
    player = ban_player(player=logged_in_player(tokens), reason="x", until=until, actor=operator)
    later = until + timedelta(seconds=30)
    Player.objects.filter(pk=player.pk).update(banned_until=later + timedelta(days=1))

    assert lift_lapsed_ban(player_id=player.pk, now=later) is False
    assert AuthSession.objects.get().revoke_reason == "player_banned"
    Player.objects.filter(pk=player.pk).update(banned_until=until)
    assert lift_lapsed_ban(player_id=player.pk, now=later) is True
    assert AuthSession.objects.get().revoke_reason == "ban_ended"


def test_operator_bans_from_the_admin_with_reason_and_end_date(client, tokens, operator):
    client.force_login(operator)
    player = logged_in_player(tokens)

    response = client.post(
        CHANGELIST,
        {
            "action": "ban_selected",
            "_selected_action": [player.pk],
            "reason": "wallhack",
            "until": "2099-01-02T03:04",
        },
    )

    assert response.status_code == 302
    player.refresh_from_db()
    assert player.ban_reason == "wallhack"
    assert player.banned_until.year == 2099 and player.banned_until.hour == 3
    assert AuditLogEntry.objects.get(action="player.ban").actor == operator


def test_admin_ban_without_reason_changes_nothing(client, tokens, operator):
    client.force_login(operator)
    player = logged_in_player(tokens)

    client.post(CHANGELIST, {"action": "ban_selected", "_selected_action": [player.pk]})

    assert Player.objects.get(pk=player.pk).banned_until is None
    assert AuthSession.objects.get().revoked_at is None


def test_analysts_cannot_ban(client, tokens, analyst):
    client.force_login(analyst)
    player = logged_in_player(tokens)

    client.post(
        CHANGELIST,
        {"action": "ban_selected", "_selected_action": [player.pk], "reason": "no"},
    )

    assert Player.objects.get(pk=player.pk).banned_until is None


def test_ban_fields_are_not_editable_in_the_player_form(client, tokens, operator):
    client.force_login(operator)
    page = client.get(f"{CHANGELIST}{tokens['player']['id']}/change/").content.decode()
    assert 'name="banned_until' not in page and 'name="ban_reason"' not in page


def test_operator_ends_a_session_from_the_admin(client, tokens, operator, server_client):
    client.force_login(operator)
    session = AuthSession.objects.get()

    response = client.post(
        SESSIONS,
        {"action": "end_selected", "_selected_action": [session.pk], "reason": "stolen phone"},
    )

    assert response.status_code == 302
    assert AuthSession.objects.get().revoke_reason == "operator"
    check = server_client.post(VALIDATE, {"token": tokens["access_token"]}).json()
    assert check == {"valid": False, "reason": "token_revoked"}
    assert AuditLogEntry.objects.get(action="session.revoke").reason == "stolen phone"


def test_operators_of_another_game_cannot_end_sessions(client, tokens, other_game):
    stranger = get_user_model().objects.create_user("sam", password="pw-long-enough-1")
    set_game_access(user=stranger, game=other_game, role=GameAccess.Role.OWNER)
    client.force_login(stranger)

    client.post(
        SESSIONS, {"action": "end_selected", "_selected_action": [AuthSession.objects.get().pk]}
    )

    assert AuthSession.objects.get().revoked_at is None


def test_operator_unbans_from_the_admin_and_the_player_logs_in_again(
    client, tokens, operator, api_client
):
    player = logged_in_player(tokens)
    ban_player(player=player, reason="wallhack", until=None, actor=operator)
    client.force_login(operator)

    response = client.post(
        CHANGELIST,
        {"action": "unban_selected", "_selected_action": [player.pk], "reason": "appeal won"},
    )

    assert response.status_code == 302
    player.refresh_from_db()
    assert player.banned_until is None and not player.is_banned
    assert AuditLogEntry.objects.get(action="player.unban").actor == operator
    login = api_client.post(
        LOGIN,
        {"platform": "dev", "credentials": {"user_id": "alice"}},
        HTTP_X_GAME_KEY="alpha-client-key",
    )
    assert login.status_code == 200


def test_a_game_sets_its_own_rate_limit_in_the_admin(client, game):
    owner = get_user_model().objects.create_user("owen", password="pw-long-enough-1")
    set_game_access(user=owner, game=game, role=GameAccess.Role.OWNER)
    client.force_login(owner)
    form = {
        "name": game.name,
        "slug": game.slug,
        "client_key": game.client_key,
        "sandbox": "on",
        "rate_limit_per_hour": "250",
        "starting_grant": "{}",
    }

    response = client.post(f"/admin/accounts/game/{game.pk}/change/", form)

    assert response.status_code == 302, response.content[:2000]
    game.refresh_from_db()
    assert game.rate_limit_per_hour == 250
