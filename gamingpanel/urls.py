from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from gamingpanel.views import HealthApi

API_APPS = [
    "accounts",
    "stats",
    "inventory",
    "shop",
    "payments",
    "multiplayer",
    "events",
    "battlepass",
    "analytics",
]

api_v1 = [
    path("health", HealthApi.as_view(), name="health"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    path("redoc/", SpectacularRedocView.as_view(url_name="schema"), name="redoc"),
    *(path("", include(f"apps.{app}.urls")) for app in API_APPS),
]

urlpatterns = [
    path("api/v1/", include(api_v1)),
    path("admin/", admin.site.urls),
    path("payments/", include("apps.payments.page_urls")),
    path("docs/", include("apps.devdocs.urls")),
    path("", include("apps.panel.urls")),
]
