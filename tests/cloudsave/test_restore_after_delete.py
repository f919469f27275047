"""A deletion is kept besides the game's `versions kept`, not as one of them: a deleted document
keeps its last values, so an operator can bring it back until its tombstone is pruned (the
guide's promise), whatever the setting. At 1 the deletion pushed out the only value: nothing
was left to restore."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User

from apps.cloudsave.models import MAX_VERSIONS_KEPT, Document, DocumentVersion, SaveSettings
from apps.cloudsave.services import restore_version
from tests.cloudsave.conftest import URL, create, put

pytestmark = pytest.mark.django_db


def kept_versions(player) -> list[tuple[int, object]]:
    kept = DocumentVersion.objects.filter(document__player=player).order_by("version")
    return list(kept.values_list("version", "value"))


def test_a_deleted_document_can_be_restored_when_one_version_is_kept(alice, player, game):
    SaveSettings.objects.create(game=game, versions_kept=1)
    create(alice, "slot1", {"gold": 10})
    assert alice.delete(f"{URL}/slot1", HTTP_IF_MATCH='"1"').status_code == 204

    assert kept_versions(player) == [(1, {"gold": 10}), (2, None)]
    restored = restore_version(
        actor=User.objects.create(username="oscar"),
        player=player,
        key="slot1",
        version=1,
        reason="ticket 7: deleted by mistake",
        seen_version=2,
    )

    assert (restored.version, restored.deleted, restored.value) == (3, False, {"gold": 10})
    assert alice.get(f"{URL}/slot1").json()["value"] == {"gold": 10}
    assert kept_versions(player) == [(3, {"gold": 10})]  # the setting again after the write


def test_a_deletion_keeps_the_games_number_of_values_beside_it(alice, player, game):
    SaveSettings.objects.create(game=game, versions_kept=3)
    create(alice, "slot1", 1)
    for version in range(1, 4):
        put(alice, "slot1", version + 1, HTTP_IF_MATCH=f'"{version}"')
    alice.delete(f"{URL}/slot1", HTTP_IF_MATCH='"4"')

    assert kept_versions(player) == [(2, 2), (3, 3), (4, 4), (5, None)]
    create(alice, "slot1", 6)  # the key again: three versions, as the setting says
    assert kept_versions(player) == [(4, 4), (5, None), (6, 6)]


def test_the_version_a_deletion_kept_goes_with_the_next_writes_at_the_largest_setting(
    alice, player, game
):
    SaveSettings.objects.create(game=game, versions_kept=MAX_VERSIONS_KEPT)
    create(alice, "slot1", 1)
    for version in range(1, MAX_VERSIONS_KEPT + 1):
        put(alice, "slot1", version + 1, HTTP_IF_MATCH=f'"{version}"')
    deleted_at = MAX_VERSIONS_KEPT + 2
    alice.delete(f"{URL}/slot1", HTTP_IF_MATCH=f'"{deleted_at - 1}"')
    assert len(kept_versions(player)) == MAX_VERSIONS_KEPT + 1

    create(alice, "slot1", "again")
    put(alice, "slot1", "last", HTTP_IF_MATCH=f'"{deleted_at + 1}"')

    versions = [version for version, _ in kept_versions(player)]
    assert versions == list(range(deleted_at + 2 - MAX_VERSIONS_KEPT + 1, deleted_at + 3))
    assert Document.objects.get(player=player).version == deleted_at + 2
