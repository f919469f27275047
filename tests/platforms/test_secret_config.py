"""A secret typed into a platform credential's plain config: refused when saved, moved into the
encrypted secrets by the data migration, never copied into the audit log, never rendered back."""

from __future__ import annotations

import inspect
import json
import re

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import ValidationError

from apps.audit.models import AuditLogEntry
from apps.platforms.models import PlatformCredential
from apps.platforms.verifiers import PLATFORMS, get_verifier
from gamingpanel import crypto
from tests.migrating import migrate_to, migrated_back_to

# What each verifier reads from the encrypted secrets (docs/platforms.md marks them **secret**).
SECRETS = {
    "steam": {"publisher_key"},
    "epic": set(),
    "idcgames": {"app_secret"},
    "google_play": {"client_secret"},
    "apple": set(),
    "playstation": {"client_secret"},
    "nintendo": set(),
    "dev": set(),
}
# Put into every credential's mapping by verifier_config, not typed by an operator.
INJECTED = {"sandbox", "game_id"}
READS = re.compile(r'config_(?:str|url|flag|int|list)\(\s*NAME,\s*config,\s*"(\w+)"')
GETS = re.compile(r'config\.get\("(\w+)"')


def config_errors(platform: str, config: object) -> list[str]:
    credential = PlatformCredential(platform=platform, config=config)
    with pytest.raises(ValidationError) as refused:
        credential.clean()
    return refused.value.message_dict["config"]


@pytest.mark.parametrize("platform", PLATFORMS)
def test_each_verifier_declares_every_setting_it_reads_as_plain_or_secret(platform):
    from apps.platforms.verifiers.keys import ALGORITHMS_CONFIG, REPLAY_CONFIG

    verifier = get_verifier(platform)
    source = inspect.getsource(inspect.getmodule(verifier))
    read = {*READS.findall(source), *GETS.findall(source), *verifier.required_config} - INJECTED
    if "accept_once(" in source:
        read |= set(REPLAY_CONFIG)
    if "config_algorithms(" in source:
        read |= set(ALGORITHMS_CONFIG)
    plain, secret = set(verifier.plain_config), set(verifier.secret_config)

    assert secret == SECRETS[platform]
    assert not plain & secret
    assert read <= plain | secret, read - plain - secret


@pytest.mark.parametrize(
    ("platform", "key"),
    [(platform, key) for platform, keys in SECRETS.items() for key in sorted(keys)],
)
def test_a_declared_secret_in_config_is_refused_naming_secrets(platform, key):
    errors = config_errors(platform, {key: "typed-in-clear", "app_id": "480"})

    assert len(errors) == 1
    assert errors[0].startswith(f"{key} is a secret: enter it under Secrets")


@pytest.mark.parametrize(
    ("platform", "key"),
    [
        ("epic", "client_secret"),  # another platform's secret
        ("steam", "api_key"),
        ("steam", "publsher_key"),  # a typo of the real name
        ("steam", "Publisher-Key"),
        ("apple", "private_key"),
        ("nintendo", "password"),
        ("dev", "access_token"),
        ("idcgames", "apisecret"),
        ("google_play", "service_account_credentials"),
        ("unknown", "webhook_secret"),
    ],
)
def test_a_config_name_that_looks_secret_is_refused_even_if_no_verifier_reads_it(platform, key):
    errors = config_errors(platform, {key: "typed-in-clear"})

    assert errors == [
        f"{key} looks like a secret: enter it under Secrets (encrypted, shown masked), not in "
        "config (stored and shown in clear)."
    ]


def test_a_secret_nested_in_a_plain_setting_is_refused():
    errors = config_errors("playstation", {"token_params": {"scope": "s", "client_secret": "x"}})

    assert errors == [
        "token_params holds token_params.client_secret, which looks like a secret: enter it "
        "under Secrets (encrypted, shown masked), not in config (stored and shown in clear)."
    ]


@pytest.mark.parametrize(
    "value",
    [
        "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBg\n-----END PRIVATE KEY-----",
        "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln",
    ],
)
def test_a_credential_typed_as_the_value_of_a_plain_setting_is_refused(value):
    errors = config_errors("steam", {"identity": value})

    assert len(errors) == 1 and errors[0].startswith("identity: its value looks like"), errors


