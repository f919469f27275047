"""What operators did: append-only, readable by owners, editable by nobody."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from apps.accounts.models import Game


class AuditLogEntry(models.Model):
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_name = models.CharField(max_length=150)  # kept if the user is deleted
    # A deleted game's history stays (for the deployment's superusers), its deletion included.
    game = models.ForeignKey(Game, null=True, on_delete=models.SET_NULL, related_name="audit_log")
    action = models.CharField(max_length=60)
    target_type = models.CharField(max_length=60)
    target_id = models.CharField(max_length=60)
    target_repr = models.CharField(max_length=200, blank=True)
    before = models.JSONField(default=dict, blank=True)
    after = models.JSONField(default=dict, blank=True)
    reason = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "audit log"
        indexes = [
            models.Index(fields=["game", "-created_at"]),
            # A row's trail (the player page's: game, type and id) and the admin's search by the
            # id alone: with the id first, one index serves both.
            models.Index(
                fields=["target_id", "target_type", "game", "-created_at"],
                name="audit_target_trail",
            ),
            models.Index(fields=["actor_name", "-created_at"], name="audit_actor_recent"),
        ]

    def __str__(self) -> str:
        return f"{self.actor_name} {self.action} {self.target_type}#{self.target_id}"

    def save(self, *args: object, **kwargs: object) -> None:
        if self.pk is not None:
            raise ValueError("Audit log entries are append-only.")
        super().save(*args, **kwargs)
