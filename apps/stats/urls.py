from django.urls import path

from apps.stats.api import PlayerStatsApi

routes = [
    path("stats", PlayerStatsApi.as_view(), name="player-stats"),
]

api_routes = {"player/": routes}
