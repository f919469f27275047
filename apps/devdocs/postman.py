"""Build the Postman collection and the demo environment from the OpenAPI schema.

Every operation of the schema becomes one request: in its layer's folder, with the auth its
`security` names, a demo body, and `pm.test` checks of the documented status, content type and
required fields. What the schema cannot say (run order, values carried between requests) comes
from `postman_demo`.
"""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

from drf_spectacular.generators import SchemaGenerator

from apps.devdocs import postman_demo as demo
from apps.devdocs.schema import (
    BEARER,
    GAME_KEY,
    PROBLEM_CONTENT_TYPE,
    SERVER_KEY,
    SERVER_KEY_QUERY,
)

API_PREFIX = "/api/v1/"
METHODS = ("get", "post", "put", "patch", "delete")
POSTMAN_SCHEMA = "https://schema.getpostman.com/json/collection/v2.1.0/collection.json"
COLLECTION_NAME = "Gaming Panel API"
_NUMBER_VARIABLE = re.compile(r'"\{\{#([a-z_]+)\}\}"')


def openapi_schema() -> dict[str, Any]:
    """The public schema exactly as /api/v1/schema/ serves it."""
    return SchemaGenerator().get_schema(request=None, public=True)


def build_collection(schema: dict[str, Any]) -> dict[str, Any]:
    folders: dict[str, list[dict]] = {name: [] for name, _ in demo.FOLDERS}
    for method, path, operation in _operations_in_run_order(schema):
        folders[_folder_of(path)].append(_request_item(schema, method, path, operation))
    return {
        "info": {
            "_postman_id": str(uuid.uuid5(uuid.NAMESPACE_URL, "gaming-panel/postman")),
            "name": COLLECTION_NAME,
            "description": _collection_description(schema),
            "schema": POSTMAN_SCHEMA,
        },
        "item": [
            {"name": name, "item": items, "description": _folder_description(name)}
            for name, items in folders.items()
            if items
        ],
        "event": [_script("prerequest", demo.COLLECTION_PRE_REQUEST.splitlines())],
        "variable": [
            {"key": key, "value": value, "type": "string", "description": description}
            for key, value, description in demo.VARIABLES
        ],
    }


def build_environment() -> dict[str, Any]:
    return {
        "id": str(uuid.uuid5(uuid.NAMESPACE_URL, "gaming-panel/postman/demo-environment")),
        "name": "Gaming Panel demo (local)",
        "values": [
            {"key": key, "value": value, "type": kind, "enabled": True}
            for key, value, kind in demo.ENVIRONMENT
        ],
        "_postman_variable_scope": "environment",
    }


def dump(document: dict[str, Any]) -> str:
    """Stable text, so a regenerated file differs from the committed one only when it should."""
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


# --- operations ----------------------------------------------------------------------------


def _operations_in_run_order(schema: dict[str, Any]) -> list[tuple[str, str, dict]]:
    found = [
        (method, path, operation)
        for path, operations in schema.get("paths", {}).items()
        if path.startswith(API_PREFIX)
        for method, operation in operations.items()
        if method in METHODS
    ]
    order = {operation: index for index, operation in enumerate(demo.RUN_ORDER)}

    def position(entry: tuple[str, str, dict]) -> tuple[int, str, str]:
        method, path, _ = entry
        return (order.get((method, _short(path)), len(order)), path, method)

    return sorted(found, key=position)


def _short(path: str) -> str:
    return path.removeprefix(API_PREFIX)


def _folder_of(path: str) -> str:
    short = _short(path)
    return next(name for name, prefixes in demo.FOLDERS if short.startswith(prefixes))


