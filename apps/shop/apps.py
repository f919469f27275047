from django.apps import AppConfig


class ShopConfig(AppConfig):
    name = "apps.shop"
    verbose_name = "Shop"
