from django.apps import AppConfig


class StatsConfig(AppConfig):
    name = "apps.stats"
    verbose_name = "Player stats and levels"

    def ready(self) -> None:
        # The player's data export and erasure (accounts' registry, docs/guide/privacy.md).
        from apps.accounts.privacy import register_privacy_section
        from apps.stats import privacy

        register_privacy_section("stats", export=privacy.export)