def _request_item(schema: dict, method: str, path: str, operation: dict) -> dict[str, Any]:
    key = (method, _short(path))
    headers = [{"key": "Accept", "value": "application/json"}]
    request: dict[str, Any] = {
        "method": method.upper(),
        "header": headers,
        "url": _url(path, operation),
        "auth": _auth(operation),
        "description": _request_description(operation),
    }
    body = _body(schema, key, operation)
    if body is not None:
        headers.append({"key": "Content-Type", "value": "application/json"})
        request["body"] = {"mode": "raw", "raw": body, "options": {"raw": {"language": "json"}}}
    for parameter in _parameters(schema, operation, "header"):
        value = demo.DEMO_HEADERS.get(key, {}).get(parameter["name"], "")
        if parameter["name"] == "Idempotency-Key" and not value:
            value = "{{$guid}}"
        header: dict[str, Any] = {"key": parameter["name"], "value": value}
        if not value:
            # Listed to fill in, not sent: the API reads a header sent empty as a bad value
            # (`If-Match:` is not "no If-Match").
            header["disabled"] = True
        headers.append(header)
    for name, value in demo.DEMO_HEADERS.get(key, {}).items():
        if not any(header["key"] == name for header in headers):
            headers.append({"key": name, "value": value})
    return {
        "name": operation.get("summary") or f"{method.upper()} {_short(path)}",
        "request": request,
        "event": [_script("test", _test_lines(schema, key, operation))],
    }


def _only_value(schema: dict) -> object:
    """A query parameter's value when the schema leaves one: its default, or its only allowed
    value (DELETE player's `confirm`)."""
    enum = schema.get("enum", [])
    return schema.get("default", enum[0] if len(enum) == 1 else "")


def _url(path: str, operation: dict) -> dict[str, Any]:
    segments = [
        f":{segment[1:-1]}" if segment.startswith("{") else segment
        for segment in path.strip("/").split("/")
    ]
    url: dict[str, Any] = {
        "raw": "{{base_url}}/" + "/".join(segments),
        "host": ["{{base_url}}"],
        "path": segments,
    }
    query = [
        {
            "key": parameter["name"],
            "value": str(parameter.get("example", _only_value(parameter.get("schema", {})))),
            "description": parameter.get("description", ""),
            "disabled": not parameter.get("required", False),
        }
        for parameter in operation.get("parameters", [])
        if parameter.get("in") == "query"
    ]
    if query:
        url["query"] = query
        url["raw"] += "?" + "&".join(f"{q['key']}={q['value']}" for q in query if not q["disabled"])
    variables = [
        {
            "key": parameter["name"],
            "value": demo.PATH_VALUES.get(parameter["name"], str(parameter.get("example", "1"))),
        }
        for parameter in operation.get("parameters", [])
        if parameter.get("in") == "path"
    ]
    if variables:
        url["variable"] = variables
    return url


def _parameters(schema: dict, operation: dict, where: str) -> list[dict]:
    return [
        _resolve(schema, parameter)
        for parameter in operation.get("parameters", [])
        if _resolve(schema, parameter).get("in") == where
    ]


def _auth(operation: dict) -> dict[str, Any]:
    """The first security requirement the schema lists (the one the endpoint means)."""
    schemes = [name for requirement in operation.get("security", []) for name in requirement]
    if not schemes:
        return {"type": "noauth"}
    scheme = schemes[0]
    if scheme == BEARER:
        return {"type": "bearer", "bearer": [_kv("token", "{{access_token}}")]}
    name, variable, where = {
        SERVER_KEY: ("X-Server-Key", "server_key", "header"),
        SERVER_KEY_QUERY: ("key", "server_key", "query"),
        GAME_KEY: ("X-Game-Key", "game_key", "header"),
    }[scheme]
    return {
        "type": "apikey",
        "apikey": [_kv("key", name), _kv("value", "{{" + variable + "}}"), _kv("in", where)],
    }


def _kv(key: str, value: str) -> dict[str, str]:
    return {"key": key, "value": value, "type": "string"}


# --- bodies --------------------------------------------------------------------------------


