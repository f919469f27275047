"""A secret typed into a payment account's plain config: refused when saved, moved into the
encrypted secrets by the data migration, never copied into the audit log, never rendered back."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import ValidationError

from apps.audit.models import AuditLogEntry
from apps.payments.models import Provider, ProviderAccount
from gamingpanel import crypto
from tests.migrating import migrate_to, migrated_back_to

PAYMENTS = Path(__file__).resolve().parents[2] / "apps" / "payments"
CONFIG_READS = re.compile(r'\.config\.get\("(\w+)"|config__(\w+)=')
SECRET_READS = re.compile(r'\.secrets\.get\("(\w+)"')
# A complete, valid config per provider: none of it is refused.
PLAIN = {
    "stripe": {
        "success_url": "https://game.example/paid?session_id={CHECKOUT_SESSION_ID}",
        "cancel_url": "https://game.example/cancelled",
    },
    "sandbox": {},
    "apple": {
        "bundle_id": "com.studio.game",
        "accept_sandbox": True,
        "app_apple_id": 1234567890,
        "issuer_id": "57246542-96fe-1a63-e053-0824d011072a",
        "key_id": "2X9R4HXF34",
    },
    "google_play": {
        "package_name": "com.studio.game",
        "accept_test_purchases": False,
        "push_audience": "https://panel.example/api/v1/payments/webhooks/google-play",
        "push_service_account": "rtdn@studio.iam.gserviceaccount.com",
    },
}


def config_errors(provider: str, config: object) -> list[str]:
    account = ProviderAccount(provider=provider, config=config)
    with pytest.raises(ValidationError) as refused:
        account.clean()
    return refused.value.message_dict["config"]


def test_every_provider_declares_what_the_providers_read_from_config_and_secrets():
    from apps.payments.models import PROVIDER_SETTINGS

    sources = [
        path.read_text()
        for folder in ("providers", "services")
        for path in (PAYMENTS / folder).glob("*.py")
    ]
    config_read = {name for text in sources for pair in CONFIG_READS.findall(text) for name in pair}
    secret_read = {name for text in sources for name in SECRET_READS.findall(text)}
    plain = {name for declared in PROVIDER_SETTINGS.values() for name in declared.plain}
    secret = {name for declared in PROVIDER_SETTINGS.values() for name in declared.secret}

    assert set(PROVIDER_SETTINGS) == set(Provider.values)
    assert config_read - {""} == plain
    assert secret_read == secret
    assert PROVIDER_SETTINGS["stripe"].secret == {"secret_key", "webhook_secret"}
    assert PROVIDER_SETTINGS["apple"].secret == {"private_key"}
    assert PROVIDER_SETTINGS["google_play"].secret == {"service_account", "rtdn_token"}


@pytest.mark.parametrize("provider", sorted(PLAIN))
def test_a_provider_s_plain_settings_are_accepted(provider):
    account = ProviderAccount(provider=provider, config=dict(PLAIN[provider]))
    account.clean()  # raises ValidationError on a refused key

    assert account.config == PLAIN[provider]  # kept as given, nothing moved or dropped


@pytest.mark.parametrize(
    ("provider", "key"),
    [
        ("stripe", "secret_key"),
        ("stripe", "webhook_secret"),
        ("apple", "private_key"),
        ("google_play", "service_account"),
        ("google_play", "rtdn_token"),
    ],
)
def test_a_provider_s_secret_in_config_is_refused_naming_secrets(provider, key):
    errors = config_errors(provider, {**PLAIN[provider], key: "typed-in-clear"})

    assert errors == [
        f"{key} is a secret: enter it under Secrets (encrypted, shown masked), not in config "
        "(stored and shown in clear)."
    ]


@pytest.mark.parametrize(
    ("provider", "key"),
    [
        ("stripe", "api_key"),
        ("stripe", "secretkey"),  # a typo of the real name
        ("sandbox", "password"),
        ("apple", "privateKey"),
        ("google_play", "client_secret"),
    ],
)
def test_a_config_name_that_looks_secret_is_refused_for_every_provider(provider, key):
    errors = config_errors(provider, {key: "typed-in-clear"})

    assert len(errors) == 1 and errors[0].startswith(f"{key} looks like a secret"), errors


def test_a_service_account_key_pasted_into_config_is_refused():
    pasted = {"type": "service_account", "private_key": "-----BEGIN PRIVATE KEY-----\nx"}
    errors = config_errors("google_play", {"package_name": "com.x", "key_file": pasted})

    assert errors[0].startswith("key_file holds key_file.private_key, which looks like a secret")


# --- The admin ------------------------------------------------------------------------------

CHANGELIST = "/admin/payments/provideraccount/"


def add_stripe_account(admin_client, game, *, config: str, new_secrets: str = ""):
    return admin_client.post(
        f"{CHANGELIST}add/",
        {
            "game": game.pk,
            "provider": "stripe",
            "enabled": "on",
            "config": config,
            "new_secrets": new_secrets,
        },
    )


@pytest.mark.django_db
def test_the_admin_refuses_a_secret_in_config_and_saves_nothing(admin_client, game):
    response = add_stripe_account(
        admin_client, game, config='{"secret_key": "sk_test_CLEARKEY0001"}'
    )

    assert response.status_code == 200
    assert "secret_key is a secret: enter it under Secrets" in response.content.decode()
    assert not ProviderAccount.objects.exists()


@pytest.mark.django_db
def test_secrets_typed_into_a_refused_form_are_not_rendered_back(admin_client, game):
    response = add_stripe_account(
        admin_client,
        game,
        config='["success_url"]',  # refused: not an object
        new_secrets='{"secret_key": "sk_test_TYPEDSECRET42"}',
    )

    page = response.content.decode()
    assert response.status_code == 200
    assert "A JSON object" in page  # the form was shown again, with its error
    assert 'name="new_secrets"' in page
    assert "TYPEDSECRET42" not in page
    assert not ProviderAccount.objects.exists()


@pytest.mark.django_db
def test_the_audit_log_never_holds_a_secret_left_in_an_account_s_config(admin_client, game):
    # Saved before config refused secrets: its owner moves the key under Secrets.
    account = ProviderAccount.objects.create(
        game=game, provider="stripe", config={"secret_key": "sk_test_LEGACY0042"}
    )

    moved = admin_client.post(
        f"{CHANGELIST}{account.pk}/change/",
        {
            "provider": "stripe",
            "enabled": "on",
            "config": "{}",
            "new_secrets": '{"secret_key": "sk_test_LEGACY0042"}',
        },
    )

    assert moved.status_code == 302
    entry = AuditLogEntry.objects.get(target_id=str(account.pk), action="admin_change")
    assert "LEGACY0042" not in json.dumps([entry.before, entry.after])
    assert entry.before["config"]["secret_key"].startswith("hidden (")
    assert entry.after["config"] == {}
    account.refresh_from_db()
    assert account.secrets == {"secret_key": "sk_test_LEGACY0042"}


# --- The data migration ---------------------------------------------------------------------

BEFORE = ("payments", "0009_payment_expires_at")
AFTER = ("payments", "0010_move_secrets_out_of_config")


@pytest.fixture
def at_previous_migration(transactional_db):
    """The payments app migrated back to before the move (its tables are the same); the whole
    project migrated forward again afterwards."""
    with migrated_back_to(BEFORE) as apps:
        yield apps


@pytest.mark.django_db(transaction=True)
def test_the_migration_moves_an_account_s_secrets_out_of_config(at_previous_migration, game):
    old = at_previous_migration.get_model("payments", "ProviderAccount")
    stripe = old.objects.create(
        game_id=game.pk,
        provider="stripe",
        config={"success_url": "https://game.example/ok", "webhook_secret": "whsec_CLEAR1"},
        secrets_encrypted=crypto.encrypt_json({"secret_key": "sk_test_inuse"}),
    )
    apple = old.objects.create(
        game_id=game.pk,
        provider="apple",
        config={"bundle_id": "com.x", "private_key": "NEW"},
        secrets_encrypted=crypto.encrypt_json({"private_key": "IN-USE"}),
    )
    lost = Fernet(Fernet.generate_key()).encrypt(b"{}").decode()
    unreadable = old.objects.create(
        game_id=game.pk,
        provider="google_play",
        config={"package_name": "com.x", "rtdn_token": "CLEAR2"},
        secrets_encrypted=lost,
    )

    migrate_to(AFTER)

    moved = ProviderAccount.objects.get(pk=stripe.pk)
    assert moved.config == {"success_url": "https://game.example/ok"}
    assert moved.secrets == {"secret_key": "sk_test_inuse", "webhook_secret": "whsec_CLEAR1"}
    kept = ProviderAccount.objects.get(pk=apple.pk)
    assert kept.config == {"bundle_id": "com.x"}
    assert kept.secrets == {"private_key": "IN-USE", "private_key_from_config": "NEW"}
    left = ProviderAccount.objects.get(pk=unreadable.pk)
    assert left.config == {"package_name": "com.x", "rtdn_token": "CLEAR2"}
    assert left.secrets_encrypted == lost


@pytest.mark.django_db
def test_a_secret_left_in_an_account_s_config_is_not_shown_in_clear(admin_client, game):
    # Saved without clean, as accounts from before config refused secrets were.
    account = ProviderAccount.objects.create(
        game=game,
        provider="google_play",
        config={"package_name": "com.example.game", "rtdn_token": "LEFT-IN-CFG-02"},
    )

    page = admin_client.get(f"/admin/payments/provideraccount/{account.pk}/change/")

    assert page.status_code == 200
    assert "LEFT-IN-CFG-02" not in page.content.decode()
    assert "rtdn_token" in page.content.decode() and "com.example.game" in page.content.decode()
