from django.urls import path

from apps.accounts.api import LogoutApi, PlayerAccountApi, PlayerDataExportApi, ValidateApi

# Login, refresh, link and unlink are under the same prefix in apps/login/urls.py.
routes = [
    path("validate", ValidateApi.as_view(), name="auth-validate"),
    path("logout", LogoutApi.as_view(), name="auth-logout"),
]

player_routes = [path("data-export", PlayerDataExportApi.as_view(), name="player-data-export")]
account_routes = [path("", PlayerAccountApi.as_view(), name="player-account")]

api_routes = {"auth/": routes, "player/": player_routes, "player": account_routes}
