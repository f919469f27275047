import pytest

SEED_ENDPOINTS = [
    ("/api/v1/auth/third-party/login", "post"),
    ("/api/v1/auth/refresh", "post"),
    ("/api/v1/auth/validate", "post"),
    ("/api/v1/player/stats", "get"),
    ("/api/v1/player/inventory", "get"),
    ("/api/v1/shop/categories", "get"),
    ("/api/v1/shop/purchase", "post"),
    ("/api/v1/multiplayer/validate-token", "post"),
    ("/api/v1/multiplayer/match-result", "post"),
    ("/api/v1/multiplayer/server-info", "get"),
    ("/api/v1/events/active", "get"),
    ("/api/v1/battlepass/progress", "get"),
    ("/api/v1/events/claim-reward", "post"),
]


@pytest.mark.django_db
def test_schema_lists_every_seed_endpoint(api_client):
    response = api_client.get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")

    assert response.status_code == 200
    paths = response.json()["paths"]
    missing = [(p, m) for p, m in SEED_ENDPOINTS if m not in paths.get(p, {})]
    assert missing == []


@pytest.mark.django_db
def test_docs_page_uses_no_cdn(client):
    response = client.get("/api/v1/docs/")

    assert response.status_code == 200
    html = response.content.decode()
    assert "swagger-ui" in html
    assert "cdn.jsdelivr" not in html and "unpkg.com" not in html


REFERENCE = ["/api/v1/schema/", "/api/v1/schema/?format=json", "/api/v1/docs/"]
REFERENCE += ["/api/v1/docs/?script", "/api/v1/redoc/"]


@pytest.mark.django_db
@pytest.mark.parametrize("path", REFERENCE)
@pytest.mark.parametrize("method", ["POST", "DELETE", "PUT"])
@pytest.mark.parametrize("accept", ["*/*", "application/json"])
def test_the_references_errors_are_problem_json(client, path, method, accept):
    # Rendered by the view's own renderer they were YAML, or the text "405 Method Not Allowed".
    response = client.generic(method, path, HTTP_ACCEPT=accept)

    assert response.status_code in {405, 406}
    assert response["Content-Type"] == "application/problem+json"
    problem = response.json()
    assert problem["status"] == response.status_code
    assert problem["code"] in {"method_not_allowed", "not_acceptable"}


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/api/v1/docs/", "/api/v1/docs/?script", "/api/v1/redoc/"])
def test_options_on_a_reference_page_is_405_not_a_500(client, path):
    # DRF's OPTIONS answer went through the page's template, which cannot render it: a 500 for
    # Swagger UI, the whole page again for ReDoc.
    client.raise_request_exception = False

    response = client.options(path)

    assert response.status_code == 405, response.content[:200]
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "method_not_allowed"
    assert response["Allow"] == "GET, HEAD"
    assert client.head(path).status_code == 200


@pytest.mark.django_db
def test_options_on_the_schema_still_describes_it(client):
    response = client.options("/api/v1/schema/", HTTP_ACCEPT="application/json")

    assert response.status_code == 200
    assert "application/vnd.oai.openapi+json" in response.json()["renders"]
