from django.urls import path

from gamingpanel.views import not_implemented_view

urlpatterns = [
    path(
        "player/stats", not_implemented_view("Player stats", "get").as_view(), name="player-stats"
    ),
]
