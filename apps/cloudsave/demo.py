"""The demo game's cloud-save rules: a private save slot, a public profile card and a rank
only game servers write."""

from apps.accounts.models import Game
from apps.cloudsave.models import SaveKey, SaveSettings

KEYS = [
    ("slot1", SaveKey.Writer.CLIENT, False),
    ("profile", SaveKey.Writer.CLIENT, True),
    ("rank", SaveKey.Writer.SERVER, True),
]


def seed(game: Game) -> None:
    SaveSettings.objects.get_or_create(game=game)
    for key, writer, public in KEYS:
        SaveKey.objects.get_or_create(
            game=game, key=key, defaults={"writer": writer, "public": public}
        )
