from django.apps import AppConfig


class MultiplayerConfig(AppConfig):
    name = "apps.multiplayer"
    verbose_name = "Multiplayer"

    def ready(self) -> None:
        # The player's data export and erasure (accounts' registry, docs/guide/privacy.md).
        from apps.accounts.privacy import register_privacy_section
        from apps.multiplayer import privacy

        register_privacy_section("matches", export=privacy.export)
