from django.urls import path

from gamingpanel.views import not_implemented_view

urlpatterns = [
    path(
        "player/inventory",
        not_implemented_view("Player inventory", "get").as_view(),
        name="player-inventory",
    ),
]
