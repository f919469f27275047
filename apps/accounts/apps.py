from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "apps.accounts"
    verbose_name = "Games, players and operators"

    def ready(self) -> None:
        # System checks; the per-game origins django-cors-headers asks (a signal receiver).
        from apps.accounts import checks, cors  # noqa: F401
