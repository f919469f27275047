from django.urls import path

from apps.inventory.api import InventoryApi

urlpatterns = [
    path("player/inventory", InventoryApi.as_view(), name="player-inventory"),
]
