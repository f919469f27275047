from importlib import import_module

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import (
    SpectacularAPIView,
    SpectacularRedocView,
    SpectacularSwaggerSplitView,
)

from gamingpanel.monitoring import metrics_view
from gamingpanel.views import HealthApi

# Each app's urls.py puts its routes under one prefix ("auth/", "multiplayer/", ...), listed here
# directly: resolving a path tries one prefix per app, not every route of every app before it.
# The busiest first: game servers call auth/validate or multiplayer/validate-token for every
# player they admit; players log in (login) and read their state.
API_APPS = [
    "accounts",
    "multiplayer",
    "login",
    "shop",
    "inventory",
    "stats",
    "payments",
    "events",
    "leaderboards",
    "battlepass",
    "analytics",
    "cloudsave",
    "remoteconfig",
]

api_v1 = [
    *(route for app in API_APPS for route in import_module(f"apps.{app}.urls").urlpatterns),
    path("health", HealthApi.as_view(), name="health"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    # Swagger UI's start-up script from its own URL (?script), not inline: the pages' CSP.
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="swagger-ui"),
    path("redoc/", SpectacularRedocView.as_view(url_name="schema"), name="redoc"),
]

# A middleware's own failure outside any view (DEBUG off): PostgreSQL or Redis down is a 503.
handler500 = "gamingpanel.pages.server_error"

urlpatterns = [
    path("api/v1/", include(api_v1)),
    path("metrics", metrics_view, name="metrics"),  # Prometheus, behind METRICS_TOKEN
    path("admin/", admin.site.urls),
    path("payments/", include("apps.payments.page_urls")),
    path("docs/", include("apps.devdocs.urls")),
    path("", include("apps.panel.urls")),
]
