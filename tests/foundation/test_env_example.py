""".env.example lists every variable the settings read (set, or as a commented `# NAME=default`
line), so a deployment sees every knob it has (issue 16 item 7)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# Read by the settings for the test suite only: no deployment sets them.
TEST_ONLY = {
    "GP_TESTING",
    "PAYMENTS_TEST_FULFILMENT_PAUSE_SECONDS",
    "PAYMENTS_TEST_FULFILMENT_MARKER",
}
_READ = re.compile(r"""\benv(?:\.\w+)?\(\s*["']([A-Z_][A-Z0-9_]*)["']""")
_LISTED = re.compile(r"^#?\s*([A-Z_][A-Z0-9_]*)=", re.MULTILINE)


def read_by(source: str) -> set[str]:
    return set(_READ.findall(source))


def listed_in(text: str) -> set[str]:
    return set(_LISTED.findall(text))


def test_every_variable_the_settings_read_is_in_env_example():
    read = read_by((ROOT / "gamingpanel/settings.py").read_text())
    listed = listed_in((ROOT / ".env.example").read_text())

    missing = sorted(read - TEST_ONLY - listed)
    assert missing == [], f"add to .env.example (commented, with the default): {missing}"


def test_the_parsers_see_both_quotes_and_commented_lines():
    assert read_by("""X = env.int("A_B", default=1)\nY = env('PORT')\nZ = env.list(\n  "C")""") == {
        "A_B",
        "PORT",
        "C",
    }
    assert listed_in("A=1\n# B=2\n#C=\n# not a variable: D\n") == {"A", "B", "C"}
    assert {"DATABASE_URL", "METRICS_TOKEN", "PORT"} <= read_by(
        (ROOT / "gamingpanel/settings.py").read_text()
    )
