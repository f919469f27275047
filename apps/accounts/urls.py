from django.urls import path

from apps.accounts.api import LinkApi, LoginApi, LogoutApi, RefreshApi, UnlinkApi, ValidateApi

urlpatterns = [
    path("auth/third-party/login", LoginApi.as_view(), name="auth-third-party-login"),
    path("auth/refresh", RefreshApi.as_view(), name="auth-refresh"),
    path("auth/validate", ValidateApi.as_view(), name="auth-validate"),
    path("auth/logout", LogoutApi.as_view(), name="auth-logout"),
    path("auth/link", LinkApi.as_view(), name="auth-link"),
    path("auth/unlink", UnlinkApi.as_view(), name="auth-unlink"),
]
