"""The guide's "five minutes against the demo", run verbatim (bash + curl) against a live demo."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import textwrap

import pytest

from apps.devdocs.pages import GUIDE_DIR

DEMO_URL = "http://127.0.0.1:8000"


def quick_start_script(base_url: str) -> str:
    text = (GUIDE_DIR / "index.md").read_text(encoding="utf-8")
    blocks = [textwrap.dedent(block) for block in re.findall(r"```bash\n(.*?)```", text, re.S)]
    # Print a marker after each block so every step's answer can be checked on its own.
    steps = [f"{block}\necho; echo '--- step {n} ---'" for n, block in enumerate(blocks, 1)]
    return "set -euo pipefail\n" + "\n".join(steps).replace(DEMO_URL, base_url)


def test_quick_start_steps_work_as_written(demo_panel, tmp_path):
    if shutil.which("curl") is None:
        pytest.skip("needs curl, as the guide does")

    run = subprocess.run(
        ["bash", "-c", quick_start_script(demo_panel)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert run.returncode == 0, run.stderr
    outputs = [part.strip() for part in re.split(r"--- step \d+ ---", run.stdout)]
    login, _, reads, purchase, validation, match = outputs[:6]
    player_id = json.loads(login)["player"]["id"]
    assert '"gold":500' in reads
    assert json.loads(purchase)["status"] == "completed"
    assert json.loads(validation)["player_id"] == player_id
    assert json.loads(match)["players"][0]["player_id"] == player_id
