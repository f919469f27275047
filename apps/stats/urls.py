from django.urls import include, path

from apps.stats.api import PlayerStatsApi

routes = [
    path("stats", PlayerStatsApi.as_view(), name="player-stats"),
]

urlpatterns = [path("player/", include(routes))]
