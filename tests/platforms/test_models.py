"""Platform secrets are encrypted at rest and survive a key rotation."""

import io

import pytest
from cryptography.fernet import Fernet
from django.db import connection
from django.test import override_settings

from apps.platforms.models import PlatformCredential
from gamingpanel import crypto


@pytest.mark.django_db
def test_secrets_are_not_stored_in_clear(game):
    credential = PlatformCredential(game=game, platform="steam", config={"app_id": "480"})
    credential.set_secrets({"publisher_key": "SUPERSECRET-123456"})
    credential.save()

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT secrets_encrypted, config FROM platforms_platformcredential WHERE id = %s",
            [credential.pk],
        )
        raw_secret, raw_config = cursor.fetchone()
    assert "SUPERSECRET" not in raw_secret
    assert "SUPERSECRET" not in str(raw_config)
    assert PlatformCredential.objects.get(pk=credential.pk).secrets == {
        "publisher_key": "SUPERSECRET-123456"
    }


@pytest.mark.django_db
def test_old_secrets_stay_readable_after_key_rotation(game, settings):
    credential = PlatformCredential(game=game, platform="steam")
    credential.set_secrets({"publisher_key": "k1"})
    credential.save()
    new_key = Fernet.generate_key().decode()

    with override_settings(FIELD_ENCRYPTION_KEYS=[new_key, *settings.FIELD_ENCRYPTION_KEYS]):
        stored = PlatformCredential.objects.get(pk=credential.pk)
        assert stored.secrets == {"publisher_key": "k1"}
        rotated = crypto.rotate(stored.secrets_encrypted)
    with override_settings(FIELD_ENCRYPTION_KEYS=[new_key]):
        assert crypto.decrypt_json(rotated) == {"publisher_key": "k1"}
        with pytest.raises(ValueError):
            crypto.decrypt_json(stored.secrets_encrypted)


@pytest.mark.django_db
def test_verifier_config_merges_config_secrets_and_sandbox(game):
    credential = PlatformCredential(game=game, platform="steam", config={"app_id": "480"})
    credential.set_secrets({"publisher_key": "k"})

    assert credential.verifier_config() == {
        "app_id": "480",
        "publisher_key": "k",
        "sandbox": True,
        "game_id": credential.game_id,
    }


def test_mask_shows_only_the_ends():
    assert crypto.mask("abcdefghijklmnop") == "ab••••mnop"
    assert "cdefgh" not in crypto.mask("abcdefghijklmnop")


@pytest.mark.django_db
def test_rotate_secrets_command_moves_every_secret_to_the_new_key(game, settings):
    from django.core.management import call_command

    from apps.payments.models import ProviderAccount

    credential = PlatformCredential(game=game, platform="steam")
    credential.set_secrets({"publisher_key": "k1"})
    credential.save()
    # A payment account's secrets too: dropping the old key after the command must not leave
    # the game's checkouts unable to read them.
    account = ProviderAccount(game=game, provider="stripe")
    account.set_secrets({"secret_key": "sk_test_k2"})
    account.save()
    new_key = Fernet.generate_key().decode()

    out = io.StringIO()
    with override_settings(FIELD_ENCRYPTION_KEYS=[new_key, *settings.FIELD_ENCRYPTION_KEYS]):
        call_command("rotate_secrets", stdout=out)
    with override_settings(FIELD_ENCRYPTION_KEYS=[new_key]):
        assert PlatformCredential.objects.get(pk=credential.pk).secrets == {"publisher_key": "k1"}
        assert ProviderAccount.objects.get(pk=account.pk).secrets == {"secret_key": "sk_test_k2"}
    assert "1 platform credentials" in out.getvalue()


@pytest.mark.parametrize("config", [[], ["app_id"], 480, "app_id=480"])
def test_a_config_that_is_not_a_json_object_is_refused(game, config):
    from django.core.exceptions import ValidationError

    from apps.payments.models import ProviderAccount

    credential = PlatformCredential(game=game, platform="steam", config=config)
    with pytest.raises(ValidationError, match="A JSON object"):
        credential.clean()
    account = ProviderAccount(game=game, provider="stripe", config=config)
    with pytest.raises(ValidationError, match="A JSON object"):
        account.clean()


@pytest.fixture
def unreadable_steam(game):
    """A Steam credential whose secrets were written with a key FIELD_ENCRYPTION_KEYS no
    longer holds."""
    credential = PlatformCredential.objects.create(
        game=game, platform="steam", config={"app_id": "480"}
    )
    lost_key = Fernet(Fernet.generate_key())
    credential.secrets_encrypted = lost_key.encrypt(b'{"publisher_key": "old"}').decode()
    credential.save()
    return credential


@pytest.mark.django_db
def test_a_login_with_secrets_no_key_opens_is_platform_not_configured_and_alerts(
    api_client, unreadable_steam, caplog
):
    response = api_client.post(
        "/api/v1/auth/third-party/login",
        {"platform": "steam", "credentials": {"ticket": "14000000"}},
        HTTP_X_GAME_KEY="alpha-client-key",
    )

    assert response.status_code == 400
    assert response.json()["code"] == "platform_not_configured"
    assert "enter them again" in response.json()["detail"]
    assert any(r.message.startswith("ALERT steam credential of game") for r in caplog.records)


@pytest.mark.django_db
def test_the_admin_shows_unreadable_secrets_and_takes_new_ones(admin_client, unreadable_steam):
    page = f"/admin/platforms/platformcredential/{unreadable_steam.pk}/change/"

    shown = admin_client.get(page)
    saved = admin_client.post(
        page,
        {
            "platform": "steam",
            "enabled": "on",
            "config": '{"app_id": "480"}',
            "new_secrets": '{"publisher_key": "new"}',
        },
    )

    assert shown.status_code == 200
    assert crypto.UNREADABLE in shown.content.decode()
    assert saved.status_code == 302, saved.content.decode()[:2000]
    unreadable_steam.refresh_from_db()
    assert unreadable_steam.secrets == {"publisher_key": "new"}
