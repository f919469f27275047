from apps.accounts.models import Game
from apps.multiplayer.models import XpRule
from apps.multiplayer.selectors import DEFAULT_MATCH_XP


def seed(game: Game) -> None:
    """The default XP per outcome, written out so operators see where to change it."""
    for outcome, xp in DEFAULT_MATCH_XP.items():
        XpRule.objects.get_or_create(game=game, mode="", outcome=outcome, defaults={"xp": xp})
    XpRule.objects.get_or_create(game=game, mode="ranked", outcome="win", defaults={"xp": 150})
