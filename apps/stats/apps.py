from django.apps import AppConfig


class StatsConfig(AppConfig):
    name = "apps.stats"
    verbose_name = "Player stats and levels"
