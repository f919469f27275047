"""A walk through every endpoint of the demo game, success and typical refusals, with Django's
test client. The schema contract test checks each answer against the schema; `manage.py
record_api_examples` keeps them as the schema's response examples."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from django.conf import settings
from django.urls import Resolver404, resolve
from rest_framework.test import APIClient

API = "/api/v1/"


class Answer(Protocol):
    """What the walk reads of a test client's response."""

    status_code: int
    content: bytes

    def __getitem__(self, header: str) -> str: ...

    def json(self) -> Any: ...


@dataclass
class Demo:
    client: APIClient
    login: dict
    seen: list[tuple[str, str, Answer]] = field(default_factory=list)

    @property
    def token(self) -> str:
        return self.login["access_token"]

    def call(
        self, method: str, path: str, body: object = None, *, form: bool = False, **headers: str
    ) -> Answer:
        encoding = "multipart" if form else "json"
        response = getattr(self.client, method)(API + path, body, format=encoding, **headers)
        self.seen.append((method, operation_path(API + path), response))
        return response

    def as_player(self, method: str, path: str, body: object = None, **headers: str) -> Answer:
        return self.call(
            method, path, body, form=False, HTTP_AUTHORIZATION=f"Bearer {self.token}", **headers
        )

    def as_server(self, method: str, path: str, body: object = None, **headers: str) -> Answer:
        return self.call(
            method, path, body, form=False, HTTP_X_SERVER_KEY=settings.DEMO_SERVER_KEY, **headers
        )


def operation_path(url: str) -> str:
    """The schema's path of the operation a URL calls: `/api/v1/leaderboards/{slug}` for
    `/api/v1/leaderboards/weekly-score?limit=5`, as drf-spectacular writes a route."""
    path = url.split("?", 1)[0]
    try:
        route = resolve(path).route
    except Resolver404:
        return path
    return "/" + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", route)


def _match(demo: Demo, match_id: str) -> dict:
    ended = datetime.now(UTC)
    return {
        "match_id": match_id,
        "mode": "deathmatch",
        "started_at": (ended - timedelta(minutes=10)).isoformat(),
        "ended_at": ended.isoformat(),
        "players": [{"player_id": demo.login["player"]["id"], "outcome": "win", "score": 10}],
    }


def _affordable_offer(demo: Demo) -> int:
    balances = demo.as_player("get", "player/inventory").json()["currencies"]
    offers = [o for c in demo.as_player("get", "shop/categories").json() for o in c["offers"]]
    return next(
        o["id"]
        for o in offers
        if not o["price"]["real_money"]
        and balances.get(o["price"]["currency"], 0) >= o["price"]["amount"]
    )


def _claimable_reward(demo: Demo) -> dict | None:
    for event in demo.as_player("get", "events/active").json():
        for reward in event["rewards"]:
            if reward["claimable"] and not reward["claimed"]:
                return {"event_id": event["id"], "reward_id": reward["id"]}
    return None


def _scenario_auth(demo: Demo) -> None:
    demo.call("get", "health")
    demo.call("post", "auth/third-party/login", {"platform": "dev"}, HTTP_X_GAME_KEY="nope")
    demo.call(
        "post",
        "auth/third-party/login",
        {"platform": "dev"},
        HTTP_X_GAME_KEY=settings.DEMO_CLIENT_KEY,
    )
    demo.call(
        "post",
        "auth/third-party/login",
        {"platform": "dev"},
        form=True,
        HTTP_X_GAME_KEY=settings.DEMO_CLIENT_KEY,
    )
    demo.as_server("post", "auth/validate", {"token": demo.token})
    demo.call("post", "auth/refresh", {"refresh_token": demo.login["refresh_token"]})
    demo.call("post", "auth/refresh", {"refresh_token": "rt_not-a-token"})
    # The demo has only the dev platform: linking it again and unlinking the last one are 409s.
    demo.as_player("post", "auth/link", {"platform": "dev", "credentials": {"user_id": "x"}})
    demo.as_player("post", "auth/unlink", {"platform": "dev"})


