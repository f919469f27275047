"""The Makefile installs what each command needs, once per pyproject.toml: `make run` the runtime
dependencies only; `make test` (and lint, format, bench, which `.ci/run` uses) the dev ones too.
Run in a copy with a stand-in Python whose pip only records what it was asked to install."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import ROOT

FAKE_PYTHON = """#!/bin/sh
# python -m venv DIR: a venv whose pip writes its arguments to DIR/pip.log
[ "$1" = "-m" ] && [ "$2" = "venv" ] || exit 2
mkdir -p "$3/bin"
printf '#!/bin/sh\\necho "$*" >> "%s/pip.log"\\n' "$(cd "$3" && pwd)" > "$3/bin/pip"
printf '#!/bin/sh\\nexit 0\\n' > "$3/bin/python"
chmod +x "$3/bin/pip" "$3/bin/python"
"""


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    if shutil.which("make") is None:
        pytest.skip("needs make, as the README does")
    shutil.copy(ROOT / "Makefile", tmp_path)
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    scripts = tmp_path / "scripts"
    scripts.mkdir()
    for name in ("run", "test"):
        (scripts / name).write_text(f'#!/bin/sh\necho {name} >> "$(dirname "$0")/../ran.log"\n')
        (scripts / name).chmod(0o755)
    python = tmp_path / "fake-python"
    python.write_text(FAKE_PYTHON)
    python.chmod(0o755)
    return tmp_path


def make(checkout: Path, target: str) -> list[str]:
    """What pip installed for `make target` (the upgrade of pip itself left out)."""
    log = checkout / ".venv" / "pip.log"
    before = log.read_text().splitlines() if log.exists() else []
    subprocess.run(
        ["make", "--no-print-directory", target, f"PYTHON={checkout / 'fake-python'}"],
        cwd=checkout,
        check=True,
        capture_output=True,
        timeout=60,
    )
    after = log.read_text().splitlines()
    return [line for line in after[len(before) :] if "--upgrade pip" not in line]


def test_make_run_installs_the_runtime_dependencies_only(checkout):
    assert make(checkout, "run") == ["install --quiet -e ."]
    assert make(checkout, "run") == []  # once
    assert (checkout / "ran.log").read_text().split() == ["run", "run"]


def test_make_test_installs_the_dev_dependencies_after_make_run(checkout):
    make(checkout, "run")
    assert make(checkout, "test") == ["install --quiet -e .[dev]"]
    assert make(checkout, "test") == []
    assert make(checkout, "run") == []  # the dev set holds the runtime set


def test_a_changed_pyproject_installs_again(checkout):
    make(checkout, "test")
    with (checkout / "pyproject.toml").open("a") as pyproject:
        pyproject.write("\n# changed\n")
    assert make(checkout, "run") == ["install --quiet -e ."]
    assert make(checkout, "test") == ["install --quiet -e .[dev]"]


def test_a_checkout_set_up_before_keeps_its_install(checkout):
    """A .venv whose dev install an earlier Makefile stamped (.installed-<pyproject sha1>)."""
    make(checkout, "test")
    stamps = [p.name for p in (checkout / ".venv").glob(".installed-*")]
    (checkout / ".venv" / "pip.log").write_text("")
    for stamp in stamps:
        if stamp.startswith(".installed-runtime-"):
            (checkout / ".venv" / stamp).unlink()

    assert make(checkout, "run") == []
    assert make(checkout, "test") == []
