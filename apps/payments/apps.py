from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "apps.payments"
    verbose_name = "Payments"

    def ready(self) -> None:
        from apps.payments.models import ProviderAccount
        from gamingpanel.crypto import register_encrypted_field

        register_encrypted_field(ProviderAccount, "secrets_encrypted")
