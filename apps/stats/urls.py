from django.urls import path

from apps.stats.api import PlayerStatsApi

urlpatterns = [
    path("player/stats", PlayerStatsApi.as_view(), name="player-stats"),
]
