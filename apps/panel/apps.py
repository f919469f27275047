from django.apps import AppConfig


class PanelConfig(AppConfig):
    name = "apps.panel"
    verbose_name = "Operator panel"
