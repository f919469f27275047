"""X-Request-ID: the caller's id is taken only when it is 8 to 64 of `A-Z a-z 0-9 . _ -`
(docs/guide/monitoring.md), the whole value; anything else gets an id of the panel's own."""

import pytest

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("sent", ["abc12345-req\n", "abc12345-req\r\n", "\nabc12345-req"])
def test_an_id_with_a_line_break_is_replaced_not_a_500(api_client, sent):
    response = api_client.get("/api/v1/health/live", HTTP_X_REQUEST_ID=sent)
    assert response.status_code == 200, response.content
    given = response["X-Request-ID"]
    assert given != sent.strip()
    assert len(given) == 32 and given.isalnum()


def test_a_sane_id_is_still_echoed(api_client):
    response = api_client.get("/api/v1/health/live", HTTP_X_REQUEST_ID="client.7f3a_9c2e")
    assert response["X-Request-ID"] == "client.7f3a_9c2e"