def _scenario_game_data(demo: Demo) -> None:
    demo.call("get", "player/stats")
    demo.as_player("get", "player/stats")
    offer_id = _affordable_offer(demo)
    demo.as_player("post", "shop/purchase", {"offer_id": offer_id, "quantity": 1})
    demo.as_player(
        "post",
        "shop/purchase",
        {"offer_id": offer_id, "quantity": 1},
        HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4()),
    )
    store_offer = next(
        o["id"]
        for c in demo.as_player("get", "shop/categories").json()
        for o in c["offers"]
        if o["price"]["real_money"]
    )
    real_money = {"offer_id": store_offer, "quantity": 1}
    demo.as_player("post", "shop/purchase", real_money, HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4()))
    demo.as_player("get", "shop/purchases")
    receipt = {"purchase_token": "made-up"}
    demo.as_player(
        "post",
        "shop/receipts",
        {"provider": "google_play", "offer_id": store_offer, "receipt": receipt},
    )


def _scenario_multiplayer(demo: Demo) -> None:
    server = {"server_id": "eu-1", "region": "eu-west", "address": "203.0.113.10", "port": 7777}
    demo.as_server("post", "multiplayer/servers/heartbeat", {**server, "capacity": 8, "players": 1})
    demo.as_player("get", "multiplayer/server-info")
    demo.as_server("post", "multiplayer/validate-token", {"token": demo.token})
    demo.as_server("post", "multiplayer/validate-token", {"token": "forged"})
    demo.as_server("post", "multiplayer/match-result", _match(demo, "eu-1-000123"))
    demo.as_server("post", "multiplayer/match-result", _match(demo, "eu-1-000123"))
    demo.as_player("post", "multiplayer/match-result", _match(demo, "eu-1-000124"))
    demo.as_server("post", "multiplayer/servers/deregister", {"server_id": "eu-1"})


def _scenario_progression(demo: Demo) -> None:
    demo.as_player("get", "battlepass/progress")
    demo.as_player("post", "battlepass/claim", {"tier": 1, "track": "free"})
    demo.as_player("post", "battlepass/claim", {"tier": 1, "track": "free"})
    demo.as_player("get", "events/active")
    reward = _claimable_reward(demo)
    if reward is not None:  # claimed twice: the second answer is 409 already_claimed
        demo.as_player("post", "events/claim-reward", reward)
        demo.as_player("post", "events/claim-reward", reward)


def _scenario_analytics_and_logout(demo: Demo) -> None:
    event = {"event_id": str(uuid.uuid4()), "name": "level_started", "properties": {"level": 1}}
    event["occurred_at"] = datetime.now(UTC).isoformat()
    demo.as_player("post", "analytics/events", {"events": [event]})
    demo.as_player("post", "analytics/events", {"events": "not-a-list"})
    demo.as_player("post", "auth/logout")
    demo.as_player("get", "player/inventory")


def _scenario_leaderboards(demo: Demo) -> None:
    player_id = demo.login["player"]["id"]
    demo.as_player("get", "leaderboards")
    score = {"player_id": player_id, "submission_id": f"match-{uuid.uuid4()}", "score": 4200}
    demo.as_server("post", "leaderboards/weekly-score/scores", score)
    demo.as_server("post", "leaderboards/weekly-score/scores", score)  # the same submission: 200
    demo.as_server("post", "leaderboards/weekly-score/scores", {**score, "score": 1})  # 409
    demo.as_player("post", "leaderboards/weekly-score/my-score", {"submission_id": "s", "score": 1})
    lap = {"submission_id": f"lap-{uuid.uuid4()}", "score": 83_412}  # the player's own: 201
    demo.as_player("post", "leaderboards/best-lap/my-score", lap)
    demo.as_player("get", "leaderboards/weekly-score?limit=5")
    demo.as_player("get", "leaderboards/weekly-score/around-me?radius=2")
    demo.as_server("get", f"leaderboards/weekly-score/players/{player_id}")
    demo.as_player("get", "leaderboards/weekly-score/periods")
    demo.as_player("get", "leaderboards/weekly-score/periods/1?limit=3")  # last week's standings
    demo.as_player("get", "leaderboards/weekly-score?cursor=not-one-we-gave")
    demo.as_player("get", "leaderboards/no-such-board")


