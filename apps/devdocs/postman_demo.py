"""What the generated Postman collection sends and remembers, per operation, for the demo game.

The OpenAPI schema says what each endpoint takes and answers; this module adds what a schema
cannot know: a run order in which every request can succeed against a freshly seeded demo, demo
bodies that use values stored by earlier requests, and what to store from a response.

Inside a body, "{{name}}" is a string variable and "{{#name}}" a number (written unquoted).
"""

from __future__ import annotations

import re
from datetime import UTC, timedelta
from typing import Any

from django.utils import timezone

Operation = tuple[str, str]  # (method, path without /api/v1)

# Folders per layer of the architecture overview, in run order, with the paths they hold.
FOLDERS: list[tuple[str, tuple[str, ...]]] = [
    ("Authentication", ("auth/",)),
    ("Game Data", ("player/", "shop/", "saves/", "config")),
    ("Multiplayer", ("multiplayer/",)),
    ("Events & Progression", ("events/", "battlepass/", "leaderboards")),
    ("Analytics", ("analytics/",)),
    ("Payments", ("payments/",)),
    ("Other", ("",)),
]

# Run order inside a folder: a request that stores a value comes before the ones that use it,
# and logout comes last in its folder (the collection logs in again by itself when needed).
RUN_ORDER: list[Operation] = [
    ("post", "auth/third-party/login"),
    ("post", "auth/refresh"),
    ("post", "auth/validate"),
    ("post", "auth/link"),
    ("post", "auth/unlink"),
    ("post", "auth/logout"),
    ("get", "player/stats"),
    ("get", "player/inventory"),
    ("get", "shop/categories"),
    ("post", "shop/purchase"),
    ("get", "shop/purchases"),
    ("get", "shop/purchases/{purchase_id}"),
    ("post", "shop/receipts"),
    ("put", "player/saves/{key}"),
    ("get", "player/saves/{key}"),
    ("get", "player/saves"),
    ("post", "player/saves"),
    ("get", "saves/public/{player_id}"),
    ("get", "saves/public/{player_id}/{key}"),
    ("delete", "player/saves/{key}"),
    ("put", "saves/players/{player_id}/{key}"),
    ("get", "saves/players/{player_id}/{key}"),
    ("get", "saves/players/{player_id}"),
    ("post", "saves/players/{player_id}"),
    ("delete", "saves/players/{player_id}/{key}"),
    ("get", "config"),
    ("post", "multiplayer/servers/heartbeat"),
    ("get", "multiplayer/server-info"),
    ("get", "multiplayer/server-info/{server_id}"),
    ("post", "multiplayer/validate-token"),
    ("post", "multiplayer/match-result"),
    ("post", "multiplayer/servers/deregister"),
    ("get", "events/active"),
    ("post", "events/claim-reward"),
    ("get", "battlepass/progress"),
    ("post", "battlepass/claim"),
    ("get", "leaderboards"),
    ("post", "leaderboards/{slug}/scores"),
    ("get", "leaderboards/{slug}"),
    ("get", "leaderboards/{slug}/around-me"),
    ("get", "leaderboards/{slug}/players/{player_id}"),
    ("get", "leaderboards/{slug}/periods"),
    ("get", "leaderboards/{slug}/periods/{number}"),
    ("post", "leaderboards/{slug}/my-score"),
    ("post", "analytics/events"),
]

DEV_LOGIN_BODY: dict[str, Any] = {
    "platform": "dev",
    "credentials": {"user_id": "{{dev_user_id}}", "display_name": "Alice"},
}

