from datetime import timedelta

from django.utils import timezone

from apps.accounts.models import Game
from apps.events.models import Event, EventReward

EVENT_NAME = "Launch week"
REWARDS = [
    {
        "position": 1,
        "name": "Welcome gift",
        "requirement": EventReward.Requirement.NONE,
        "target": 1,
        "contents": [{"currency": "gold", "quantity": 100}],
        "battlepass_xp": 0,
    },
    {
        "position": 2,
        "name": "Play 3 matches",
        "requirement": EventReward.Requirement.MATCHES_PLAYED,
        "target": 3,
        "contents": [{"sku": "potion", "quantity": 3}],
        "battlepass_xp": 200,
    },
]


def seed(game: Game) -> None:
    """An event running now with a login reward and a matches-played reward."""
    now = timezone.now()
    event, created = Event.objects.get_or_create(
        game=game,
        name=EVENT_NAME,
        defaults={
            "description": "Log in and play during launch week for gold, potions and season XP.",
            "starts_at": now - timedelta(days=1),
            "ends_at": now + timedelta(days=14),
        },
    )
    if not created and not event.starts_at <= now < event.ends_at:
        event.starts_at, event.ends_at = now - timedelta(days=1), now + timedelta(days=14)
        event.save(update_fields=["starts_at", "ends_at"])
    for reward in REWARDS:
        EventReward.objects.get_or_create(event=event, name=reward["name"], defaults=reward)
