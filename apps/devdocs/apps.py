from django.apps import AppConfig


class DevdocsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "apps.devdocs"
    verbose_name = "Developer docs"

    def ready(self) -> None:
        # Registers the OpenAPI extensions (auth schemes) with drf-spectacular on import.
        from apps.devdocs import schema  # noqa: F401
