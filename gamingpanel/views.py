"""Project-level endpoints: health, and the placeholder for routed-but-unbuilt endpoints."""

from __future__ import annotations

import logging

from django.core.cache import cache
from django.db import connection
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from apps.accounts.api_base import PublicApi
from gamingpanel.errors import NotImplementedYet

logger = logging.getLogger(__name__)


class HealthApi(PublicApi):
    @extend_schema(
        summary="Database and cache status",
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
            {"status": "ok" if healthy else "degraded", **checks}, status=200 if healthy else 503
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
