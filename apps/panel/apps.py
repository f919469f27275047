from django.apps import AppConfig


class PanelConfig(AppConfig):
    name = "apps.panel"
    verbose_name = "Operator panel"

    def ready(self) -> None:
        # The player's data export and erasure (accounts' registry, docs/guide/privacy.md).
        from apps.accounts.privacy import register_privacy_section
        from apps.panel import privacy

        register_privacy_section(
            "segment_actions", export=privacy.export, erase=privacy.erase, lock=privacy.lock
        )
