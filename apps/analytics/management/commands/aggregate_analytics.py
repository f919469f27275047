"""`manage.py aggregate_analytics --from 2026-01-01 --to 2026-03-31 [--game demo]`: rebuild the
daily metrics of a range (all games by default), with a progress bar."""

from __future__ import annotations

from datetime import date

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone
from tqdm import tqdm

from apps.accounts.models import Game
from apps.analytics.aggregation import days_before
from apps.analytics.maintenance import rebuild


class Command(BaseCommand):
    help = "Recompute daily analytics for a range of days (idempotent)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--from", dest="start", type=_day, help="First day (YYYY-MM-DD).")
        parser.add_argument("--to", dest="end", type=_day, help="Last day (default: today).")
        parser.add_argument(
            "--game", action="append", default=[], help="Game slug or id (repeatable)."
        )
        parser.add_argument("--chunk-days", type=int, default=7, help="Days per transaction.")
        parser.add_argument("--no-progress", action="store_true")

    def handle(
        self,
        *args: object,
        start: date | None,
        end: date | None,
        game: list[str],
        chunk_days: int,
        no_progress: bool,
        **options: object,
    ) -> None:
        today = timezone.now().date()
        end = end or today
        # An end in the calendar's first days: the range starts with the calendar.
        start = start or days_before(end, 29)
        if start > end:
            raise CommandError("--from must not be after --to.")
        if chunk_days < 1:
            raise CommandError("--chunk-days must be at least 1.")
        games = _games(game)
        end = min(end, today)
        days = max((end - start).days + 1, 0)
        total = len(games) * -(-days // chunk_days)
        with tqdm(total=total, unit="chunk", disable=no_progress, file=self.stderr) as bar:

            def advance(lo: date, hi: date) -> None:
                bar.set_postfix_str(f"{lo}..{hi}")
                bar.update(1)

            for each in games:
                bar.set_description(each.slug)
                rebuild(
                    game_ids=[each.pk],
                    start=start,
                    end=end,
                    on_chunk=advance,
                    chunk_days=chunk_days,
                )
        self.stdout.write(self.style.SUCCESS(f"Aggregated {days} day(s) for {len(games)} game(s)."))


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as error:
        raise CommandError(f"Not a date (YYYY-MM-DD): {value!r}") from error


def _games(names: list[str]) -> list[Game]:
    if not names:
        return list(Game.objects.order_by("pk"))
    games = []
    for name in names:
        lookup: dict[str, int | str] = (
            {"pk": int(name)} if name.isascii() and name.isdigit() else {"slug": name}
        )
        game = Game.objects.filter(**lookup).first()
        if game is None:
            raise CommandError(f"No game {name!r}.")
        games.append(game)
    return games
