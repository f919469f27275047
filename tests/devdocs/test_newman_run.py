"""The generated Postman collection, run by newman against a live demo panel."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from apps.devdocs.management.commands.export_postman import (
    COLLECTION_FILE,
    ENVIRONMENT_FILE,
    POSTMAN_DIR,
)

ROOT = Path(__file__).resolve().parents[2]


def test_postman_collection_passes_every_check_against_the_demo(demo_panel, node, tmp_path):
    report = tmp_path / "newman.json"
    run = subprocess.run(
        [
            str(ROOT / "scripts" / "newman.sh"),
            "run",
            str(POSTMAN_DIR / COLLECTION_FILE),
            "--environment",
            str(POSTMAN_DIR / ENVIRONMENT_FILE),
            "--env-var",
            f"base_url={demo_panel}",
            "--reporters",
            "cli,json",
            "--reporter-json-export",
            str(report),
            "--timeout-request",
            "15000",
            "--color",
            "off",
        ],
        capture_output=True,
        text=True,
        timeout=240,
    )

    assert report.exists(), f"newman did not run:\n{run.stdout[-3000:]}\n{run.stderr[-3000:]}"
    summary = json.loads(report.read_text())["run"]
    failures = [
        f"{failure['source'].get('name', '?')}: {failure['error'].get('test') or ''} "
        f"{failure['error'].get('message', '')}"
        for failure in summary["failures"]
    ]
    assert failures == [], "\n".join(failures)
    collection = json.loads((POSTMAN_DIR / COLLECTION_FILE).read_text())
    items = {item["name"] for folder in collection["item"] for item in folder["item"]}
    answered = {e["item"]["name"] for e in summary["executions"] if "response" in e}
    assert answered == items  # every request of the collection ran and got an answer
    assert summary["stats"]["assertions"]["total"] >= 4 * len(items)
    assert summary["stats"]["assertions"]["failed"] == 0
    assert run.returncode == 0
