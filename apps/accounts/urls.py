from django.urls import path

from apps.accounts.api import LogoutApi, ValidateApi

# Login, refresh, link and unlink are under the same prefix in apps/login/urls.py.
routes = [
    path("validate", ValidateApi.as_view(), name="auth-validate"),
    path("logout", LogoutApi.as_view(), name="auth-logout"),
]

api_routes = {"auth/": routes}
