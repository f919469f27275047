"""`manage.py audit_ledger`: recompute every balance from the ledger; exit 1 on any difference
(a player's entries of a currency or item with no wallet or holding row are checked as stored=0),
2 when nothing was audited because `--game` names no game."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser

from apps.accounts.models import Game
from apps.inventory.selectors import ledger_discrepancies

# Exit codes a scheduler tells apart: 1 is a ledger that does not balance, 2 a run that checked
# nothing (a mistyped slug must not read as money gone wrong, nor as a clean audit); 2 is also
# what the command line's own usage errors exit with.
MISMATCH_EXIT, UNKNOWN_GAME_EXIT = 1, 2


class Command(BaseCommand):
    help = (
        "Check that every wallet balance and item count equals the sum of its ledger entries "
        "(a missing wallet or holding counts as 0). Exit 0: all agree; 1: some disagree; "
        "2: --game names no game, nothing audited."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--game", help="Only this game (slug).")

    def handle(self, *args: object, game: str | None = None, **options: object) -> None:
        game_id = None
        if game is not None:
            found = Game.objects.filter(slug=game).values_list("pk", flat=True).first()
            if found is None:
                raise CommandError(
                    f"No game with slug {game!r}: nothing was audited.",
                    returncode=UNKNOWN_GAME_EXIT,
                )
            game_id = found
        checked, differences = ledger_discrepancies(game_id=game_id)
        for d in differences:
            self.stdout.write(
                f"MISMATCH player={d.player_id} {d.kind}={d.code} stored={d.stored} "
                f"ledger_sum={d.from_ledger} last_balance_after={d.last_balance_after}"
            )
        if differences:
            raise CommandError(
                f"{len(differences)} of {checked} balances disagree with the ledger.",
                returncode=MISMATCH_EXIT,
            )
        self.stdout.write(self.style.SUCCESS(f"OK: {checked} balances agree with the ledger."))
