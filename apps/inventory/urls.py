from django.urls import include, path

from apps.inventory.api import InventoryApi

routes = [
    path("inventory", InventoryApi.as_view(), name="player-inventory"),
]

urlpatterns = [path("player/", include(routes))]