@pytest.mark.parametrize("platform", PLATFORMS)
def test_every_declared_plain_setting_is_accepted_even_when_its_name_looks_secret(platform):
    from apps.platforms.secret_settings import config_secret_errors
    from apps.platforms.verifiers import declared_settings

    # (URLs and hosts are checked on their own: tests/platforms/test_outbound.py.)
    config = {key: "x" for key in get_verifier(platform).plain_config}

    assert config_secret_errors(config, declared_settings(platform)) == []


# --- The admin ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_admin_refuses_a_secret_in_config_and_saves_nothing(admin_client, game):
    credential = PlatformCredential.objects.create(
        game=game, platform="steam", config={"app_id": "480"}
    )
    page = f"/admin/platforms/platformcredential/{credential.pk}/change/"

    response = admin_client.post(
        page,
        {
            "platform": "steam",
            "enabled": "on",
            "config": '{"app_id": "480", "publisher_key": "CLEAR-KEY-0001"}',
            "new_secrets": "",
        },
    )

    assert response.status_code == 200
    assert "publisher_key is a secret: enter it under Secrets" in response.content.decode()
    credential.refresh_from_db()
    assert credential.config == {"app_id": "480"}
    assert credential.secrets_encrypted == ""
    assert not AuditLogEntry.objects.filter(target_id=str(credential.pk)).exists()


@pytest.mark.django_db
def test_secrets_typed_into_a_refused_form_are_not_rendered_back(admin_client, game):
    response = admin_client.post(
        "/admin/platforms/platformcredential/add/",
        {
            "game": game.pk,
            "platform": "steam",
            "enabled": "on",
            "config": '["app_id", "480"]',  # refused: not an object
            "new_secrets": '{"publisher_key": "TYPED-SECRET-4711"}',
        },
    )

    page = response.content.decode()
    assert response.status_code == 200
    assert "A JSON object" in page  # the form was shown again, with its error
    assert 'name="new_secrets"' in page
    assert "TYPED-SECRET-4711" not in page
    assert not PlatformCredential.objects.exists()


@pytest.mark.django_db
def test_the_audit_log_never_holds_a_secret_left_in_config(admin_client, game):
    # Saved before config refused secrets (or without clean): its owner now moves the key.
    credential = PlatformCredential.objects.create(
        game=game, platform="steam", config={"app_id": "480", "publisher_key": "LEGACY-KEY-0042"}
    )
    page = f"/admin/platforms/platformcredential/{credential.pk}/change/"

    moved = admin_client.post(
        page,
        {
            "platform": "steam",
            "enabled": "on",
            "config": '{"app_id": "480"}',
            "new_secrets": '{"publisher_key": "LEGACY-KEY-0042"}',
        },
    )
    deleted = admin_client.post(
        f"/admin/platforms/platformcredential/{credential.pk}/delete/", {"post": "yes"}
    )

    assert moved.status_code == 302 and deleted.status_code == 302
    entries = AuditLogEntry.objects.filter(target_id=str(credential.pk)).order_by("id")
    change, delete = entries
    assert (change.action, delete.action) == ("admin_change", "admin_delete")
    assert "LEGACY-KEY-0042" not in json.dumps([e.before for e in entries] + [change.after])
    assert change.before["config"]["app_id"] == "480"
    assert change.before["config"]["publisher_key"].startswith("hidden (")
    assert change.after["config"] == {"app_id": "480"}
    assert change.after["secrets"].startswith("set (")


# --- The data migration ---------------------------------------------------------------------

BEFORE = ("platforms", "0001_initial")
AFTER = ("platforms", "0002_move_secrets_out_of_config")


@pytest.fixture
def at_previous_migration(transactional_db):
    """The platforms app migrated back to before the move (its table is the same); the whole
    project migrated forward again afterwards."""
    with migrated_back_to(BEFORE) as apps:
        yield apps


def run_the_move() -> None:
    migrate_to(AFTER)


