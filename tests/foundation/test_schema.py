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
