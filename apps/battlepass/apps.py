from django.apps import AppConfig


class BattlepassConfig(AppConfig):
    name = "apps.battlepass"
    verbose_name = "Battle pass"

    def ready(self) -> None:
        # The player's data export and erasure (accounts' registry, docs/guide/privacy.md).
        from apps.accounts.privacy import register_privacy_section
        from apps.battlepass import privacy

        register_privacy_section("battle_pass", export=privacy.export)
