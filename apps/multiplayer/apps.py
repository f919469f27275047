from django.apps import AppConfig


class MultiplayerConfig(AppConfig):
    name = "apps.multiplayer"
    verbose_name = "Multiplayer"

    def ready(self) -> None:
        # A revoked server key's servers leave the list (accounts announces the revocation).
        from apps.accounts.operator_actions import operator_acted
        from apps.multiplayer.receivers import on_operator_action

        operator_acted.connect(on_operator_action, dispatch_uid="multiplayer.revoked_keys")

        # The player's data export and erasure (accounts' registry, docs/guide/privacy.md).
        from apps.accounts.privacy import register_privacy_section
        from apps.multiplayer import privacy

        register_privacy_section("matches", export=privacy.export)
