from django.apps import AppConfig


class LoginConfig(AppConfig):
    name = "apps.login"
    verbose_name = "Platform login"
