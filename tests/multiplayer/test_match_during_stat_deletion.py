"""A stat definition deleted while a match reporting it is recorded: no 500 on either side. A
deletion waits for a match under way and deletes its values too; a match that waited on a
deletion is refused like any undeclared stat."""

import contextlib
import threading
from unittest import mock

import pytest
from django.test import Client
from rest_framework.test import APIClient

from apps.multiplayer.models import Match
from apps.multiplayer.services import matches
from apps.stats.admin import StatDefinitionAdmin
from apps.stats.models import PlayerStat, StatDefinition
from tests.conftest import in_thread, wait_until_a_statement_waits_for_a_lock
from tests.multiplayer.conftest import URL, match_body

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _post_match(server_key: str, body: dict):
    client = APIClient()
    client.credentials(HTTP_X_SERVER_KEY=server_key)
    return lambda: client.post(URL, body, format="json")


def _delete_kills(admin_user, how: str = "page"):
    """The delete page's confirmation, or the list's bulk "delete selected" action."""
    client = Client()
    client.force_login(admin_user)
    kills = StatDefinition.objects.get(key="kills")
    data: dict[str, object]
    if how == "page":
        url, data = f"/admin/stats/statdefinition/{kills.pk}/delete/", {"post": "yes"}
    else:
        url = "/admin/stats/statdefinition/"
        data = {"action": "delete_selected", "_selected_action": [kills.pk], "post": "yes"}
    return lambda: client.post(url, data)


def _wait_for_a_lock_wait() -> None:
    # before the fix nothing waited; the checks below say so
    with contextlib.suppress(AssertionError):
        wait_until_a_statement_waits_for_a_lock(timeout=3)


@pytest.mark.parametrize("how", ["page", "action"])
def test_a_deletion_while_a_match_reporting_the_stat_is_under_way_waits_for_it(
    server_key, make_players, stat_defs, admin_user, how
):
    alice, bob = make_players(2)
    body = match_body("m-del-1", [alice, bob], stats={"kills": 4, "deaths": 1})
    delete = _delete_kills(admin_user, how)
    written, release = threading.Event(), threading.Event()
    real_add_xp = matches.add_xp

    def hold_after_the_stats(**kwargs):
        written.set()
        release.wait(10)
        return real_add_xp(**kwargs)

    with mock.patch.object(matches, "add_xp", hold_after_the_stats):
        match = in_thread(_post_match(server_key, body))
        assert written.wait(10)  # the match's stat values written, not committed
        deletion = in_thread(delete)
        _wait_for_a_lock_wait()
        release.set()
        answer = match.result(10)
        deleted = deletion.result(10)

    assert answer.status_code == 201, answer.content
    assert deleted.status_code == 302
    assert not StatDefinition.objects.filter(key="kills").exists()
    assert set(PlayerStat.objects.values_list("definition__key", flat=True)) == {"deaths"}
    assert Match.objects.filter(match_id="m-del-1").exists()


def test_a_match_reporting_a_stat_whose_deletion_is_under_way_is_refused_after_it(
    server_key, make_players, stat_defs, admin_user
):
    alice, bob = make_players(2)
    body = match_body("m-del-2", [alice, bob], stats={"kills": 4, "deaths": 1})
    delete = _delete_kills(admin_user)
    deleted_event, release = threading.Event(), threading.Event()
    real_response = StatDefinitionAdmin.response_delete

    def hold_after_the_delete(self, *args, **kwargs):
        deleted_event.set()
        release.wait(10)
        return real_response(self, *args, **kwargs)

    with mock.patch.object(StatDefinitionAdmin, "response_delete", hold_after_the_delete):
        deletion = in_thread(delete)
        assert deleted_event.wait(10)  # the definition deleted, not committed
        match = in_thread(_post_match(server_key, body))
        _wait_for_a_lock_wait()
        release.set()
        deleted = deletion.result(10)
        answer = match.result(10)

    assert deleted.status_code == 302
    assert answer.status_code == 400, answer.content
    assert answer.json()["code"] == "unknown_stat"
    assert not StatDefinition.objects.filter(key="kills").exists()
    assert not PlayerStat.objects.exists()
    assert not Match.objects.filter(match_id="m-del-2").exists()
