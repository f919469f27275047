from django.urls import include, path

from apps.accounts.api import LinkApi, LoginApi, LogoutApi, RefreshApi, UnlinkApi, ValidateApi

routes = [
    path("third-party/login", LoginApi.as_view(), name="auth-third-party-login"),
    path("refresh", RefreshApi.as_view(), name="auth-refresh"),
    path("validate", ValidateApi.as_view(), name="auth-validate"),
    path("logout", LogoutApi.as_view(), name="auth-logout"),
    path("link", LinkApi.as_view(), name="auth-link"),
    path("unlink", UnlinkApi.as_view(), name="auth-unlink"),
]

urlpatterns = [path("auth/", include(routes))]
