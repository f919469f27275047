from django.apps import AppConfig


class CloudsaveConfig(AppConfig):
    name = "apps.cloudsave"
    verbose_name = "Player cloud save"

    def ready(self) -> None:
        # The player's data export and erasure (accounts' registry, docs/guide/privacy.md).
        from apps.accounts.privacy import register_privacy_section
        from apps.cloudsave import privacy

        register_privacy_section(
            "cloud_saves", export=privacy.export, erase=privacy.erase, lock=privacy.lock
        )
        from apps.audit.privacy import register_entries_about

        register_entries_about("cloud_saves", privacy.audit_entries)
