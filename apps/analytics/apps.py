from django.apps import AppConfig


class AnalyticsConfig(AppConfig):
    name = "apps.analytics"
    verbose_name = "Analytics"

    def ready(self) -> None:
        # The player's data export and erasure (accounts' registry, docs/guide/privacy.md).
        from apps.accounts.privacy import register_privacy_section
        from apps.analytics import privacy

        register_privacy_section("analytics", export=privacy.export, erase=privacy.erase)
