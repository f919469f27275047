from django.urls import path

from apps.login.api import LinkApi, LoginApi, RefreshApi, UnlinkApi

routes = [
    path("third-party/login", LoginApi.as_view(), name="auth-third-party-login"),
    path("refresh", RefreshApi.as_view(), name="auth-refresh"),
    path("link", LinkApi.as_view(), name="auth-link"),
    path("unlink", UnlinkApi.as_view(), name="auth-unlink"),
]

api_routes = {"auth/": routes}
