"""Operators' optional second factor (TOTP, django-otp): set up and confirmed with a code, asked
for at sign-in once set up, removable with a code; a game's owner can require it, and such a
game is hidden (404) from a sign-in without a code."""

from __future__ import annotations

import time
from unittest import mock

import pytest
from django.test import Client
from django.utils import timezone
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from apps.accounts.models import GameAccess
from apps.audit.models import AuditLogEntry
from tests.panel.conftest import PASSWORD, make_user

PAGE = "/panel/account/two-factor/"


def code_for(device: TOTPDevice, offset: int = 0) -> str:
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = totp.time + offset * device.step
    return f"{totp.token():0{device.digits}d}"


def sign_in(username: str, **extra) -> tuple[Client, object]:
    client = Client()
    response = client.post(
        "/admin/login/?next=/panel/", {"username": username, "password": PASSWORD, **extra}
    )
    return client, response


def set_up(client: Client, user) -> TOTPDevice:
    client.post(PAGE, {"step": "start", "password": PASSWORD})
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    assert client.get(PAGE).context["secret"]
    client.post(PAGE, {"step": "confirm", "token": code_for(device)})
    device.refresh_from_db()
    assert device.confirmed
    return device


@pytest.fixture
def olivia(game):
    return make_user("olivia", game, GameAccess.Role.OWNER)


def test_without_a_device_the_password_is_enough(olivia):
    client, response = sign_in("olivia")
    assert response.status_code == 302
    assert client.get("/panel/").status_code in (200, 302)


def test_setup_then_sign_in_needs_the_current_code(olivia, settings):
    # django-otp slows guessing down after each wrong code (1 s, 2 s, 4 s…); not measured here.
    settings.OTP_TOTP_THROTTLE_FACTOR = 0
    client, _ = sign_in("olivia")
    page = client.get(PAGE)
    assert "Set up an authenticator app" in page.content.decode()
    refused = client.post(PAGE, {"step": "start", "password": "not-it"}, follow=True)
    assert "That password is wrong" in refused.content.decode()
    assert not TOTPDevice.objects.filter(user=olivia).exists()  # a taken-over session enrols none
    client.post(PAGE, {"step": "start", "password": PASSWORD})
    pending = client.get(PAGE)
    assert "<svg" in pending.content.decode()  # the QR code, inline
    device = TOTPDevice.objects.get(user=olivia)
    wrong = client.post(PAGE, {"step": "confirm", "token": "000000"}, follow=True)
    assert "Nothing changed" in wrong.content.decode()
    device.refresh_from_db()
    assert not device.confirmed
    client.post(PAGE, {"step": "confirm", "token": code_for(device)})
    device.refresh_from_db()
    assert device.confirmed
    assert AuditLogEntry.objects.filter(action="operator.otp_enabled").count() == 1

    _, no_code = sign_in("olivia")
    assert no_code.status_code == 200
    assert "Enter the 6-digit code" in no_code.content.decode()
    _, bad_code = sign_in("olivia", otp_token="123456")
    assert "wrong or has expired" in bad_code.content.decode()
    _, good = sign_in("olivia", otp_token=code_for(device, offset=1))
    assert good.status_code == 302


def test_a_game_that_requires_it_is_hidden_from_a_sign_in_without_a_code(game, olivia):
    game.require_operator_otp = True
    game.save()
    oscar = make_user("oscar", game, GameAccess.Role.OPERATOR)
    client, _ = sign_in("oscar")
    assert client.get(f"/panel/games/{game.pk}/").status_code == 404
    assert client.get("/admin/accounts/player/").status_code in (200, 403)
    assert game.name not in client.get("/admin/").content.decode()

    device = set_up(client, oscar)  # confirming verifies this sign-in at once
    assert client.get(f"/panel/games/{game.pk}/").status_code == 200

    later, _ = sign_in("oscar", otp_token=code_for(device, offset=1))
    assert later.get(f"/panel/games/{game.pk}/").status_code == 200


def test_an_owner_cannot_require_it_before_signing_in_with_a_code(game, olivia):
    client, _ = sign_in("olivia")
    form = client.get(f"/admin/accounts/game/{game.pk}/change/")
    assert "require_operator_otp" in form.content.decode()
    response = client.post(
        f"/admin/accounts/game/{game.pk}/change/",
        {
            "name": game.name, "slug": game.slug, "client_key": game.client_key,
            "sandbox": "on", "starting_grant": "{}", "cors_allowed_origins": "",
            "require_operator_otp": "on",
        },
    )  # fmt: skip
    assert response.status_code == 200
    assert "Set up two-factor sign-in" in response.content.decode()
    game.refresh_from_db()
    assert not game.require_operator_otp


def test_a_setup_shows_its_secret_and_confirms_only_in_the_session_that_gave_the_password(
    olivia, settings
):
    settings.OTP_TOTP_THROTTLE_FACTOR = 0
    owner, _ = sign_in("olivia")
    owner.post(PAGE, {"step": "start", "password": PASSWORD})
    device = TOTPDevice.objects.get(user=olivia, confirmed=False)
    taken_over, _ = sign_in("olivia")  # another session of the same operator (a stolen cookie)

    page = taken_over.get(PAGE)
    refused = taken_over.post(PAGE, {"step": "confirm", "token": code_for(device)}, follow=True)

    assert page.context["secret"] is None and "otp-secret" not in page.content.decode()
    assert "Start the setup first" in refused.content.decode()
    device.refresh_from_db()
    assert not device.confirmed
    assert owner.get(PAGE).context["secret"]


