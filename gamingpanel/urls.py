from importlib import import_module

from django.contrib import admin
from django.urls import URLPattern, include, path

from apps.accounts.operator_login import OperatorPasswordChangeView
from gamingpanel.monitoring import metrics_view
from gamingpanel.views import HealthApi, LivenessApi, RedocView, SchemaView, SwaggerView

# Each app's urls.py lists its routes by the prefix they sit under (`api_routes`: "auth/",
# "player/"...; "config" for a route alone, whose own route is then ""). Routes of several apps
# that share a prefix are tried as one group, and each group hangs directly from the root as
# "api/v1/<prefix>": resolving a path tries one prefix per group, enters one group and builds one
# nested match, instead of entering "api/v1/", then every app whose prefix matched until one has
# the route (player/stats went through inventory's "player/" first). That halved URL resolution,
# about 10-20 us of every call. The busiest first, as a group the path is not in still costs
# about 1.5 us (the Resolver404 Django raises for it): game servers call auth/validate or
# multiplayer/validate-token for every player they admit; players log in, read their state, saves
# and config, then the shop and live-ops; analytics batches and payment webhooks come last.
API_APPS = [
    "accounts",
    "multiplayer",
    "login",
    "inventory",
    "stats",
    "cloudsave",
    "remoteconfig",
    "shop",
    "events",
    "battlepass",
    "leaderboards",
    "analytics",
    "payments",
]


def api_routes_by_prefix() -> dict[str, list[URLPattern]]:
    grouped: dict[str, list[URLPattern]] = {}
    for app in API_APPS:
        for prefix, routes in import_module(f"apps.{app}.urls").api_routes.items():
            grouped.setdefault(prefix, []).extend(routes)
    # Last: "api/v1/" is the prefix of every path, so this group is entered only when no other
    # has the path.
    grouped[""] = [
        # Readiness (the database; the cache reported): what a load balancer probes.
        path("health", HealthApi.as_view(), name="health"),
        # Liveness (no dependency): what a container's health check asks.
        path("health/live", LivenessApi.as_view(), name="health-live"),
        path("schema/", SchemaView.as_view(), name="schema"),
        # Swagger UI's start-up script from its own URL (?script), not inline: the pages' CSP.
        path("docs/", SwaggerView.as_view(url_name="schema"), name="swagger-ui"),
        path("redoc/", RedocView.as_view(url_name="schema"), name="redoc"),
    ]
    return grouped


api_v1 = [
    path(f"api/v1/{prefix}", include(routes)) for prefix, routes in api_routes_by_prefix().items()
]

# A middleware's own failure outside any view (DEBUG off): PostgreSQL or Redis down is a 503.
handler500 = "gamingpanel.pages.server_error"
# A request refused outside any view (a Host the panel does not serve): a problem on the API too.
handler400 = "gamingpanel.pages.bad_request"

urlpatterns = [
    *api_v1,
    path("metrics", metrics_view, name="metrics"),  # Prometheus, behind METRICS_TOKEN
    # Before the admin's own page: the old password checked as a sign-in (axes' limits, audit).
    path("admin/password_change/", admin.site.admin_view(OperatorPasswordChangeView.as_view())),
    path("admin/", admin.site.urls),
    path("payments/", include("apps.payments.page_urls")),
    path("docs/", include("apps.devdocs.urls")),
    path("", include("apps.panel.urls")),
]
