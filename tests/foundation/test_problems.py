"""Every API error is application/problem+json with a stable code."""

import pytest
from django.db import InterfaceError, OperationalError
from django.test import override_settings
from django.urls import path
from redis.exceptions import ConnectionError as RedisConnectionError
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.inventory.errors import InsufficientFunds
from gamingpanel.urls import urlpatterns as real_urlpatterns
from gamingpanel.views import not_implemented_view


class Boom(APIView):
    authentication_classes: list = []
    permission_classes: list = []

    def get(self, request):
        raise RuntimeError("kaboom")


class Echo(APIView):
    authentication_classes: list = []
    permission_classes: list = []

    class InputSerializer(serializers.Serializer):
        count = serializers.IntegerField(min_value=0)

    def post(self, request):
        given = self.InputSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        return Response(given.validated_data)


class Domain(APIView):
    authentication_classes: list = []
    permission_classes: list = []

    def get(self, request):
        raise InsufficientFunds("Needs 5 gold, has 3.", available=3)


def failing_api(error: Exception) -> type[APIView]:
    class Failing(APIView):
        authentication_classes: list = []
        permission_classes: list = []

        def get(self, request):
            raise error

    return Failing


def failing_view(error: Exception):
    def view(request):
        raise error

    return view


urlpatterns = [
    path("api/v1/boom", Boom.as_view()),
    path(
        "api/v1/cache-down",
        failing_api(RedisConnectionError("Error 111 connecting to 127.0.0.1:6379.")).as_view(),
    ),
    path("api/v1/plain-cache-down", failing_view(RedisConnectionError("Connection refused."))),
    path(
        "api/v1/database-down",
        failing_api(OperationalError("connection to 127.0.0.1:5432 failed")).as_view(),
    ),
    path(
        "api/v1/plain-database-down",
        failing_view(InterfaceError("connection already closed")),
    ),
    path("api/v1/echo", Echo.as_view()),
    path("api/v1/domain", Domain.as_view()),
    path("api/v1/later", not_implemented_view("Later").as_view()),
    *real_urlpatterns,
]


def assert_problem(response, status: int, code: str) -> dict:
    assert response.status_code == status
    assert response["Content-Type"].startswith("application/problem+json")
    body = response.json()
    assert body["code"] == code
    assert body["status"] == status
    assert {"type", "title", "detail"} <= body.keys()
    return body


@pytest.mark.django_db
def test_unknown_api_path_is_problem_404(api_client):
    assert_problem(api_client.get("/api/v1/no-such-thing"), 404, "not_found")


@pytest.mark.django_db
def test_too_many_query_fields_is_problem_400_not_500(api_client, caplog):
    query = "&".join(f"a{n}=1" for n in range(1100))  # past DATA_UPLOAD_MAX_NUMBER_FIELDS

    response = api_client.get(f"/api/v1/health?{query}")

    assert_problem(response, 400, "bad_request")
    assert not [r for r in caplog.records if r.levelname == "ERROR"]  # a client's mistake


@pytest.mark.django_db
@override_settings(DEBUG=False, ALLOWED_HOSTS=["panel.example"])
def test_a_host_the_panel_does_not_serve_is_a_problem_on_the_api(client):
    client.raise_request_exception = False

    response = client.get("/api/v1/health", HTTP_HOST="evil.example")
    page = client.get("/panel/", HTTP_HOST="evil.example")

    assert_problem(response, 400, "bad_request")
    assert page.status_code == 400 and not page["Content-Type"].startswith("application/problem")


@pytest.mark.django_db
def test_wrong_method_is_problem_405(api_client):
    assert_problem(api_client.delete("/api/v1/health"), 405, "method_not_allowed")


@pytest.mark.django_db
@override_settings(ROOT_URLCONF=__name__, DEBUG=False)
def test_crash_is_problem_500_with_request_id(client):
    client.raise_request_exception = False
    response = client.get("/api/v1/boom")
    body = assert_problem(response, 500, "internal_error")
    assert body["request_id"] == response["X-Request-ID"]
    assert "kaboom" not in response.content.decode()


@pytest.mark.django_db
@override_settings(ROOT_URLCONF=__name__)
def test_malformed_json_is_problem_400(api_client):
    response = api_client.post("/api/v1/echo", data="{not json", content_type="application/json")
    assert_problem(response, 400, "malformed_json")


@pytest.mark.django_db
@override_settings(ROOT_URLCONF=__name__)
def test_invalid_body_is_problem_400_with_field_errors(api_client):
    body = assert_problem(api_client.post("/api/v1/echo", {"count": -1}), 400, "validation_error")
    assert "count" in body["errors"]


@pytest.mark.django_db
@override_settings(ROOT_URLCONF=__name__)
def test_unbuilt_endpoint_is_501_not_404(api_client):
    assert_problem(api_client.get("/api/v1/later"), 501, "not_implemented")


@pytest.mark.django_db
@override_settings(ROOT_URLCONF=__name__)
def test_domain_error_keeps_its_code_and_extra_fields(api_client):
    body = assert_problem(api_client.get("/api/v1/domain"), 409, "insufficient_funds")
    assert body["available"] == 3


@pytest.mark.django_db
@override_settings(ROOT_URLCONF=__name__)
@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/cache-down",
        "/api/v1/plain-cache-down",
        "/api/v1/database-down",
        "/api/v1/plain-database-down",
    ],
)
def test_unreachable_redis_or_database_is_503_service_unavailable_not_500(client, url):
    client.raise_request_exception = False

    response = client.get(url)

    assert_problem(response, 503, "service_unavailable")
    assert response["Retry-After"] == "5"
