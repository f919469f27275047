"""Raw analytics events: client batches and facts the panel records itself."""

from __future__ import annotations

from django.db import models

from apps.accounts.models import Game, Player


class RawEvent(models.Model):
    class Source(models.TextChoices):
        CLIENT = "client", "Client"
        SERVER = "server", "Panel"

    game = models.ForeignKey(Game, on_delete=models.CASCADE, related_name="+")
    player = models.ForeignKey(Player, null=True, on_delete=models.SET_NULL, related_name="+")
    source = models.CharField(max_length=6, choices=Source.choices)
    name = models.CharField(max_length=64)
    event_id = models.CharField(max_length=64, null=True, blank=True)
    occurred_at = models.DateTimeField()
    day = models.DateField()
    received_at = models.DateTimeField(auto_now_add=True)
    properties = models.JSONField(default=dict, blank=True)

    class Meta:
        indexes = [models.Index(fields=["game", "day", "name"])]
        constraints = [
            models.UniqueConstraint(
                fields=["game", "player", "event_id"],
                condition=models.Q(event_id__isnull=False),
                name="raw_event_once_per_event_id",
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} @ {self.occurred_at:%Y-%m-%d %H:%M}"
