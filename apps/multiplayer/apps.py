from django.apps import AppConfig


class MultiplayerConfig(AppConfig):
    name = "apps.multiplayer"
    verbose_name = "Multiplayer"
