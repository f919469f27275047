"""Changes made in the Django admin land in the audit log with the row before and after."""

import pytest
from django.contrib.auth import get_user_model

from apps.accounts.models import GameAccess
from apps.accounts.services import set_game_access
from apps.audit.models import AuditLogEntry
from apps.inventory.models import Currency


@pytest.fixture
def operator(game):
    user = get_user_model().objects.create_user("opal", password="pw-long-enough-1")
    set_game_access(user=user, game=game, role=GameAccess.Role.OPERATOR)
    return user


@pytest.fixture
def gold(game):
    return Currency.objects.create(game=game, code="gold", name="Gold", cap=None)


def test_admin_change_is_audited_with_before_and_after(client, operator, game, gold):
    client.force_login(operator)

    response = client.post(
        f"/admin/inventory/currency/{gold.pk}/change/",
        {"game": game.pk, "code": "gold", "name": "Shiny gold", "cap": "5000"},
    )

    assert response.status_code == 302
    entry = AuditLogEntry.objects.get(action="admin_change")
    assert (entry.actor, entry.game, entry.target_id) == (operator, game, str(gold.pk))
    assert (entry.before["name"], entry.after["name"]) == ("Gold", "Shiny gold")
    assert (entry.before["cap"], entry.after["cap"]) == (None, 5000)


def test_admin_add_and_delete_are_audited(client, operator, game):
    client.force_login(operator)

    client.post("/admin/inventory/currency/add/", {"game": game.pk, "code": "gems", "name": "Gems"})
    gems = Currency.objects.get(code="gems")
    client.post(f"/admin/inventory/currency/{gems.pk}/delete/", {"post": "yes"})

    assert not Currency.objects.filter(code="gems").exists()
    actions = list(
        AuditLogEntry.objects.filter(target_id=str(gems.pk))
        .order_by("id")
        .values_list("action", "game")
    )
    assert actions == [("admin_add", game.pk), ("admin_delete", game.pk)]
    assert AuditLogEntry.objects.get(action="admin_delete").before["name"] == "Gems"


def test_saving_without_changes_writes_no_entry(client, operator, game, gold):
    client.force_login(operator)

    client.post(
        f"/admin/inventory/currency/{gold.pk}/change/",
        {"game": game.pk, "code": "gold", "name": "Gold", "cap": ""},
    )

    assert not AuditLogEntry.objects.filter(action="admin_change").exists()


def test_a_changed_secret_is_audited_without_its_value(client, game):
    from apps.payments.models import ProviderAccount

    owner = get_user_model().objects.create_user("olive", password="pw-long-enough-1")
    set_game_access(user=owner, game=game, role=GameAccess.Role.OWNER)
    client.force_login(owner)
    account = ProviderAccount(game=game, provider="stripe", config={})
    account.set_secrets({"secret_key": "sk_test_old"})
    account.save()

    response = client.post(
        f"/admin/payments/provideraccount/{account.pk}/change/",
        {
            "game": game.pk,
            "provider": "stripe",
            "enabled": "on",
            "config": "{}",
            "new_secrets": '{"secret_key": "sk_test_brand_new_value"}',
        },
    )

    assert response.status_code == 302, response.content[:500]
    entry = AuditLogEntry.objects.get(action="admin_change")
    assert entry.before["secrets"] != entry.after["secrets"]
    assert entry.after["secrets"].startswith("set (")
    assert "sk_test" not in str(entry.before) + str(entry.after)


def test_a_change_made_only_in_an_inline_is_audited(rf, operator, game, gold):
    from datetime import timedelta

    from django.contrib import admin
    from django.utils import timezone

    from apps.events.models import Event, EventReward

    now = timezone.now()
    event = Event.objects.create(
        game=game, name="Launch", starts_at=now, ends_at=now + timedelta(days=7)
    )
    reward = EventReward.objects.create(
        event=event, name="Gold", contents=[{"currency": "gold", "quantity": 10}]
    )
    event_admin = admin.site.get_model_admin(Event)
    request = rf.post(f"/admin/events/event/{event.pk}/change/")
    request.user = operator

    # What the change view does: read the object, save the form and its inlines, log.
    event_admin.get_object(request, str(event.pk))
    reward.contents = [{"currency": "gold", "quantity": 1000000}]
    reward.save()
    event_admin.log_change(request, event, [{"changed": {"name": "event reward"}}])

    entry = AuditLogEntry.objects.get(action="admin_change")
    [before], [after] = entry.before["event rewards"], entry.after["event rewards"]
    assert (before["contents"], after["contents"]) == (
        [{"currency": "gold", "quantity": 10}],
        [{"currency": "gold", "quantity": 1000000}],
    )
    assert entry.before["name"] == entry.after["name"] == "Launch"  # the event itself unchanged


def test_a_change_into_a_case_its_game_already_has_is_a_form_error_not_a_500(
    client, operator, game, other_game
):
    from apps.multiplayer.models import XpRule

    XpRule.objects.create(game=game, mode="ranked", outcome="win", xp=100)
    XpRule.objects.create(game=other_game, mode="", outcome="win", xp=5)  # elsewhere: no matter
    mine = XpRule.objects.create(game=game, mode="", outcome="win", xp=50)
    client.force_login(operator)
    url = f"/admin/multiplayer/xprule/{mine.pk}/change/"

    response = client.post(url, {"mode": "ranked", "outcome": "win", "xp": "50"})

    assert response.status_code == 200  # the form again, with its error
    assert "already exists" in response.content.decode()
    mine.refresh_from_db()
    assert (mine.mode, mine.xp) == ("", 50)
    assert client.post(url, {"mode": "casual", "outcome": "win", "xp": "60"}).status_code == 302


