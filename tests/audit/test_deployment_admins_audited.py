"""The deployment's own rows, changed by a superuser through Django's and axes' stock admins,
land in the audit log as the games' rows do (naming no game), a password only as a digest:
before, an operator given a new password or made superuser, or a lock-out lifted by deleting
its attempt, left nothing but Django's LogEntry."""

from __future__ import annotations

import pytest
from axes.models import AccessAttempt
from django.contrib.auth.models import Group, Permission, User
from django.utils import timezone

from apps.audit.models import AuditLogEntry

pytestmark = pytest.mark.django_db


@pytest.fixture
def root(client):
    user = User.objects.create_superuser("root", "root@example.com", "root-pw-long-enough-1")
    client.force_login(user)
    return user


@pytest.fixture
def opal():
    return User.objects.create_user("opal", password="opal-pw-long-enough-1", is_staff=True)


def entries_for(obj) -> list[AuditLogEntry]:
    return list(AuditLogEntry.objects.filter(target_id=str(obj.pk)).order_by("id"))


def test_a_password_set_for_an_operator_is_audited_without_its_hash(client, root, opal):
    old_hash = opal.password

    response = client.post(
        f"/admin/auth/user/{opal.pk}/password/",
        {"password1": "a-new-pw-long-enough-2", "password2": "a-new-pw-long-enough-2"},
    )

    assert response.status_code == 302
    opal.refresh_from_db()
    assert opal.password != old_hash
    [entry] = entries_for(opal)
    assert (entry.action, entry.actor, entry.game, entry.target_type) == (
        "admin_change",
        root,
        None,
        "auth.user",
    )
    assert entry.before["password"].startswith("set (")
    assert entry.after["password"].startswith("set (")
    assert entry.before["password"] != entry.after["password"]
    written = str(entry.before) + str(entry.after)
    assert old_hash not in written and opal.password not in written
    assert "pbkdf2" not in written


def test_an_operator_made_superuser_is_audited(client, root, opal):
    joined = timezone.localtime(opal.date_joined)
    response = client.post(
        f"/admin/auth/user/{opal.pk}/change/",
        {
            "username": "opal",
            "is_active": "on",
            "is_staff": "on",
            "is_superuser": "on",
            "date_joined_0": joined.strftime("%Y-%m-%d"),
            "date_joined_1": joined.strftime("%H:%M:%S"),
        },
    )

    assert response.status_code == 302, response.content[:2000]
    [entry] = entries_for(opal)
    assert entry.action == "admin_change"
    assert (entry.before["is_superuser"], entry.after["is_superuser"]) == (False, True)
    assert "pbkdf2" not in str(entry.after)


def test_an_operator_added_is_audited_without_the_password(client, root):
    response = client.post(
        "/admin/auth/user/add/",
        {
            "username": "newop",
            "usable_password": "true",
            "password1": "newop-pw-long-enough-3",
            "password2": "newop-pw-long-enough-3",
        },
    )

    assert response.status_code == 302, response.content[:2000]
    newop = User.objects.get(username="newop")
    [entry] = entries_for(newop)
    assert (entry.action, entry.before, entry.after["username"]) == ("admin_add", {}, "newop")
    assert newop.password not in str(entry.after) and "pbkdf2" not in str(entry.after)


def test_a_groups_permissions_changed_are_audited(client, root):
    group = Group.objects.create(name="support")
    permission = Permission.objects.get(codename="view_user")

    response = client.post(
        f"/admin/auth/group/{group.pk}/change/",
        {"name": "support", "permissions": [permission.pk]},
    )

    assert response.status_code == 302
    [entry] = entries_for(group)
    assert entry.action == "admin_change"
    assert (entry.before["permissions"], len(entry.after["permissions"])) == ([], 1)


def test_a_lock_out_lifted_by_deleting_its_attempt_is_audited(client, root):
    attempt = AccessAttempt.objects.create(
        username="opal",
        ip_address="203.0.113.9",
        user_agent="test",
        http_accept="*/*",
        path_info="/admin/login/",
        get_data="",
        post_data="",
        failures_since_start=5,
    )

    response = client.post(f"/admin/axes/accessattempt/{attempt.pk}/delete/", {"post": "yes"})

    assert response.status_code == 302
    assert not AccessAttempt.objects.filter(pk=attempt.pk).exists()
    [entry] = entries_for(attempt)
    assert (entry.action, entry.actor, entry.game) == ("admin_delete", root, None)
    assert (entry.before["username"], entry.before["failures_since_start"]) == ("opal", 5)