def test_a_setup_left_unfinished_expires(olivia, settings, monkeypatch):
    client, _ = sign_in("olivia")
    client.post(PAGE, {"step": "start", "password": PASSWORD})
    device = TOTPDevice.objects.get(user=olivia, confirmed=False)
    later = time.time() + 601
    monkeypatch.setattr(time, "time", lambda: later)

    page = client.get(PAGE)
    refused = client.post(PAGE, {"step": "confirm", "token": code_for(device)}, follow=True)

    assert page.context["secret"] is None
    assert "Start the setup first" in refused.content.decode()
    device.refresh_from_db()
    assert not device.confirmed


def test_turning_it_off_needs_a_current_code(olivia):
    client, _ = sign_in("olivia")
    device = set_up(client, olivia)
    client.post(PAGE, {"step": "remove", "token": "000000"})
    assert TOTPDevice.objects.filter(user=olivia).exists()
    TOTPDevice.objects.filter(pk=device.pk).update(throttling_failure_timestamp=None)  # waited
    client.post(PAGE, {"step": "remove", "token": code_for(device, offset=1)})
    assert not TOTPDevice.objects.filter(user=olivia).exists()
    assert AuditLogEntry.objects.filter(action="operator.otp_removed").count() == 1


@pytest.mark.parametrize("step", ["remove", "confirm"])
def test_wrong_codes_on_the_page_slow_further_tries_down(olivia, step):
    client, _ = sign_in("olivia")
    if step == "remove":
        device = set_up(client, olivia)
    else:
        client.post(PAGE, {"step": "start", "password": PASSWORD})
        device = TOTPDevice.objects.get(user=olivia, confirmed=False)

    # All at one instant, as quick tries are: on a loaded machine a request can take longer than
    # the 1 s the first failure makes the next one wait, and that one would then be checked.
    instant = timezone.now()
    with mock.patch("django.utils.timezone.now", return_value=instant):
        for _ in range(3):
            client.post(PAGE, {"step": step, "token": "000000"})
        device.refresh_from_db()
        # Kept, not rolled back with the refusal; the next two came too soon to be checked at all.
        assert device.throttling_failure_count == 1
        assert device.throttling_failure_timestamp is not None

        # Right after wrong ones, even the current code waits its turn.
        page = client.post(PAGE, {"step": step, "token": code_for(device, offset=1)}, follow=True)
    assert "Nothing changed" in page.content.decode()
    device.refresh_from_db()
    assert device.confirmed is (step == "remove")
    assert TOTPDevice.objects.filter(user=olivia).exists()


def test_a_superuser_without_a_code_does_not_list_such_a_games_rows(game, other_game, olivia):
    from django.contrib.auth import get_user_model

    from apps.accounts.models import Player
    from apps.audit.services import record_action

    game.require_operator_otp = True
    game.save()
    hidden = Player.objects.create(game=game, display_name="hidden-player")
    shown = Player.objects.create(game=other_game, display_name="shown-player")
    record_action(actor=None, game=game, action="test.hidden", target=hidden, after={})
    get_user_model().objects.create_superuser("root", password=PASSWORD)
    client, _ = sign_in("root")

    players = client.get("/admin/accounts/player/")
    games = client.get("/admin/accounts/game/")
    audit = client.get("/admin/audit/auditlogentry/")

    assert {p.pk for p in players.context["cl"].result_list} == {shown.pk}
    assert other_game.pk in {g.pk for g in games.context["cl"].result_list}
    assert game.pk not in {g.pk for g in games.context["cl"].result_list}
    assert "test.hidden" not in audit.content.decode()


def test_no_admin_page_shows_an_operators_secret_and_a_lost_device_is_reset_by_command(
    olivia, admin_client
):
    from django.core.management import call_command

    client, _ = sign_in("olivia")
    set_up(client, olivia)

    assert admin_client.get("/admin/otp_totp/totpdevice/").status_code == 404
    call_command("reset_two_factor", "olivia")

    assert not TOTPDevice.objects.filter(user=olivia).exists()
    assert AuditLogEntry.objects.filter(action="operator.otp_reset", target_id=str(olivia.pk))
    _, password_only = sign_in("olivia")
    assert password_only.status_code == 302  # signs in with the password, sets one up again


def test_wrong_codes_count_towards_the_sign_in_limits_as_wrong_passwords_do(olivia, settings):
    from django.conf import settings as live

    settings.OTP_TOTP_THROTTLE_FACTOR = 0  # django-otp's own slowing down, out of the way
    client, _ = sign_in("olivia")
    device = set_up(client, olivia)

    for number in range(live.AXES_FAILURE_LIMIT - 1):
        _, refused = sign_in("olivia", otp_token=f"{number:06d}")
        assert refused.status_code == 200  # the form again, with the code's error
    _, locked = sign_in("olivia", otp_token="999999")
    _, even_right = sign_in("olivia", otp_token=code_for(device, offset=1))

    assert locked.status_code == 429 and even_right.status_code == 429
    actions = list(
        AuditLogEntry.objects.filter(action__startswith="login_")
        .order_by("id")
        .values_list("action", flat=True)
    )
    # The wrong codes before the limit, the one that locked out (the right code sent while
    # locked, from the same address within the minute, is counted into its next entry).
    limit = live.AXES_FAILURE_LIMIT
    assert actions == ["login_failed"] * (limit - 1) + ["login_locked_out"]