@pytest.mark.parametrize(
    ("model", "made", "field"),
    [
        ("inventory/currency", {"code": "gold", "name": "Gold"}, "code"),
        ("inventory/itemdefinition", {"sku": "sword", "name": "Sword"}, "sku"),
        ("stats/statdefinition", {"key": "kills", "name": "Kills"}, "key"),
    ],
)
def test_identifiers_content_and_clients_name_are_fixed_once_saved(
    client, operator, game, model, made, field
):
    from django.apps import apps
    from django.core.exceptions import ValidationError

    row = apps.get_model(*model.split("/")).objects.create(game=game, **made)
    client.force_login(operator)

    page = client.get(f"/admin/{model}/{row.pk}/change/").content.decode()

    assert f'name="{field}"' not in page  # shown, not editable
    setattr(row, field, "renamed")
    with pytest.raises(ValidationError) as refused:
        row.full_clean()
    assert list(refused.value.message_dict) == [field]


def test_rows_saved_from_the_list_page_are_audited_each_with_its_own_before(client, operator, game):
    from apps.shop.models import Category

    deals = Category.objects.create(game=game, name="Deals", position=1, active=True)
    packs = Category.objects.create(game=game, name="Packs", position=2, active=True)
    client.force_login(operator)

    response = client.post(
        "/admin/shop/category/",
        {
            "form-TOTAL_FORMS": "2",
            "form-INITIAL_FORMS": "2",
            "form-MIN_NUM_FORMS": "0",
            "form-MAX_NUM_FORMS": "1000",
            "form-0-id": str(deals.pk),
            "form-0-position": "5",
            "form-0-active": "on",
            "form-1-id": str(packs.pk),
            "form-1-position": "2",
            "_save": "Save",
        },
    )

    assert response.status_code == 302
    entries = {
        entry.target_id: entry for entry in AuditLogEntry.objects.filter(action="admin_change")
    }
    deals_entry, packs_entry = entries[str(deals.pk)], entries[str(packs.pk)]
    assert (deals_entry.before["position"], deals_entry.after["position"]) == (1, 5)
    assert deals_entry.before["name"] == deals_entry.after["name"] == "Deals"
    assert (packs_entry.before["active"], packs_entry.after["active"]) == (True, False)
    assert packs_entry.before["position"] == packs_entry.after["position"] == 2


def test_a_bulk_delete_that_fails_leaves_no_audit_entry(client, operator, game, gold, monkeypatch):
    from django.contrib import admin
    from django.db import DatabaseError

    currency_admin = admin.site._registry[Currency]

    def failing_delete(request, queryset):
        raise DatabaseError("the delete failed")

    monkeypatch.setattr(currency_admin, "delete_queryset", failing_delete)
    client.force_login(operator)
    client.raise_request_exception = False

    client.post(
        "/admin/inventory/currency/",
        {"action": "delete_selected", "_selected_action": [gold.pk], "post": "yes"},
    )

    assert Currency.objects.filter(pk=gold.pk).exists()
    assert not AuditLogEntry.objects.filter(action="admin_delete").exists()


def _launch_event(game):
    from datetime import timedelta

    from django.utils import timezone

    from apps.events.models import Event, EventReward

    now = timezone.now()
    event = Event.objects.create(
        game=game, name="Launch", starts_at=now + timedelta(days=1), ends_at=now + timedelta(days=7)
    )
    EventReward.objects.create(
        event=event, name="Gold", contents=[{"currency": "gold", "quantity": 10}]
    )
    return event


def test_a_deletion_is_audited_with_the_rows_its_inlines_edit(client, operator, game, gold):
    event = _launch_event(game)
    client.force_login(operator)

    response = client.post(f"/admin/events/event/{event.pk}/delete/", {"post": "yes"})

    assert response.status_code == 302
    entry = AuditLogEntry.objects.get(action="admin_delete")
    assert entry.before["name"] == "Launch"
    [reward] = entry.before["event rewards"]  # what the deleted event granted
    assert reward["contents"] == [{"currency": "gold", "quantity": 10}]


def test_only_a_superuser_deletes_a_game_and_its_audit_log_outlives_it(client, game, gold):
    owner = get_user_model().objects.create_user("olga", password="pw-long-enough-1")
    set_game_access(user=owner, game=game, role=GameAccess.Role.OWNER)
    client.force_login(owner)
    client.post(
        f"/admin/inventory/currency/{gold.pk}/change/",
        {"game": game.pk, "code": "gold", "name": "Shiny gold", "cap": ""},
    )

    assert client.get(f"/admin/accounts/game/{game.pk}/delete/").status_code == 403
    refused = client.post(f"/admin/accounts/game/{game.pk}/delete/", {"post": "yes"})
    assert refused.status_code == 403 and type(game).objects.filter(pk=game.pk).exists()

    root = get_user_model().objects.create_superuser("root", password="pw-long-enough-1")
    client.force_login(root)
    deleted = client.post(f"/admin/accounts/game/{game.pk}/delete/", {"post": "yes"})

    assert deleted.status_code == 302 and not type(game).objects.filter(pk=game.pk).exists()
    kept = list(AuditLogEntry.objects.order_by("id").values_list("action", "game", "target_repr"))
    assert kept == [("admin_change", None, "gold"), ("admin_delete", None, "Alpha")]
