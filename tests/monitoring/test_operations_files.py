"""The example alert rules and Grafana dashboard in docs/operations/ name only metrics a scrape
really exposes, and are well-formed."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
OPERATIONS = ROOT / "docs" / "operations"
METRIC = re.compile(r"\bgp_[a-z_]+\b")

pytestmark = pytest.mark.django_db


def exposed(scrape_text: str) -> set[str]:
    """Every series name a scrape can carry: each family's name, with a histogram's suffixes."""
    names = set()
    for name, kind in re.findall(r"^# TYPE (\S+) (\S+)$", scrape_text, flags=re.MULTILINE):
        names.add(name)
        if kind == "histogram":
            names |= {f"{name}_bucket", f"{name}_count", f"{name}_sum"}
    return names


def alert_rules() -> list[dict]:
    document = yaml.safe_load((OPERATIONS / "prometheus-alerts.yml").read_text())
    return [rule for group in document["groups"] for rule in group["rules"]]


def dashboard_expressions() -> list[str]:
    dashboard = json.loads((OPERATIONS / "grafana-dashboard.json").read_text())
    return [target["expr"] for panel in dashboard["panels"] for target in panel["targets"]]


@pytest.mark.redis  # the queue's length is scraped from the Redis broker
def test_alerts_and_dashboard_name_only_exposed_metrics(scrape, game):
    names = exposed(scrape())
    assert "gp_logins_total" in names and "gp_celery_queue_length" in names

    used = {name for rule in alert_rules() for name in METRIC.findall(rule["expr"])}
    used |= {name for expr in dashboard_expressions() for name in METRIC.findall(expr)}

    assert sorted(used - names) == []
    assert len(used) >= 12


def test_alert_rules_cover_what_the_issue_asks_and_are_complete():
    rules = {rule["alert"]: rule for rule in alert_rules()}

    for name in ("PurchaseStuckPending", "LoginFailuresHigh", "QueueGrowing"):
        assert f"GamingPanel{name}" in rules
    for rule in rules.values():
        assert rule["expr"].strip()
        assert rule["labels"]["severity"] in {"critical", "warning", "info"}
        assert rule["annotations"]["summary"]
        assert rule["expr"].count("(") == rule["expr"].count(")")


def test_the_dashboard_imports_with_a_datasource_input():
    dashboard = json.loads((OPERATIONS / "grafana-dashboard.json").read_text())

    assert dashboard["__inputs"][0]["pluginId"] == "prometheus"
    ids = [panel["id"] for panel in dashboard["panels"]]
    assert len(ids) == len(set(ids))
    assert all(panel["targets"] for panel in dashboard["panels"])
