from django.apps import AppConfig


class RemoteconfigConfig(AppConfig):
    name = "apps.remoteconfig"
    verbose_name = "Remote config"