@pytest.mark.django_db(transaction=True)
def test_the_migration_moves_secrets_from_config_into_empty_secret_slots(
    at_previous_migration, game
):
    old = at_previous_migration.get_model("platforms", "PlatformCredential")
    steam = old.objects.create(
        game_id=game.pk,
        platform="steam",
        config={"app_id": "480", "identity": "gp", "publisher_key": "CLEAR-1", "api_key": "k2"},
    )
    playstation = old.objects.create(
        game_id=game.pk,
        platform="playstation",
        config={"client_id": "c", "client_secret": "CLEAR-2", "token_params": {"scope": "s"}},
        secrets_encrypted=crypto.encrypt_json({"other": "kept"}),
    )
    before = {
        pk: PlatformCredential.objects.get(pk=pk).verifier_config()
        for pk in (steam.pk, playstation.pk)
    }

    run_the_move()

    moved = PlatformCredential.objects.get(pk=steam.pk)
    assert moved.config == {"app_id": "480", "identity": "gp"}
    assert moved.secrets == {"publisher_key": "CLEAR-1", "api_key": "k2"}
    moved_ps = PlatformCredential.objects.get(pk=playstation.pk)
    assert moved_ps.config == {"client_id": "c", "token_params": {"scope": "s"}}
    assert moved_ps.secrets == {"other": "kept", "client_secret": "CLEAR-2"}
    # What every login reads is unchanged.
    assert {pk: PlatformCredential.objects.get(pk=pk).verifier_config() for pk in before} == before
    moved_ps.full_clean()
    moved.full_clean()


@pytest.mark.django_db(transaction=True)
def test_the_migration_keeps_the_secret_in_use_and_config_s_other_value_beside_it(
    at_previous_migration, game
):
    old = at_previous_migration.get_model("platforms", "PlatformCredential")
    row = old.objects.create(
        game_id=game.pk,
        platform="google_play",
        config={"client_id": "c", "client_secret": "STALE", "application_id": "1"},
        secrets_encrypted=crypto.encrypt_json({"client_secret": "IN-USE"}),
    )
    same = old.objects.create(
        game_id=game.pk,
        platform="idcgames",
        config={"app_id": "1", "app_secret": "SAME"},
        secrets_encrypted=crypto.encrypt_json({"app_secret": "SAME"}),
    )

    run_the_move()

    moved = PlatformCredential.objects.get(pk=row.pk)
    assert moved.config == {"client_id": "c", "application_id": "1"}
    assert moved.secrets == {"client_secret": "IN-USE", "client_secret_from_config": "STALE"}
    assert moved.verifier_config()["client_secret"] == "IN-USE"
    deduplicated = PlatformCredential.objects.get(pk=same.pk)
    assert (deduplicated.config, deduplicated.secrets) == ({"app_id": "1"}, {"app_secret": "SAME"})


@pytest.mark.django_db(transaction=True)
def test_the_migration_leaves_a_credential_whose_secrets_cannot_be_read(
    at_previous_migration, game, caplog
):
    old = at_previous_migration.get_model("platforms", "PlatformCredential")
    unreadable = Fernet(Fernet.generate_key()).encrypt(b'{"publisher_key": "old"}').decode()
    row = old.objects.create(
        game_id=game.pk,
        platform="steam",
        config={"app_id": "480", "publisher_key": "CLEAR-3"},
        secrets_encrypted=unreadable,
    )
    plain = old.objects.create(game_id=game.pk, platform="epic", config={"client_id": "c"})

    run_the_move()

    kept = PlatformCredential.objects.get(pk=row.pk)
    assert kept.config == {"app_id": "480", "publisher_key": "CLEAR-3"}
    assert kept.secrets_encrypted == unreadable
    assert PlatformCredential.objects.get(pk=plain.pk).config == {"client_id": "c"}
    warned = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert any(f"platform credential {row.pk}: config keys publisher_key" in m for m in warned)
    assert not any("CLEAR-3" in m for m in warned)


@pytest.mark.django_db
def test_a_secret_left_in_config_is_not_shown_in_clear_on_the_change_page(admin_client, game):
    # Saved without clean, as rows from before config refused secrets (and those the migration
    # could not move) were.
    credential = PlatformCredential.objects.create(
        game=game, platform="steam", config={"app_id": "480", "publisher_key": "LEFT-IN-CFG-01"}
    )

    page = admin_client.get(f"/admin/platforms/platformcredential/{credential.pk}/change/")

    assert page.status_code == 200
    assert "LEFT-IN-CFG-01" not in page.content.decode()
    assert "publisher_key" in page.content.decode() and "480" in page.content.decode()
