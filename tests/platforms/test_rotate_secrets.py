"""rotate_secrets with a secret no configured key opens: the others are still re-encrypted."""

import io

import pytest
from cryptography.fernet import Fernet
from django.core.management import CommandError, call_command
from django.test import override_settings

from apps.payments.models import ProviderAccount
from apps.platforms.models import PlatformCredential


@pytest.mark.django_db
def test_a_secret_no_key_opens_is_named_and_the_others_are_still_rotated(game, settings):
    unreadable = PlatformCredential.objects.create(game=game, platform="steam")
    lost_key = Fernet(Fernet.generate_key())
    unreadable.secrets_encrypted = lost_key.encrypt(b'{"publisher_key": "old"}').decode()
    unreadable.save()
    left_as_it_was = unreadable.secrets_encrypted
    account = ProviderAccount(game=game, provider="stripe")
    account.set_secrets({"secret_key": "sk_test_k2"})
    account.save()
    new_key = Fernet.generate_key().decode()

    out = io.StringIO()
    rotated_keys = [new_key, *settings.FIELD_ENCRYPTION_KEYS]
    with (
        override_settings(FIELD_ENCRYPTION_KEYS=rotated_keys),
        pytest.raises(CommandError) as failure,
    ):
        call_command("rotate_secrets", stdout=out)

    assert failure.value.returncode == 1
    assert f"platform credential #{unreadable.pk} (Alpha — Steam)" in str(failure.value)
    assert "0 platform credentials" in out.getvalue()
    assert "1 provider accounts" in out.getvalue()
    with override_settings(FIELD_ENCRYPTION_KEYS=[new_key]):
        assert ProviderAccount.objects.get(pk=account.pk).secrets == {"secret_key": "sk_test_k2"}
    assert PlatformCredential.objects.get(pk=unreadable.pk).secrets_encrypted == left_as_it_was
