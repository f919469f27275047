"""Every problem `code` the code base can answer is documented, and every documented code still
exists: a row of docs/guide/errors.md's tables (its anchor, the status the code answers) and a
mention in the OpenAPI schema.

The codes are read from the source itself (Python's `ast`, every module of apps/ and
gamingpanel/ but migrations), wherever they are set: a class attribute (`code = "x"`,
`status, code, title = 409, "x", …`, DRF's `default_code`), a `code="x"` argument or a
`"code": "x"` key beside a `detail`, `title` or `status` (a `problem_response`, an analytics
`Rejection`), `code, title, … = "x", …` in a function (the exception handler), or a `return "x"`
of a function whose name ends in `code` (the handler's mapping of DRF's own exceptions). A code added anywhere without its row fails here; so does a row left behind.
"""

from __future__ import annotations

import ast
import importlib
import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest
from rest_framework import exceptions as drf_exceptions

from apps.devdocs.postman import openapi_schema
from gamingpanel.errors import DomainError

ROOT = Path(__file__).resolve().parents[2]
ERRORS_MD = ROOT / "docs/guide/errors.md"
SOURCE_DIRS = ("apps", "gamingpanel")
CODE = re.compile(r"[a-z][a-z0-9_]*")
# What a problem carries beside its code: how a `code` set outside a class is told from another.
PROBLEM_FIELDS = {"detail", "title", "status"}
# One row of errors.md's "Every code" tables: | <span id="x"></span>`x` | status | meaning | do |
ROW = re.compile(r"^\| <span id=\"(?P<anchor>[^\"]*)\"></span>`(?P<code>[^`]*)` \| (?P<rest>.*)\|$")

# DRF's own exceptions the handler passes through with their default code
# (gamingpanel.problems._drf_code): a body that is not JSON, an Accept without JSON.
DRF_CODES = {"unsupported_media_type", "not_acceptable"}
# Codes answered only inside an analytics batch's 207 (its `rejected` list), never as a problem:
# their row's status says so instead of the class's.
PER_EVENT_CODES = {
    "reserved_event_name",
    "event_out_of_range",
    "properties_too_large",
    "too_many_event_names",
}
# Codes the OpenAPI schema (the /api/v1 operations) never names, and why. Every other code must
# be named, in backticks, by a description of the schema: an operation's response, or a field
# of a component (an analytics rejection's `code`).
NOT_IN_THE_SCHEMA = {
    # Any endpoint, answered by the foundation before or around a view (errors.md "Any endpoint").
    "bad_request": "any endpoint: too many fields, a Host the panel does not serve",
    "method_not_allowed": "any endpoint: the wrong HTTP method",
    # Reserved: declared, answered by no v1 endpoint (errors.md says so).
    "permission_denied": "reserved",
    "not_implemented": "reserved: no routed placeholder in v1",
    "unknown_provider": "reserved: the webhook and receipt routes name their providers",
    # The operator panel and the admin only (errors.md marks them so).
    "conflict": "panel only",
    "insufficient_items": "panel only: an operator's revoke (the shop debits currencies only)",
    "invalid_contents": "panel only: an operator's grant or revoke of nothing",
    "payment_not_refundable": "panel only",
    "season_has_claims": "admin only",
    "period_not_closed": "operators only",
    "period_closed": "operators only",
    "nothing_to_restore": "panel only",
    "release_not_found": "panel only",
    "invalid_config_rule": "panel only",
    # The sandbox checkout page, /payments/sandbox/checkout/<token>: no /api/v1 operation.
    "payment_not_found": "the sandbox checkout page",
    "sandbox_only": "the sandbox checkout page",
    "unknown_checkout_action": "the sandbox checkout page",
    "refund_by_operator_only": "the sandbox checkout page",
    "checkout_already_submitted": "the sandbox checkout page",
}


@dataclass(frozen=True)
class Declared:
    code: str
    where: str  # path:line
    status: int | None = None  # the status set beside it, when the source says
    owner: str | None = None  # module.Class of a class attribute


def _sources() -> list[Path]:
    return [
        path
        for folder in SOURCE_DIRS
        for path in sorted((ROOT / folder).rglob("*.py"))
        if not {"migrations", "tests"} & set(path.relative_to(ROOT).parts)
    ]


def _text(node: ast.AST | None) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return None


def _number(node: ast.AST | None) -> int | None:
    if isinstance(node, ast.Constant) and type(node.value) is int:
        return node.value
    return None


def _callee(call: ast.Call) -> str:
    func = call.func
    return func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")


def _assigned(node: ast.Assign | ast.AnnAssign) -> list[tuple[str, ast.AST]]:
    """(name, value) pairs of an assignment to names, tuples unpacked."""
    targets = node.targets if isinstance(node, ast.Assign) else [node.target]
    pairs: list[tuple[str, ast.AST]] = []
    for target in targets:
        if isinstance(target, ast.Name) and node.value is not None:
            pairs.append((target.id, node.value))
        elif isinstance(target, ast.Tuple) and isinstance(node.value, ast.Tuple):
            pairs += [
                (name.id, value)
                for name, value in zip(target.elts, node.value.elts, strict=False)
                if isinstance(name, ast.Name)
            ]
    return pairs