DEMO_BODIES: dict[Operation, Any] = {
    ("post", "auth/third-party/login"): DEV_LOGIN_BODY,
    ("post", "auth/refresh"): {"refresh_token": "{{refresh_token}}"},
    ("post", "auth/validate"): {"token": "{{access_token}}"},
    ("post", "auth/link"): {
        "platform": "dev",
        "credentials": {"user_id": "{{dev_user_id}}-alt", "display_name": "Alice"},
    },
    ("post", "auth/unlink"): {"platform": "dev"},
    ("post", "auth/logout"): {},
    ("post", "shop/purchase"): {"offer_id": "{{#offer_id}}", "quantity": 1},
    ("post", "shop/receipts"): {
        "provider": "google_play",
        "offer_id": "{{#real_offer_id}}",
        "receipt": {"purchase_token": "made-up-purchase-token"},
    },
    ("post", "multiplayer/servers/heartbeat"): {
        "server_id": "{{server_id}}",
        "region": "eu-west",
        "address": "10.0.0.12",
        "port": 7777,
        "players": 1,
        "capacity": 16,
        "mode": "deathmatch",
        "version": "1.0.0",
    },
    ("post", "multiplayer/validate-token"): {"token": "{{access_token}}"},
    ("post", "multiplayer/match-result"): {
        "match_id": "{{match_id}}",
        "mode": "deathmatch",
        "started_at": "{{match_started_iso}}",
        "ended_at": "{{now_iso}}",
        "players": [
            {
                "player_id": "{{#player_id}}",
                "outcome": "win",
                "score": 1200,
                "stats": {"kills": 7, "deaths": 2},
            }
        ],
    },
    ("post", "events/claim-reward"): {"event_id": "{{#event_id}}", "reward_id": "{{#reward_id}}"},
    ("put", "player/saves/{key}"): {"value": {"chapter": 1, "checkpoint": "gate"}},
    ("post", "player/saves"): {
        "writes": [
            {"key": "slot1", "value": {"chapter": 2}, "version": "{{#save_version}}"},
            {"key": "settings", "value": {"music": 0.8}},
        ]
    },
    ("put", "saves/players/{player_id}/{key}"): {"value": {"chapter": 3}},
    ("post", "saves/players/{player_id}"): {
        "writes": [{"key": "slot1", "value": {"chapter": 4}, "version": "{{#save_version}}"}]
    },
    ("post", "battlepass/claim"): {"tier": "{{#bp_level}}", "track": "free"},
    ("post", "leaderboards/{slug}/scores"): {
        "submission_id": "{{$guid}}",
        "player_id": "{{#player_id}}",
        "score": 1234,
        "metadata": {"mode": "ranked"},
    },
    ("post", "leaderboards/{slug}/my-score"): {"submission_id": "{{$guid}}", "score": 1234},
    ("post", "multiplayer/servers/deregister"): {"server_id": "{{server_id}}"},
    ("post", "analytics/events"): {
        "events": [
            {
                "event_id": "{{$guid}}",
                "name": "level_started",
                "occurred_at": "{{now_iso}}",
                "properties": {"level": 3, "difficulty": "normal"},
            }
        ]
    },
}

# What the variables stand for in the schema's examples (Swagger UI "Try it out", Redoc).
EXAMPLE_VALUES: dict[str, object] = {
    "dev_user_id": "alice",
    "access_token": "<the player's access token>",
    "refresh_token": "rt_<the refresh token from login or the last refresh>",
    "offer_id": 4,
    "real_offer_id": 3,
    "player_id": 1,
    "event_id": 1,
    "reward_id": 1,
    "bp_level": 1,
    "save_version": 1,
    "server_id": "eu-1",
    "match_id": "eu-1-000123",
    "match_started_iso": "2026-01-01T10:00:00Z",
    "now_iso": "2026-01-01T10:12:00Z",
    "$guid": "3f1c2a9e-8d1b-4c55-9a57-0b6f3f0d2e11",
}
_VARIABLE = re.compile(r"\{\{(#?)([$a-z_]+)\}\}")


def example_body(operation: Operation) -> Any:
    """The demo body of an operation with its variables filled in, for the OpenAPI schema."""
    if operation not in DEMO_BODIES:
        return None
    return _fill(DEMO_BODIES[operation])


