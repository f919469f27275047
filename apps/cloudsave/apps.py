from django.apps import AppConfig


class CloudsaveConfig(AppConfig):
    name = "apps.cloudsave"
    verbose_name = "Player cloud save"
