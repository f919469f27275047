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


def test_the_log_page_reads_the_same_queries_however_many_entries_it_shows(client, entry, player):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(entry.actor)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get("/admin/audit/auditlogentry/").status_code == 200
        return len(captured)

    few = queries()
    for n in range(20):
        record_action(actor=entry.actor, game=entry.game, action=f"x{n}", target=player)

    assert queries() == few
