"""`manage.py record_api_examples`: real answers of the demo game, kept as the OpenAPI schema's
response examples (apps/devdocs/api_examples.json). Runs the demo walk inside a transaction that
is rolled back, so the database is left as it was."""

from __future__ import annotations

import json
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import transaction

from apps.devdocs.demo_walk import SCENARIOS, start_walk
from apps.devdocs.schema import EXAMPLES_FILE

PLAYERS = ["alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan"]
HIDDEN = {
    "access_token": "eyJhbGciOiJkaXIiLCJlbmMiOiJBMjU2R0NNIn0..(encrypted)",
    "refresh_token": "rt_(opaque)",
    # The checkout link names the payment by its random public token (an example one).
    "checkout_url": (
        "http://127.0.0.1:8000/payments/sandbox/checkout/q8TnJx0WmV2yLk4hR9sPa7cDfE1gUoB3iZ5vXtN6wYs"
    ),
}


def _hide_secrets(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: HIDDEN[k] if k in HIDDEN else _hide_secrets(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_hide_secrets(item) for item in value]
    return value


def record_examples() -> dict[str, dict[str, Any]]:
    """`"<method> <path>" → status → body` of every successful JSON answer of the walk."""
    examples: dict[str, dict[str, Any]] = {}
    with transaction.atomic():
        call_command("seed_demo", quiet=True)
        for player, scenario in zip(PLAYERS, SCENARIOS.values(), strict=True):
            demo = start_walk(player)
            scenario(demo)
            for method, path, response in demo.seen:
                ok = 200 <= response.status_code < 300 and response.content
                if ok and response["Content-Type"].startswith("application/json"):
                    by_status = examples.setdefault(f"{method} {path}", {})
                    by_status.setdefault(str(response.status_code), _hide_secrets(response.json()))
        transaction.set_rollback(True)
    return examples


class Command(BaseCommand):
    help = "Record the demo's real answers as the OpenAPI schema's response examples."

    def handle(self, *args: object, **options: object) -> None:
        examples = record_examples()
        EXAMPLES_FILE.write_text(
            json.dumps(examples, indent=2, sort_keys=True, ensure_ascii=False) + "\n",
            encoding="utf-8",
        )
        self.stdout.write(f"wrote {len(examples)} operations to {EXAMPLES_FILE}")
