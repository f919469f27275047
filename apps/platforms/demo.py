from apps.accounts.models import Game
from apps.platforms.models import PlatformCredential


def seed(game: Game) -> None:
    PlatformCredential.objects.get_or_create(
        game=game, platform=PlatformCredential.Platform.DEV, defaults={"enabled": True}
    )
