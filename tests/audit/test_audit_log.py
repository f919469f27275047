import pytest
from django.contrib.auth import get_user_model

from apps.accounts.models import GameAccess
from apps.accounts.services import set_game_access
from apps.audit.models import AuditLogEntry
from apps.audit.services import record_action


@pytest.fixture
def entry(game, player):
    owner = get_user_model().objects.create_user("olivia", password="pw-long-enough-1")
    set_game_access(user=owner, game=game, role=GameAccess.Role.OWNER)
    return record_action(
        actor=owner,
        game=game,
        action="ban",
        target=player,
        before={"banned": False},
        after={"banned": True},
        reason="cheating",
    )


def test_entries_are_append_only(entry):
    entry.reason = "edited"
    with pytest.raises(ValueError):
        entry.save()
    assert AuditLogEntry.objects.get(pk=entry.pk).reason == "cheating"


def test_owner_reads_but_cannot_change_or_delete(client, entry):
    client.force_login(entry.actor)

    assert client.get("/admin/audit/auditlogentry/").status_code == 200
    assert client.get(f"/admin/audit/auditlogentry/{entry.pk}/change/").status_code == 200
    assert (
        client.post(f"/admin/audit/auditlogentry/{entry.pk}/delete/", {"post": "yes"}).status_code
        == 403
    )
    assert AuditLogEntry.objects.filter(pk=entry.pk).exists()


def test_operator_cannot_read_the_log(client, entry, game):
    operator = get_user_model().objects.create_user("oscar", password="pw-long-enough-1")
    set_game_access(user=operator, game=game, role=GameAccess.Role.OPERATOR)
    client.force_login(operator)

    assert client.get(f"/admin/audit/auditlogentry/{entry.pk}/change/").status_code in (302, 403)
