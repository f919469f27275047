from django.apps import AppConfig


class PlatformsConfig(AppConfig):
    name = "apps.platforms"
    verbose_name = "Platform credentials"