def _scenario_cloud_save(demo: Demo) -> None:
    player_id = demo.login["player"]["id"]
    slot = {"value": {"level": 3, "checkpoint": "forest-2"}}
    created = demo.as_player("put", "player/saves/slot1", slot, HTTP_IF_NONE_MATCH="*")
    demo.as_player("put", "player/saves/slot1", slot, HTTP_IF_NONE_MATCH="*")  # 412: it exists
    version = created.json()["version"]
    demo.as_player("put", "player/saves/slot1", slot, HTTP_IF_MATCH=f'"{version + 5}"')  # stale
    demo.as_player("get", "player/saves/slot1")
    demo.as_player("get", "player/saves/slot1", HTTP_IF_NONE_MATCH=f'"{version}"')  # 304
    writes = [
        {"key": "slot1", "value": {"level": 4}, "version": version},
        {"key": "profile", "value": {"title": "Explorer", "badge": "forest"}},
    ]
    demo.as_player(
        "post", "player/saves", {"writes": writes}, HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4())
    )
    demo.as_player("get", "player/saves")
    create = {"HTTP_IF_NONE_MATCH": "*"}
    demo.as_player("put", "player/saves/rank", {"value": "gold"}, **create)  # server-only: 403
    demo.as_server("put", f"saves/players/{player_id}/rank", {"value": "gold"}, **create)
    demo.as_player("get", f"saves/public/{player_id}")
    demo.as_player("put", "player/saves/slot1", {"value": {"level": 5}})  # no precondition: 428
    demo.as_player("delete", "player/saves/profile", HTTP_IF_MATCH='"1"')
    demo.as_player("get", "player/saves/profile")  # 404 save_not_found


def _scenario_remote_config(demo: Demo) -> None:
    first = demo.as_player("get", "config?platform=android", HTTP_X_CLIENT_VERSION="1.4.0")
    demo.as_player(
        "get",
        "config?platform=android",
        HTTP_X_CLIENT_VERSION="1.4.0",
        HTTP_IF_NONE_MATCH=first["ETag"],
    )  # 304
    demo.as_player("get", "config", HTTP_X_CLIENT_VERSION="not a version")


def _scenario_payment_webhooks(demo: Demo) -> None:
    for provider in ("stripe", "apple", "google-play", "sandbox"):
        demo.call("post", f"payments/webhooks/{provider}", {"unsigned": True})


SCENARIOS: dict[str, Callable[[Demo], None]] = {
    "auth": _scenario_auth,
    "game_data": _scenario_game_data,
    "multiplayer": _scenario_multiplayer,
    "progression": _scenario_progression,
    "analytics_and_logout": _scenario_analytics_and_logout,
    "payment_webhooks": _scenario_payment_webhooks,
    "leaderboards": _scenario_leaderboards,
    "cloud_save": _scenario_cloud_save,
    "remote_config": _scenario_remote_config,
}


def start_walk(user_id: str) -> Demo:
    """A new demo player, logged in with the dev platform (the login is the walk's first call)."""
    demo = Demo(client=APIClient(), login={})
    response = demo.call(
        "post",
        "auth/third-party/login",
        {"platform": "dev", "credentials": {"user_id": user_id, "display_name": user_id.title()}},
        HTTP_X_GAME_KEY=settings.DEMO_CLIENT_KEY,
    )
    if response.status_code != 200:
        raise RuntimeError(f"demo login failed: {response.status_code} {response.content!r}")
    demo.login = response.json()
    return demo