def _body(schema: dict, key: tuple[str, str], operation: dict) -> str | None:
    content = operation.get("requestBody", {}).get("content", {}).get("application/json")
    if key in demo.DEMO_BODIES:
        value = demo.DEMO_BODIES[key]
    elif content is None:
        return None
    elif content.get("examples"):
        value = next(iter(content["examples"].values())).get("value")
    elif "example" in content:
        value = content["example"]
    else:
        value = _sample(schema, content.get("schema", {}))
    text = json.dumps(value, indent=2, ensure_ascii=False)
    return _NUMBER_VARIABLE.sub(lambda match: "{{" + match[1] + "}}", text)


def _sample(schema: dict, node: dict, depth: int = 0) -> Any:
    """A body built from the schema alone: required fields with their example or a plain value."""
    node = _resolve(schema, node)
    if "example" in node:
        return node["example"]
    if node.get("enum"):
        return node["enum"][0]
    kind = node.get("type", "object")
    if depth > 4:
        return None
    if kind == "object":
        properties = node.get("properties", {})
        wanted = node.get("required", list(properties))
        return {name: _sample(schema, properties[name], depth + 1) for name in wanted}
    if kind == "array":
        return [_sample(schema, node.get("items", {}), depth + 1)]
    return {"integer": 1, "number": 1, "boolean": True}.get(kind, "string")


def _resolve(schema: dict, node: dict) -> dict:
    while isinstance(node, dict) and "$ref" in node:
        target: Any = schema
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    if isinstance(node, dict) and "allOf" in node and len(node["allOf"]) == 1:
        return _resolve(schema, node["allOf"][0])
    return node


# --- checks --------------------------------------------------------------------------------


def documented_responses(schema: dict, operation: dict) -> dict[int, dict[str, Any]]:
    """Per documented status: its content type (or None) and the fields a body must have."""
    documented: dict[int, dict[str, Any]] = {}
    for status, response in operation.get("responses", {}).items():
        if not status.isdigit():
            continue
        content = _resolve(schema, response).get("content", {})
        if not content:
            documented[int(status)] = {"type": None, "required": [], "array": False}
            continue
        media_type, media = next(iter(content.items()))
        body = _resolve(schema, media.get("schema", {}))
        is_array = body.get("type") == "array"
        if is_array:
            body = _resolve(schema, body.get("items", {}))
        documented[int(status)] = {
            "type": media_type,
            "required": _required_fields(schema, body),
            "array": is_array,
        }
    return documented


def _required_fields(schema: dict, body: dict) -> list[str]:
    """What a body must carry: its own `required`, and every `allOf` part's (a cloud-save 412 is
    a Problem with fields of its own)."""
    required = list(body.get("required", []))
    for part in body.get("allOf", []):
        required += [
            f for f in _required_fields(schema, _resolve(schema, part)) if f not in required
        ]
    return required


def _expected_override(key: tuple[str, str]) -> tuple[list[int], str] | None:
    method, path = key
    for (other_method, other_path), override in demo.EXPECTED_STATUS.items():
        if other_method == method and (
            other_path == path or (other_path.endswith("/") and path.startswith(other_path))
        ):
            return override
    return None


def expected_statuses(schema: dict, key: tuple[str, str], operation: dict) -> list[int]:
    if override := _expected_override(key):
        return override[0]
    documented = sorted(documented_responses(schema, operation))
    successes = [status for status in documented if 200 <= status < 300]
    return successes or documented


