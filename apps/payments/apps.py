from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "apps.payments"
    verbose_name = "Payments"

    def ready(self) -> None:
        from apps.payments.models import ProviderAccount
        from gamingpanel.crypto import register_encrypted_field

        register_encrypted_field(ProviderAccount, "secrets_encrypted")

        # The player's data export and erasure (accounts' registry, docs/guide/privacy.md).
        from apps.accounts.privacy import register_privacy_section
        from apps.payments import privacy

        register_privacy_section("payments", export=privacy.export, erase=privacy.erase)
        from apps.audit.privacy import register_entries_about

        register_entries_about("payments", privacy.audit_entries)
