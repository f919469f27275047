"""The audit log's entries about a player, for the data export (apps.accounts.privacy): what was
done to the account (bans, grants and revokes, ended sessions, restored saves, removed scores,
refunds, the erasure and the data downloads), when, and the reason or note given. Not who did
it (the operator's account is the studio's, not the player's), nor the entries' before and
after values (an admin edit's copy of a row). Erasure keeps them (docs/guide/privacy.md).

An entry names its target by type and id only. The player's row and sessions are accounts'
(below us); the rows of the apps above, which audit cannot import, each app names with
`register_entries_about` in its AppConfig.ready()."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db.models import CharField, Model, Q, QuerySet
from django.db.models.functions import Cast

from apps.accounts.models import AuthSession, Player
from apps.accounts.privacy import rows
from apps.audit.models import AuditLogEntry

EntriesAbout = Callable[[Player], Q]

_entries_about: dict[str, EntriesAbout] = {}


def register_entries_about(name: str, about: EntriesAbout) -> None:
    """`about(player)`: the entries (a filter of AuditLogEntry) whose target is one of the
    player's rows in the calling app; `targets` builds the usual one. One name per app:
    registering it again (a second ready() in tests) replaces it."""
    _entries_about[name] = about


def targets(model: type[Model], of_player: QuerySet[Any]) -> Q:
    """The entries whose target is one of the rows `of_player` (a queryset of `model`)."""
    ids = of_player.values(target=Cast("pk", output_field=CharField()))
    return Q(target_type=model._meta.label_lower, target_id__in=ids)


def export(player: Player) -> list[dict[str, Any]]:
    # A session is pruned some days after it ended, and the entry of an operator ending it
    # stays: its target's text, str(AuthSession), still names the player.
    sessions = Q(
        target_type=AuthSession._meta.label_lower,
        target_repr__startswith="session #",
        target_repr__contains=f" of {player.pk} (",
    )
    about = Q(target_type=Player._meta.label_lower, target_id=str(player.pk)) | sessions
    for entries_about in _entries_about.values():
        about |= entries_about(player)
    entries = AuditLogEntry.objects.filter(about, game_id=player.game_id)
    return rows(entries.order_by("created_at", "id"), "action", "reason", "created_at")
