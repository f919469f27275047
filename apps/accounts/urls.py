from django.urls import path

from gamingpanel.views import not_implemented_view

urlpatterns = [
    path(
        "auth/third-party/login",
        not_implemented_view("Log in with a platform credential", "post").as_view(),
        name="auth-third-party-login",
    ),
    path(
        "auth/refresh",
        not_implemented_view("Rotate a refresh token", "post").as_view(),
        name="auth-refresh",
    ),
    path(
        "auth/validate",
        not_implemented_view("Validate an access token", "post").as_view(),
        name="auth-validate",
    ),
    path("auth/logout", not_implemented_view("Log out", "post").as_view(), name="auth-logout"),
    path(
        "auth/link",
        not_implemented_view("Link a platform identity", "post").as_view(),
        name="auth-link",
    ),
    path(
        "auth/unlink",
        not_implemented_view("Unlink a platform identity", "post").as_view(),
        name="auth-unlink",
    ),
]
