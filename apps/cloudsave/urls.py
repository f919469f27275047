from django.urls import path

from apps.cloudsave.api import (
    PlayerSaveApi,
    PlayerSavesApi,
    PublicSaveApi,
    PublicSavesApi,
    ServerSaveApi,
    ServerSavesApi,
)

player_routes = [
    path("saves", PlayerSavesApi.as_view(), name="player-saves"),
    path("saves/<str:key>", PlayerSaveApi.as_view(), name="player-save"),
]
save_routes = [
    path("public/<int:player_id>", PublicSavesApi.as_view(), name="public-saves"),
    path("public/<int:player_id>/<str:key>", PublicSaveApi.as_view(), name="public-save"),
    path("players/<int:player_id>", ServerSavesApi.as_view(), name="server-saves"),
    path("players/<int:player_id>/<str:key>", ServerSaveApi.as_view(), name="server-save"),
]

api_routes = {"player/": player_routes, "saves/": save_routes}
