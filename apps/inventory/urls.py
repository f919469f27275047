from django.urls import path

from apps.inventory.api import InventoryApi

routes = [
    path("inventory", InventoryApi.as_view(), name="player-inventory"),
]

api_routes = {"player/": routes}
