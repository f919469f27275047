from django.apps import AppConfig


class BattlepassConfig(AppConfig):
    name = "apps.battlepass"
    verbose_name = "Battle pass"