class _Finder(ast.NodeVisitor):
    def __init__(self, path: Path, module: str) -> None:
        self.path, self.module = path.relative_to(ROOT), module
        self.classes: list[str] = []
        self.functions: list[str] = []
        self.found: list[Declared] = []

    def _add(self, code: str | None, node: ast.AST, status: int | None = None) -> None:
        if code is not None:
            owner = f"{self.module}.{'.'.join(self.classes)}" if self.classes else None
            self.found.append(Declared(code, f"{self.path}:{node.lineno}", status, owner))  # type: ignore[attr-defined]

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        self.classes.append(node.name)
        self.generic_visit(node)
        self.classes.pop()

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        self.functions.append(node.name)
        saved, self.classes = self.classes, []  # a function's locals are no class attribute
        self.generic_visit(node)
        self.classes = saved
        self.functions.pop()

    visit_AsyncFunctionDef = visit_FunctionDef  # type: ignore[assignment]

    def _visit_assign(self, node: ast.Assign | ast.AnnAssign) -> None:
        pairs = dict(_assigned(node))
        # A class attribute is an error's code; elsewhere only beside its problem's `title` or
        # `status` (a local `code = "gold"` names a currency).
        if self.classes or PROBLEM_FIELDS & set(pairs):
            for name in ("code", "default_code"):
                if name in pairs:
                    self._add(_text(pairs[name]), node, _number(pairs.get("status")))
        self.generic_visit(node)

    visit_Assign = _visit_assign  # type: ignore[assignment]
    visit_AnnAssign = _visit_assign  # type: ignore[assignment]

    def visit_Call(self, node: ast.Call) -> None:
        # A form's or a serializer's ValidationError code is a field error's, never a problem's
        # (the API answers every serializer error as `validation_error`).
        # Only a problem-shaped call counts: `code=` beside `detail=`, `title=` or `status=`
        # (a problem_response, an analytics Rejection), not `Currency(code="gold", …)`.
        given = {keyword.arg: keyword.value for keyword in node.keywords}
        if _callee(node) != "ValidationError" and "code" in given and PROBLEM_FIELDS & set(given):
            self._add(_text(given["code"]), node, _number(given.get("status")))
        self.generic_visit(node)

    def visit_Dict(self, node: ast.Dict) -> None:
        given = {_text(key): value for key, value in zip(node.keys, node.values, strict=True)}
        if "code" in given and PROBLEM_FIELDS & set(given):
            self._add(_text(given["code"]), node, _number(given.get("status")))
        self.generic_visit(node)

    def visit_Return(self, node: ast.Return) -> None:
        if self.functions and self.functions[-1].endswith("code"):
            self._add(_text(node.value), node)
        self.generic_visit(node)


@cache
def declared_codes() -> dict[str, list[Declared]]:
    """Every problem code set in the source, with where it is set."""
    found: dict[str, list[Declared]] = {}
    for path in _sources():
        parts = path.relative_to(ROOT).with_suffix("").parts
        module = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        finder = _Finder(path, module)
        finder.visit(ast.parse(path.read_text(encoding="utf-8"), filename=str(path)))
        for declared in finder.found:
            found.setdefault(declared.code, []).append(declared)
    return found


def answered_codes() -> set[str]:
    return set(declared_codes()) | DRF_CODES


@dataclass(frozen=True)
class Row:
    anchor: str
    code: str
    cells: tuple[str, ...]  # status, meaning, what the client does
    line: int


def error_guide_rows(text: str | None = None) -> list[Row]:
    text = ERRORS_MD.read_text(encoding="utf-8") if text is None else text
    rows = []
    for number, line in enumerate(text.splitlines(), start=1):
        if match := ROW.match(line):
            cells = tuple(cell.strip() for cell in match["rest"].split(" | "))
            rows.append(Row(match["anchor"], match["code"], cells, number))
    return rows


def _status_of(owner: str) -> int | None:
    """The status a DomainError subclass answers (inherited ones included), or None."""
    module, _, name = owner.rpartition(".")
    error = getattr(importlib.import_module(module), name, None)
    if isinstance(error, type) and issubclass(error, DomainError):
        return error.status
    return None


def expected_statuses(code: str) -> set[int]:
    statuses = set()
    for declared in declared_codes().get(code, []):
        if declared.status is not None:
            statuses.add(declared.status)
        elif declared.owner is not None and (status := _status_of(declared.owner)) is not None:
            statuses.add(status)
    return statuses


@cache
def schema_text() -> str:
    """The whole public schema as text: every description, of operations and of fields."""
    return json.dumps(openapi_schema())


# --- The scan itself ---------------------------------------------------------------------------


