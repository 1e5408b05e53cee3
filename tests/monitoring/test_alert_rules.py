"""The alert rules (deploy/prometheus) with Debian's promtool: valid, every rule
unit-tested firing and not firing, the example Prometheus config valid.
promtool is only a program here: no Prometheus service is started or needed."""
from __future__ import annotations

import re
import shutil
import subprocess

import pytest
import yaml

from tests.monitoring.promql import ROOT, RULES, metric_names, rule_expressions

PROMTOOL = shutil.which("promtool")
TESTS = RULES.with_name("kiosk-alerts.test.yml")
VIETNAMESE = re.compile(r"[ăâđêôơưạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹáàãéèíìóòõúùý]", re.I)


def promtool(*args: str) -> subprocess.CompletedProcess:
    assert PROMTOOL, "promtool is missing: make install (APT_PACKAGES has prometheus)"
    return subprocess.run([PROMTOOL, *args], cwd=ROOT, capture_output=True, text=True, timeout=120)


def test_promtool_checks_the_rules():
    r = promtool("check", "rules", str(RULES))
    assert r.returncode == 0, r.stdout + r.stderr
    assert "SUCCESS: 17 rules found" in r.stdout


def test_promtool_runs_the_unit_tests_of_every_rule():
    r = promtool("test", "rules", str(TESTS))
    assert r.returncode == 0 and "SUCCESS" in r.stdout, r.stdout + r.stderr


def test_every_alert_is_tested_firing_and_not_firing():
    cases = yaml.safe_load(TESTS.read_text(encoding="utf-8"))["tests"]
    fired, quiet = set(), set()
    for case in cases:
        for check in case["alert_rule_test"]:
            (fired if check["exp_alerts"] else quiet).add(check["alertname"])
    alerts = set(rule_expressions())
    assert alerts == fired == quiet


def test_the_unit_tests_would_catch_a_broken_rule(tmp_path):
    """Make one rule never fire: promtool test must fail (the tests test something)."""
    broken = RULES.read_text(encoding="utf-8").replace("expr: kiosk_printer_paper == 0",
                                                       "expr: kiosk_printer_paper == 42")
    (tmp_path / "kiosk-alerts.yml").write_text(broken, encoding="utf-8")
    shutil.copy(TESTS, tmp_path / TESTS.name)
    r = promtool("test", "rules", str(tmp_path / TESTS.name))
    assert r.returncode != 0 and "KioskPrinterPaperOut" in r.stdout + r.stderr


@pytest.mark.parametrize("group_rule", [(g["name"], r) for g in yaml.safe_load(RULES.read_text(encoding="utf-8"))["groups"]
                                        for r in g["rules"]], ids=lambda gr: gr[1]["alert"])
def test_each_rule_has_severity_a_duration_a_vietnamese_summary_and_the_fix(group_rule):
    _, rule = group_rule
    assert rule["labels"]["severity"] in ("critical", "warning")
    assert re.fullmatch(r"\d+m", rule["for"])
    assert VIETNAMESE.search(rule["annotations"]["summary"])
    description = rule["annotations"]["description"]
    assert description.startswith("VI: ") and " EN: " in description and VIETNAMESE.search(description)


def test_the_example_prometheus_config_is_valid_and_loads_the_rules():
    r = promtool("check", "config", str(ROOT / "deploy" / "prometheus" / "prometheus.yml"))
    assert r.returncode == 0, r.stdout + r.stderr
    assert "SUCCESS: 17 rules found" in r.stdout


def test_metric_names_are_read_from_expressions():
    assert metric_names('sum without (status) (increase(kiosk_x_total{status="a"}[15m])) >= 3') == {"kiosk_x_total"}
    assert metric_names("a > 0 and delta(b[15m]) > 0 and c == 1") == {"a", "b", "c"}
    assert metric_names('histogram_quantile(0.95, sum by (le, instance) (rate(h_bucket{instance=~"$instance"}'
                        '[$__rate_interval])))') == {"h_bucket"}
    assert metric_names('absent(up{job="kiosk"})') == {"up"}
    assert metric_names("time() - t_seconds") == {"t_seconds"}
