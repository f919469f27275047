from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "apps.accounts"
    verbose_name = "Games, players and operators"

    def ready(self) -> None:
        from apps.accounts import checks  # noqa: F401  (registers system checks)