def test_the_scan_finds_codes_wherever_they_are_set():
    codes = declared_codes()

    # A DomainError subclass in an app's errors.py, one in gamingpanel, one inheriting its status.
    assert "insufficient_funds" in codes and "idempotency_key_reused" in codes
    assert "token_expired" in codes and expected_statuses("token_expired") == {401}
    # The exception handler's mapping of DRF's own exceptions, and its inline tuples.
    assert {"not_authenticated", "rate_limited", "malformed_json", "not_found"} <= set(codes)
    assert expected_statuses("method_not_allowed") == {405}  # problem_response(status=405, …)
    # A Django form's error code is no problem code.
    assert "otp_required" not in codes and "xp_falls" not in codes
    assert all(CODE.fullmatch(code) for code in codes), sorted(codes)


def test_drf_codes_are_default_codes_of_drf_exceptions():
    drf = {
        value.default_code
        for value in vars(drf_exceptions).values()
        if isinstance(value, type) and issubclass(value, drf_exceptions.APIException)
    }

    assert DRF_CODES - drf == set()


# --- docs/guide/errors.md -----------------------------------------------------------------------


def missing_rows(rows: list[Row]) -> list[str]:
    documented = {row.code for row in rows}
    return sorted(
        f"{code} (set at {', '.join(d.where for d in declared_codes().get(code, []))})"
        for code in answered_codes() - documented
    )


def test_every_code_the_code_base_answers_has_a_row_in_the_error_guide():
    assert missing_rows(error_guide_rows()) == [], "add these codes to docs/guide/errors.md"


def test_every_row_of_the_error_guide_names_a_code_that_still_exists():
    gone = [
        f"line {row.line}: {row.code}"
        for row in error_guide_rows()
        if row.code not in answered_codes()
    ]

    assert gone == [], "remove these rows (or the code is set somewhere the scan misses)"


def test_every_row_is_well_formed_and_once():
    rows = error_guide_rows()
    text = ERRORS_MD.read_text(encoding="utf-8")
    malformed = [
        f"line {row.line}: {row.code}"
        for row in rows
        if row.anchor != row.code
        or not CODE.fullmatch(row.code)
        or len(row.cells) != 3
        or not all(row.cells)
    ]
    codes = [row.code for row in rows]

    assert malformed == []
    assert sorted({code for code in codes if codes.count(code) > 1}) == []
    # Every row of the "Every code" tables is parsed (none slips past the pattern).
    assert text.count('<span id="') == len(rows), "a code's row the pattern does not read"


def test_every_row_states_the_status_its_code_answers():
    wrong = []
    for row in error_guide_rows():
        status = row.cells[0]
        if row.code in PER_EVENT_CODES:
            if status != "207 (per event)":
                wrong.append(f"{row.code}: {status!r}, not '207 (per event)'")
            continue
        expected = expected_statuses(row.code)
        if expected and {int(s) for s in re.findall(r"\d{3}", status)} != expected:
            wrong.append(f"{row.code}: {status!r}, the code answers {sorted(expected)}")

    assert wrong == []


def test_the_guide_check_fails_on_a_removed_row():
    """The check can fail: the guide without one row misses that code."""
    text = ERRORS_MD.read_text(encoding="utf-8")
    row = next(line for line in text.splitlines() if '<span id="store_product_ambiguous">' in line)
    rows = error_guide_rows(text.replace(row + "\n", ""))

    assert [entry.split(" ")[0] for entry in missing_rows(rows)] == ["store_product_ambiguous"]


# --- The OpenAPI schema -------------------------------------------------------------------------


def unnamed_in_schema(schema: str) -> list[str]:
    return sorted(
        code for code in answered_codes() - set(NOT_IN_THE_SCHEMA) if f"`{code}`" not in schema
    )


def test_every_code_the_api_answers_is_named_in_the_openapi_schema():
    assert unnamed_in_schema(schema_text()) == [], (
        "name these codes in the schema descriptions of the endpoints that answer them "
        "(extend_schema responses), or list them in NOT_IN_THE_SCHEMA with the reason"
    )


def test_codes_kept_out_of_the_schema_exist_and_are_really_out():
    stale = sorted(code for code in NOT_IN_THE_SCHEMA if code not in answered_codes())
    named = sorted(code for code in NOT_IN_THE_SCHEMA if f"`{code}`" in schema_text())

    assert stale == [], "these codes no longer exist"
    assert named == [], "the schema names these now: drop them from NOT_IN_THE_SCHEMA"


@pytest.mark.parametrize("code", ["insufficient_funds", "token_expired"])
def test_the_schema_check_fails_on_a_code_the_schema_drops(code):
    assert unnamed_in_schema(schema_text().replace(f"`{code}`", code)) == [code]


def test_a_code_set_in_any_module_without_a_row_fails(tmp_path, monkeypatch):
    """Not only errors.py files: a view answering an inline problem is read too."""
    view = tmp_path / "apps" / "newapp" / "views.py"
    view.parent.mkdir(parents=True)
    view.write_text(
        "def teapot(request):\n"
        '    return problem_response(status=418, code="teapot", title="T", detail="")\n',
        encoding="utf-8",
    )
    monkeypatch.setattr(f"{__name__}.ROOT", tmp_path)
    declared_codes.cache_clear()
    try:
        assert [d.status for d in declared_codes()["teapot"]] == [418]
        assert missing_rows(error_guide_rows()) == ["teapot (set at apps/newapp/views.py:2)"]
    finally:
        declared_codes.cache_clear()