def _test_lines(schema: dict, key: tuple[str, str], operation: dict) -> list[str]:
    documented = documented_responses(schema, operation)
    expected = expected_statuses(schema, key, operation)
    reason = (_expected_override(key) or (None, "documented success"))[1]
    lines = [
        f"const documented = {json.dumps(documented, sort_keys=True)};",
        f"const expected = {json.dumps(expected)};",
        f"pm.test('status is {' or '.join(map(str, expected))} ({reason})', () => {{",
        "  pm.expect(pm.response.code).to.be.oneOf(expected);",
        "});",
        "const doc = documented[pm.response.code];",
    ]
    if _expected_override(key) is None:
        lines += [
            "pm.test('status ' + pm.response.code + ' is documented in the schema', () => {",
            "  pm.expect(doc, 'undocumented status').to.be.an('object');",
            "});",
        ]
    else:
        # A deliberate refusal: whether the schema lists it is checked by the test suite
        # (tests/devdocs/test_schema_contract.py); here it must at least be a problem.
        lines += [
            "if (!doc && pm.response.code >= 400) {",
            f"  pm.test('refusal is {PROBLEM_CONTENT_TYPE} with a code', () => {{",
            f"    pm.expect(pm.response.headers.get('Content-Type')).to.include('{PROBLEM_CONTENT_TYPE}');",
            "    pm.expect(pm.response.json().code).to.be.a('string');",
            "  });",
            "}",
        ]
    lines += [
        "pm.test('response carries X-Request-ID', () => {",
        "  pm.response.to.have.header('X-Request-ID');",
        "});",
        "if (doc && doc.type) {",
        "  pm.test('content type is ' + doc.type, () => {",
        "    pm.expect(pm.response.headers.get('Content-Type') || '').to.include(doc.type);",
        "  });",
        "  const body = pm.response.json();",
        "  const first = doc.array ? body[0] : body;",
        "  if (doc.array) {",
        "    pm.test('body is a list', () => pm.expect(body).to.be.an('array'));",
        "  }",
        "  if (first !== undefined && doc.required.length) {",
        "    pm.test('body has the required fields', () => {",
        "      doc.required.forEach((field) => pm.expect(first).to.have.property(field));",
        "    });",
        "  }",
        f"  if (doc.type === '{PROBLEM_CONTENT_TYPE}') {{",
        "    pm.test('problem code is ' + body.code, () => pm.expect(body.code).to.be.a('string'));",
        "  }",
    ]
    capture = demo.CAPTURES.get(key)
    if capture:
        lines += [
            "  if (pm.response.code >= 200 && pm.response.code < 300) {",
            *(f"    {line}" for line in capture),
            "  }",
        ]
    lines.append("}")
    if key in demo.ENDS_SESSION:
        # The answer may have no body; the stored tokens are dead either way.
        lines += [
            "if (pm.response.code >= 200 && pm.response.code < 300) {",
            "  ['access_token', 'refresh_token', 'access_expires_at']",
            "    .forEach((name) => pm.collectionVariables.set(name, ''));",
            "}",
        ]
    return lines


def _script(listen: str, lines: list[str]) -> dict[str, Any]:
    return {"listen": listen, "script": {"type": "text/javascript", "exec": lines}}


# --- descriptions --------------------------------------------------------------------------


def _request_description(operation: dict) -> str:
    parts = [operation.get("description", "").strip()]
    responses = operation.get("responses", {})
    parts += [
        f"- **{status}**: {response.get('description', '').strip()}"
        for status, response in sorted(responses.items())
    ]
    return "\n".join(part for part in parts if part)


def _folder_description(name: str) -> str:
    return {
        "Authentication": "Login with a platform credential, token refresh and validation.",
        "Game Data": "The player's stats and inventory, the shop and purchases.",
        "Multiplayer": "Game-server calls (X-Server-Key) and the live server list.",
        "Events & Progression": "Live events, reward claims and the battle pass.",
        "Analytics": "Client event batches.",
        "Payments": "Payment processor callbacks.",
        "Other": "Health and everything else.",
    }[name]


def _collection_description(schema: dict) -> str:
    info = schema.get("info", {})
    return (
        f"{info.get('description', '')}\n\n"
        "Generated from the OpenAPI schema by `manage.py export_postman`; do not edit by hand. "
        "Select the *Gaming Panel demo (local)* environment and run the collection: the login "
        "request stores `access_token` and `refresh_token`, and the collection's pre-request "
        "script logs in or refreshes by itself whenever a request needs a token."
    )
