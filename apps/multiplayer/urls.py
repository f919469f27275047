from django.urls import path

from gamingpanel.views import not_implemented_view

urlpatterns = [
    path(
        "multiplayer/validate-token",
        not_implemented_view("Validate a player token", "post").as_view(),
        name="multiplayer-validate-token",
    ),
    path(
        "multiplayer/match-result",
        not_implemented_view("Post a match result", "post").as_view(),
        name="multiplayer-match-result",
    ),
    path(
        "multiplayer/server-info",
        not_implemented_view("Live servers", "get").as_view(),
        name="multiplayer-server-info",
    ),
    path(
        "multiplayer/servers/heartbeat",
        not_implemented_view("Server heartbeat", "post").as_view(),
        name="multiplayer-servers-heartbeat",
    ),
]
