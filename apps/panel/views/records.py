"""Streaming CSV exports of a game's players (with the list's filters), purchases, ledger and
audit log. Rows are read in keyset chunks, each a short query after the last row read, and written
as they come: a large game's export starts at once and sits neither in memory nor in a cursor
PostgreSQL fills whole first (a player list sorted by level, spend or last login, which no index
holds in order, is read in one pass: `players_in_order`). Cells that start like a formula are
guarded as on the dashboard."""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable, Iterator

from django.contrib.admin.views.decorators import staff_member_required
from django.core.exceptions import BadRequest, PermissionDenied
from django.db import transaction
from django.http import Http404, HttpResponse, HttpResponseBadRequest, StreamingHttpResponse
from django.utils import timezone

from apps.accounts.models import Game
from apps.accounts.operator_actions import announce_action
from apps.accounts.selectors import OWNER_ROLES, user_role
from apps.audit.diffs import changes_text, readable_value
from apps.audit.models import AuditLogEntry
from apps.inventory.models import LedgerEntry
from apps.panel.access import StaffRequest, readable_game
from apps.panel.forms import PlayerFilterForm
from apps.panel.selectors import in_keyset_chunks, players_in_order
from apps.panel.views.exports import safe_cell
from apps.shop.models import Purchase

BY_ID = ("id",)
# Every download is audited: each hands out what the game knows of its players (names, ban
# reasons, purchases), as a single player's data export does (`player.export`).
EXPORT_ACTION = "records.export"
MAX_FILTERS_RECORDED = 1000


def _players(game: Game, request: StaffRequest) -> Iterable[list]:
    form = PlayerFilterForm(request.GET or None)
    if form.is_bound and not form.is_valid():
        # The list page shows a refused filter beside its field; a file cannot, and would hold
        # players the operator asked to leave out.
        raise BadRequest(f"The player filters are not valid: {form.errors.as_text()}")
    yield ["id", "display_name", "created_at", "last_login_at", "banned_until", "ban_reason", "xp"]
    players = players_in_order(game=game, filters=form.filters(), sort=form.sort_order())
    for player in players:
        erased = player.erased_at is not None  # a tombstone: "erased player #id", no ban
        yield [
            player.pk,
            str(player) if erased else player.display_name,
            _when(player.created_at),
            _when(player.last_login_at),
            "" if erased else readable_value("banned_until", _when(player.banned_until)),
            "" if erased else player.ban_reason,
            player.xp_total or 0,
        ]


def _purchases(game: Game, request: StaffRequest) -> Iterable[list]:
    yield [
        "id", "created_at", "player_id", "offer_id", "offer", "quantity", "status", "source",
        "real_money", "price_currency", "price_amount", "provider", "completed_at",
        "refunded_at", "needs_attention",
    ]  # fmt: skip
    purchases = Purchase.objects.filter(game=game).select_related("offer")
    for p in in_keyset_chunks(purchases, BY_ID):
        yield [
            p.pk, _when(p.created_at), p.player_id, p.offer_id, p.offer.name, p.quantity,
            p.status, p.source, p.real_money, p.price_currency, p.price_amount, p.provider,
            _when(p.completed_at), _when(p.refunded_at), p.needs_attention,
        ]  # fmt: skip


def _ledger(game: Game, request: StaffRequest) -> Iterable[list]:
    yield [
        "id", "created_at", "player_id", "kind", "code", "delta", "balance_after", "reason",
        "reference", "actor",
    ]  # fmt: skip
    entries = LedgerEntry.objects.filter(game=game).select_related("currency", "item", "actor")
    for e in in_keyset_chunks(entries, BY_ID):
        kind, code = (
            ("currency", e.currency.code) if e.currency else ("item", e.item.sku if e.item else "")
        )
        yield [
            e.pk, _when(e.created_at), e.player_id, kind, code, e.delta, e.balance_after,
            e.reason, e.reference, e.actor.get_username() if e.actor else "",
        ]  # fmt: skip


def _audit(game: Game, request: StaffRequest) -> Iterable[list]:
    if user_role(request.user, game) not in OWNER_ROLES:
        raise PermissionDenied("The audit log is for the game's owners.")
    yield ["id", "created_at", "actor", "action", "target_type", "target_id", "target", "changes",
           "reason"]  # fmt: skip
    for a in in_keyset_chunks(AuditLogEntry.objects.filter(game=game), BY_ID):
        yield [
            a.pk, _when(a.created_at), a.actor_name, a.action, a.target_type, a.target_id,
            a.target_repr, changes_text(a), a.reason,
        ]  # fmt: skip


RECORDS: dict[str, Callable[[Game, StaffRequest], Iterable[list]]] = {
    "players": _players,
    "purchases": _purchases,
    "ledger": _ledger,
    "audit": _audit,
}


class _Echo:
    """csv.writer writes into this and gets the line back, to stream it."""

    def write(self, value: str) -> str:
        return value


@staff_member_required
def export_records(
    request: StaffRequest, game_id: int, table: str
) -> HttpResponse | StreamingHttpResponse:
    game = readable_game(request, game_id)
    if table not in RECORDS:
        raise Http404("No such export.")
    rows = iter(RECORDS[table](game, request))
    try:
        header = next(rows)  # runs the table's own checks (the audit log's role, the filters)
    except BadRequest as refused:
        return HttpResponseBadRequest(str(refused), content_type="text/plain; charset=utf-8")
    with transaction.atomic():
        announce_action(
            actor=request.user,
            game=game,
            action=EXPORT_ACTION,
            target=game,
            after={"table": table, "filters": request.GET.urlencode()[:MAX_FILTERS_RECORDED]},
        )
    writer = csv.writer(_Echo())
    lines: Iterator[str] = (
        writer.writerow([safe_cell(value) for value in row]) for row in _with_first(header, rows)
    )
    response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
    stamp = timezone.now().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="{game.slug}-{table}-{stamp}.csv"'
    return response


def _with_first(first: list, rest: Iterator[list]) -> Iterator[list]:
    yield first
    yield from rest


def _when(moment) -> str:
    return moment.isoformat() if moment else ""
