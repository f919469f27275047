from django.apps import AppConfig


class PlatformsConfig(AppConfig):
    name = "apps.platforms"
    verbose_name = "Platform credentials"

    def ready(self) -> None:
        from apps.platforms.models import PlatformCredential
        from gamingpanel.crypto import register_encrypted_field

        register_encrypted_field(PlatformCredential, "secrets_encrypted")
