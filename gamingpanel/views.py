"""Project-level endpoints: readiness (health) and liveness, the API reference (the schema and
its two pages), and the placeholder for routed-but-unbuilt endpoints."""

from __future__ import annotations

import logging
from typing import Any

from django.core.cache import cache
from django.db import connection
from drf_spectacular.utils import extend_schema, inline_serializer
from drf_spectacular.views import (
    SpectacularAPIView,
    SpectacularRedocView,
    SpectacularSwaggerSplitView,
)
from rest_framework import serializers
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts.api_base import PublicApi
from gamingpanel.errors import NotImplementedYet
from gamingpanel.renderers import PROBLEM_CONTENT_TYPE

logger = logging.getLogger(__name__)


class LivenessApi(PublicApi):
    @extend_schema(
        summary="Process liveness",
        description=(
            "200 whenever the web process answers: it checks neither the database nor the "
            "cache. For a container or process supervisor deciding whether to restart it; a "
            "load balancer probes `GET /api/v1/health` instead."
        ),
        responses={200: inline_serializer("Liveness", {"status": serializers.CharField()})},
        auth=[],
    )
    def get(self, request: Request) -> Response:
        return Response({"status": "ok"})


class HealthApi(PublicApi):
    """Readiness, for a load balancer: the panel serves without Redis (rate limits let requests
    through, token checks ask the database), so only the database decides the status code."""

    @extend_schema(
        summary="Database and cache status",
        description=(
            "Readiness: 200 while the database answers, with `status` `ok`, or `degraded` when "
            "the cache (Redis) is `down`: the panel keeps serving without it. 503 with the same "
            "body when the database is `down`. What a load balancer probes."
        ),
        responses={
            200: inline_serializer(
                "Health",
                {
                    "status": serializers.CharField(),
                    "database": serializers.CharField(),
                    "cache": serializers.CharField(),
                },
            )
        },
        auth=[],
    )
    def get(self, request: Request) -> Response:
        checks = {"database": _check_database(), "cache": _check_cache()}
        healthy = all(state == "ok" for state in checks.values())
        return Response(
            {"status": "ok" if healthy else "degraded", **checks},
            status=200 if checks["database"] == "ok" else 503,
        )


def _check_database() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return "ok"
    except Exception:
        logger.exception("health: database check failed")
        return "down"


def _check_cache() -> str:
    try:
        cache.set("health:ping", "pong", 5)
        return "ok" if cache.get("health:ping") == "pong" else "down"
    except Exception:
        logger.exception("health: cache check failed")
        return "down"


def not_implemented_view(summary: str, method: str = "get") -> type[PublicApi]:
    """A routed endpoint whose capability has not landed yet: 501, not 404."""

    def handler(self: PublicApi, request: Request) -> Response:
        raise NotImplementedYet(f"{summary} is not implemented yet.")

    decorated = extend_schema(summary=summary, responses={501: None})(handler)
    return type(
        f"NotImplemented{summary.title().replace(' ', '')}", (PublicApi,), {method: decorated}
    )


class ProblemErrors(APIView):
    """For the API reference's views, whose renderers are not JSON (YAML, an HTML page, a
    script): their errors (405, 406...) are problem JSON as every API error is. Rendered by the
    view's own renderer, a problem came as YAML or as plain text ("405 Method Not Allowed")
    labelled application/problem+json."""

    def finalize_response(
        self, request: Request, response: Response, *args: Any, **kwargs: Any
    ) -> Response:
        if getattr(response, "exception", False):
            request.accepted_renderer = JSONRenderer()
            request.accepted_media_type = PROBLEM_CONTENT_TYPE
        return super().finalize_response(request, response, *args, **kwargs)


class SchemaView(ProblemErrors, SpectacularAPIView):
    pass


class SwaggerView(ProblemErrors, SpectacularSwaggerSplitView):
    # An HTML page (or its script) answers GET and HEAD. DRF's OPTIONS answer is the view's
    # description rendered through the page's template, which that template cannot render (a
    # 500); ReDoc's answered its whole page.
    http_method_names = ["get", "head"]


class RedocView(ProblemErrors, SpectacularRedocView):
    http_method_names = ["get", "head"]
