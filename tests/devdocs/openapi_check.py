"""Check real API answers against the OpenAPI schema (jsonschema, OpenAPI 3.0 dialect)."""

from __future__ import annotations

import copy
from typing import Any

from jsonschema import Draft7Validator


def to_json_schema(node: Any) -> Any:
    """OpenAPI 3.0 schema objects → JSON Schema: `nullable` becomes a null alternative."""
    if isinstance(node, list):
        return [to_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    converted = {key: to_json_schema(value) for key, value in node.items()}
    if converted.pop("nullable", False):
        if "type" in converted and "$ref" not in converted:
            converted["type"] = [converted["type"], "null"]
            if "enum" in converted:
                converted["enum"] = [*converted["enum"], None]
        else:
            return {"anyOf": [converted, {"type": "null"}]}
    return converted


class SchemaChecker:
    def __init__(self, schema: dict[str, Any]) -> None:
        self.schema = schema
        self.components = to_json_schema(copy.deepcopy(schema.get("components", {})))

    def operation(self, method: str, path: str) -> dict[str, Any]:
        return self.schema["paths"][path][method]

    def problems(
        self, method: str, path: str, status: int, content_type: str, body: Any
    ) -> list[str]:
        """Everything about this answer the schema does not allow (empty: it matches)."""
        responses = self.operation(method, path)["responses"]
        documented = responses.get(str(status))
        if documented is None:
            return [f"{method.upper()} {path}: status {status} not documented ({list(responses)})"]
        content = documented.get("content", {})
        if not content:
            if body not in (None, b"", ""):
                return [f"{method.upper()} {path} {status}: documented without a body"]
            return []
        media_type = content_type.split(";")[0].strip()
        if media_type not in content:
            return [f"{method.upper()} {path} {status}: {media_type} not in {list(content)}"]
        response_schema = to_json_schema(content[media_type].get("schema", {}))
        validator = Draft7Validator({**response_schema, "components": self.components})
        return [
            f"{method.upper()} {path} {status}: {'/'.join(map(str, error.absolute_path))}: "
            f"{error.message}"
            for error in validator.iter_errors(body)
        ]
