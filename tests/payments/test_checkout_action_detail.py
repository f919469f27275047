"""The sandbox checkout's 400 for an action it does not know says which actions it takes."""

from __future__ import annotations

import pytest

from apps.payments.models import Payment
from tests.payments.test_sandbox_links import payment, post  # noqa: F401

pytestmark = pytest.mark.usefixtures("sandbox_callbacks")


def test_an_unknown_action_names_the_actions_the_page_takes(client, payment: Payment):  # noqa: F811
    response = post(client, payment.public_token, {"action": "steal"})

    assert response.status_code == 400
    assert response.json()["code"] == "unknown_checkout_action"
    assert response.json()["detail"] == (
        "The checkout page's action is 'paid' or 'cancel', not 'steal'."
    )
