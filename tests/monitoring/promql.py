"""The metric names a PromQL expression (an alert rule's, a dashboard panel's) reads."""
from __future__ import annotations

import json
import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "deploy" / "prometheus" / "kiosk-alerts.yml"
DASHBOARD = ROOT / "deploy" / "grafana" / "kiosk-fleet.json"

KEYWORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "and", "or", "unless", "bool", "offset",
            "inf", "nan"}
GRAFANA = {"$__range": "1h", "$__rate_interval": "5m", "$__interval": "1m", "$instance": ".*"}


def without_grafana_variables(expr: str) -> str:
    for var, value in GRAFANA.items():
        expr = expr.replace(var, value)
    return expr


def metric_names(expr: str) -> set[str]:
    """Identifiers that are series selectors: not functions, keywords, label
    names (inside {…} or a by/on/… clause), durations or strings."""
    text = without_grafana_variables(expr)
    text = re.sub(r'"(?:[^"\\]|\\.)*"', '""', text)  # strings
    text = re.sub(r"\{[^}]*\}", "", text)  # label matchers
    text = re.sub(r"\[[^\]]*\]", "", text)  # ranges
    text = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", text)
    names = set()
    for m in re.finditer(r"[A-Za-z_:][A-Za-z0-9_:]*", text):
        word, rest = m.group(0), text[m.end():]
        if word.lower() in KEYWORDS or rest.lstrip().startswith("("):
            continue
        if m.start() and (text[m.start() - 1].isdigit() or text[m.start() - 1] == "."):
            continue  # 1e3, 0.5
        names.add(word)
    return names


def rule_expressions() -> dict[str, str]:
    doc = yaml.safe_load(RULES.read_text(encoding="utf-8"))
    return {r["alert"]: r["expr"] for g in doc["groups"] for r in g["rules"]}


def dashboard_expressions() -> dict[str, str]:
    dash = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    out = {}
    for panel in dash["panels"]:
        for target in panel.get("targets", []):
            out[f"{panel['title']} [{target['refId']}]"] = target["expr"]
    for var in dash["templating"]["list"]:
        if var["type"] == "query":
            out[f"variable {var['name']}"] = var["definition"].replace("label_values(", "").split(",")[0]
    return out