def _fill(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _fill(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_fill(item) for item in value]
    if isinstance(value, str) and (whole := _VARIABLE.fullmatch(value)):
        return _example_value(whole[2])
    if isinstance(value, str):
        return _VARIABLE.sub(lambda match: str(_example_value(match[2])), value)
    return value


# Times the server checks against its clock (an analytics event may be at most days old) are
# made when the schema is built, so an example copied from the docs is accepted.
RELATIVE_TIMES = {"now_iso": timedelta(minutes=1), "match_started_iso": timedelta(minutes=13)}


def _example_value(name: str) -> object:
    if name in RELATIVE_TIMES:
        moment = timezone.now().replace(microsecond=0) - RELATIVE_TIMES[name]
        return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return EXAMPLE_VALUES[name]


# Headers a request sends besides auth and Content-Type (a value or a Postman expression).
DEMO_HEADERS: dict[Operation, dict[str, str]] = {
    ("post", "shop/purchase"): {"Idempotency-Key": "{{$guid}}"},
    ("put", "player/saves/{key}"): {"If-None-Match": "*", "Idempotency-Key": "{{$guid}}"},
    ("post", "player/saves"): {"Idempotency-Key": "{{$guid}}"},
    ("delete", "player/saves/{key}"): {"If-Match": '"{{save_version}}"'},
    ("put", "saves/players/{player_id}/{key}"): {"If-None-Match": "*"},
    ("delete", "saves/players/{player_id}/{key}"): {"If-Match": '"{{save_version}}"'},
    ("get", "config"): {"X-Client-Version": "1.4.2", "X-Client-Platform": "ios"},
}

# Values of path parameters ({name} in the schema's path), usually stored by an earlier request.
PATH_VALUES: dict[str, str] = {
    "purchase_id": "{{purchase_id}}",
    "server_id": "{{server_id}}",
    "player_id": "{{player_id}}",
    "key": "slot1",
    "slug": "weekly-score",  # the demo's weekly board
    "number": "1",
}

# What an endpoint answers for the demo when that is not its documented success, and why.
EXPECTED_STATUS: dict[Operation, tuple[list[int], str]] = {
    # The demo game has only the dev platform, which the player is logged in with already.
    ("post", "auth/link"): ([409], "the demo player already has its only platform linked"),
    ("post", "auth/unlink"): ([409], "the only identity cannot be unlinked"),
    ("post", "shop/receipts"): ([400, 409, 422, 503], "a made-up receipt must be refused"),
    # The player's own slot1 is private; the demo's public key is `profile`.
    ("get", "saves/public/{player_id}/{key}"): ([200, 404], "slot1 is a private key"),
    # The demo's weekly board takes scores from game servers only.
    ("post", "leaderboards/{slug}/my-score"): ([403], "the demo board is server-only"),
    # Period 1 of the demo board is still open in its first week.
    ("get", "leaderboards/{slug}/periods/{number}"): ([200, 404], "period 1 may still be open"),
    # A key ending in "/" covers every path under it.
    # 409 from Apple's while the panel trusts no Apple root certificate (the demo's default).
    ("post", "payments/webhooks/"): ([400, 401, 403, 409], "an unsigned callback must be refused"),
}

_STORE_TOKENS = [
    "pm.collectionVariables.set('access_token', body.access_token);",
    "pm.collectionVariables.set('refresh_token', body.refresh_token);",
    "pm.collectionVariables.set('access_expires_at', String(Date.now() + body.expires_in * 1000));",
]

# JavaScript run after a successful (2xx) answer, with `body` the parsed JSON.
CAPTURES: dict[Operation, list[str]] = {
    ("post", "auth/third-party/login"): [
        *_STORE_TOKENS,
        "pm.collectionVariables.set('player_id', String(body.player.id));",
    ],
    ("post", "auth/refresh"): _STORE_TOKENS,
    ("get", "player/inventory"): [
        "pm.collectionVariables.set('balances', JSON.stringify(body.currencies || {}));",
    ],
    ("get", "shop/categories"): [
        "// The first virtual-currency offer the player can afford and may still buy.",
        "const balances = JSON.parse(pm.collectionVariables.get('balances') || '{}');",
        "const offer = body.flatMap((category) => category.offers || []).find((o) =>",
        "  o.price && !o.price.real_money && o.remaining_purchases !== 0",
        "  && (balances[o.price.currency] || 0) >= o.price.amount);",
        "if (offer) { pm.collectionVariables.set('offer_id', String(offer.id)); }",
        "const store = body.flatMap((category) => category.offers || [])",
        "  .find((o) => o.price && o.price.real_money);",
        "if (store) { pm.collectionVariables.set('real_offer_id', String(store.id)); }",
    ],
    ("post", "shop/purchase"): [
        "pm.collectionVariables.set('purchase_id', String(body.purchase_id));",
    ],
    ("put", "player/saves/{key}"): [
        "pm.collectionVariables.set('save_version', String(body.version));"
    ],
    ("get", "player/saves/{key}"): [
        "pm.collectionVariables.set('save_version', String(body.version));"
    ],
    ("post", "player/saves"): [
        "pm.collectionVariables.set('save_version', String(body.saves.find((d) => d.key === 'slot1').version));",
    ],
    ("put", "saves/players/{player_id}/{key}"): [
        "pm.collectionVariables.set('save_version', String(body.version));",
    ],
    ("post", "saves/players/{player_id}"): [
        "pm.collectionVariables.set('save_version', String(body.saves.find((d) => d.key === 'slot1').version));",
    ],
    ("get", "battlepass/progress"): [
        "const tier = (body.tiers || []).find((t) => t.level <= body.tier && !t.free_claimed);",
        "if (tier) { pm.collectionVariables.set('bp_level', String(tier.level)); }",
    ],
    ("get", "events/active"): [
        "for (const event of body) {",
        "  const reward = (event.rewards || []).find((r) => r.claimable && !r.claimed);",
        "  if (reward) {",
        "    pm.collectionVariables.set('event_id', String(event.id));",
        "    pm.collectionVariables.set('reward_id', String(reward.id));",
        "    break;",
        "  }",
        "}",
    ],
}

# After these succeed the stored tokens are dead; the next request that needs one logs in.
ENDS_SESSION: set[Operation] = {("post", "auth/logout"), ("delete", "player")}

# Collection variables: the five a studio sets, then values the requests store as they run.
VARIABLES: list[tuple[str, str, str]] = [
    ("base_url", "http://127.0.0.1:8000", "Where the panel runs (no trailing slash)."),
    ("game_key", "demo-client-key", "X-Game-Key: the game's public client key (login only)."),
    ("server_key", "demo-server-key", "X-Server-Key: a game server's secret key."),
    ("access_token", "", "Stored by login/refresh; sent as Authorization: Bearer."),
    ("refresh_token", "", "Stored by login/refresh; rotates on every use."),
    ("access_expires_at", "", "Epoch ms when access_token expires (for automatic refresh)."),
    ("dev_user_id", "", "The dev-platform user; set once per run when empty."),
    ("player_id", "", "Stored by login."),
    ("balances", "{}", "Stored by Inventory: the player's currency balances (JSON)."),
    ("offer_id", "", "Stored by Shop categories: an affordable virtual-currency offer."),
    ("event_id", "", "Stored by Active events: an event with a claimable reward."),
    ("reward_id", "", "Stored by Active events."),
    ("real_offer_id", "", "Stored by Shop categories: a real-money offer (store receipts)."),
    ("purchase_id", "", "Stored by Purchase: the purchase just made."),
    ("bp_level", "1", "Stored by Battle pass progress: a reached, unclaimed free tier."),
    ("save_version", "1", "Stored by the cloud-save writes: slot1's version (If-Match)."),
    ("server_id", "postman-server-1", "The game server this collection pretends to be."),
    ("match_id", "", "A fresh id per run, set by the collection pre-request script."),
    ("now_iso", "", "The current time, set by the collection pre-request script."),
    ("match_started_iso", "", "Ten minutes ago, set by the collection pre-request script."),
]

ENVIRONMENT = [
    ("base_url", "http://127.0.0.1:8000", "default"),
    ("game_key", "demo-client-key", "default"),
    ("server_key", "demo-server-key", "secret"),
]

# Runs before every request: per-run values, then a token when the request needs one and none
# is held (or it expires within a minute) — the same automatic refresh a game client does.
COLLECTION_PRE_REQUEST = r"""
if (!pm.collectionVariables.get('dev_user_id')) {
  pm.collectionVariables.set('dev_user_id', 'postman-' + Date.now());
}
if (!pm.collectionVariables.get('match_id')) {
  pm.collectionVariables.set('match_id', 'postman-match-' + Date.now());
}
pm.collectionVariables.set('now_iso', new Date().toISOString());
pm.collectionVariables.set('match_started_iso', new Date(Date.now() - 600000).toISOString());

const raw = (pm.request.body && pm.request.body.raw) || '';
const usesToken = (pm.request.auth && pm.request.auth.type === 'bearer')
  || raw.includes('{{access_token}}') || raw.includes('{{refresh_token}}');
const isLogin = pm.request.url.getPath().endsWith('/auth/third-party/login');
const base = pm.variables.replaceIn('{{base_url}}');
const store = (body) => {
  pm.collectionVariables.set('access_token', body.access_token);
  pm.collectionVariables.set('refresh_token', body.refresh_token);
  pm.collectionVariables.set('access_expires_at', String(Date.now() + body.expires_in * 1000));
  if (body.player) { pm.collectionVariables.set('player_id', String(body.player.id)); }
};
const post = (path, headers, payload, done) => pm.sendRequest({
  url: base + '/api/v1/' + path,
  method: 'POST',
  header: Object.assign({'Content-Type': 'application/json'}, headers),
  body: {mode: 'raw', raw: JSON.stringify(payload)},
}, (err, res) => done(!err && res.code === 200 ? res.json() : null));
const login = () => post('auth/third-party/login',
  {'X-Game-Key': pm.variables.replaceIn('{{game_key}}')},
  {platform: 'dev', credentials: {
    user_id: pm.collectionVariables.get('dev_user_id'), display_name: 'Alice'}},
  (body) => { if (body) { store(body); } });

if (usesToken && !isLogin) {
  const expiresAt = Number(pm.collectionVariables.get('access_expires_at') || 0);
  if (!pm.collectionVariables.get('access_token')) {
    login();
  } else if (expiresAt && Date.now() > expiresAt - 60000 && !raw.includes('{{refresh_token}}')) {
    post('auth/refresh', {}, {refresh_token: pm.collectionVariables.get('refresh_token')},
      (body) => { if (body) { store(body); } else { login(); } });
  }
}
""".strip()
