"""Every metric the Grafana dashboard and the alert rules read is one a running
kiosk really serves: a kiosk is built by the composition root (simulated
devices, the sandbox HIS, the BHXH gateway simulator), its /metrics endpoint
started as `kiosk run` starts it, and it works — devices start, patients
check in online and offline, the outbox delivers, a ticket prints, insurance
cards are checked, a check-in fails — then /metrics is scraped over HTTP."""
from __future__ import annotations

import json
import re
import shutil
import subprocess
import time
import uuid

import pytest
import requests
import yaml
from prometheus_client.parser import text_string_to_metric_families

from app.compose import build_insurance_gateway, build_kiosk
from app.metrics_http import start_metrics_server
from app.sandbox import GatewaySimulator, SandboxHis
from kiosk.demo_data import demo_people, person_identity
from kiosk.domain import CheckInRequest
from kiosk.errors import KioskError
from kiosk.operations import metrics
from kiosk.operations.admin_pin import PinGate
from kiosk.operations.build_info import config_hash, software_version
from tests.helpers import free_port, make_config
from tests.insurance.support import holder
from tests.monitoring.promql import (
    DASHBOARD,
    ROOT,
    dashboard_expressions,
    metric_names,
    rule_expressions,
    without_grafana_variables,
)

pytestmark = pytest.mark.integration
FROM_PROMETHEUS = {"up"}  # made by Prometheus for each scrape, not by the kiosk
FAST = {"go_offline_after_s": 1.0, "probe_interval_s": 0.2, "retry_base_s": 0.02, "retry_max_s": 0.2}


def wait_for(predicate, timeout=10.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()


@pytest.fixture(scope="module")
def scrape(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("fleet")
    with SandboxHis(port=0) as sandbox, GatewaySimulator() as gateway:
        config = make_config(sandbox.base_url, kiosk={"data_dir": str(tmp), "id": "KIOSK-07"},
                             metrics={"enabled": True, "port": free_port()}, offline=FAST,
                             insurance=gateway.insurance_settings(tmp, timeout_s=3.0))
        metrics.REGISTRY.clear()  # only what this kiosk fills from here on
        server = start_metrics_server(config)
        services = build_kiosk(config, with_devices=True, background=False)
        PinGate(config.admin, state_file=tmp / "admin-pin-state.json")  # the admin screen's, made at start
        insurance = build_insurance_gateway(config)
        try:
            services.card_reader.start(lambda event: None)
            services.scanner.start(lambda code: None, lambda event: None)
            assert wait_for(lambda: metrics.REGISTRY.value("kiosk_device_up", device="camera") == 1)
            adults = [p for p in demo_people() if not p.get("appointment") and p["birth_date"] < "2010"]
            online = services.checkin.check_in(CheckInRequest(
                checkin_id=str(uuid.uuid4()), identity=person_identity(adults[0]), department_code="NOI"))
            services.printer.print_ticket(online.ticket)
            services.outbox.prober.refresh_reference(force=True)
            services.connectivity.report_unavailable("test: HIS down")
            offline = services.checkin.check_in(CheckInRequest(
                checkin_id=str(uuid.uuid4()), identity=person_identity(adults[1]), department_code="MAT"))
            assert offline.mode == "offline"
            services.connectivity.report_ok("test: HIS back")
            assert services.outbox.sender.sync_now().delivered == 1
            with pytest.raises(KioskError):
                services.checkin.check_in(CheckInRequest(checkin_id=str(uuid.uuid4()),
                                                         identity=person_identity(adults[0]), department_code="XYZ"))
            assert insurance.check(*holder("000")).about_card
            gateway.mode(down=True)
            assert not insurance.check(*holder("010")).about_card
            text = requests.get(server.url, timeout=5).text
        finally:
            insurance.close()
            services.close()
            server.stop()
    return config, {s.name: s for family in text_string_to_metric_families(text) for s in family.samples}, text


def test_every_metric_the_dashboard_and_the_rules_read_is_served(scrape):
    _, samples, _ = scrape
    used = {}
    for where, expr in {**dashboard_expressions(), **{f"rule {k}": v for k, v in rule_expressions().items()}}.items():
        for name in metric_names(expr):
            used.setdefault(name, []).append(where)
    missing = {name: places for name, places in used.items() if name not in samples and name not in FROM_PROMETHEUS}
    assert missing == {}
    assert len(used) >= 15  # the check looked at real expressions
    assert {"kiosk_device_up", "kiosk_info", "kiosk_insurance_gateway_failures_total"} <= set(used)


def test_what_the_running_kiosk_reported(scrape):
    config, samples, text = scrape
    values = {(s.name, tuple(sorted(s.labels.items()))): s.value for s in samples.values()}
    info = samples["kiosk_info"].labels
    assert info == {"kiosk": "KIOSK-07", "version": software_version(), "config_hash": config_hash(config)}
    devices = {s.labels["device"]: s.value for family in text_string_to_metric_families(text)
               for s in family.samples if s.name == "kiosk_device_up"}
    assert devices == {"printer": 1.0, "card_reader": 1.0, "camera": 1.0}
    assert values[("kiosk_printer_paper", ())] == 2 and values[("kiosk_online", ())] == 1
    assert values[("kiosk_outbox_backlog", ())] == 0 and values[("kiosk_outbox_dead", ())] == 0
    families = {f.name: f for f in text_string_to_metric_families(text)}
    checkins = {s.labels["mode"]: s.value for s in families["kiosk_checkins"].samples}
    assert checkins == {"online": 1.0, "offline": 1.0}
    failures = {s.labels["status"]: s.value for s in families["kiosk_insurance_gateway_failures"].samples}
    assert failures == {"unavailable": 1.0}
    assert values[("kiosk_print_failures_total", ())] == 0  # served at 0 from the start


def test_every_dashboard_expression_is_valid_promql(tmp_path):
    """promtool parses each panel's query (as a recording rule, Grafana's variables filled in)."""
    exprs = dashboard_expressions()
    rules = {"groups": [{"name": "dashboard", "rules": [
        {"record": f"dashboard:expr_{i}", "expr": without_grafana_variables(e)}
        for i, e in enumerate(v for k, v in exprs.items() if not k.startswith("variable"))]}]}
    path = tmp_path / "dashboard-exprs.yml"
    path.write_text(yaml.safe_dump(rules, allow_unicode=True), encoding="utf-8")
    promtool = shutil.which("promtool")
    assert promtool, "promtool is missing: make install"
    r = subprocess.run([promtool, "check", "rules", str(path)], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr


def test_the_dashboard_is_complete_and_provisioned():
    dash = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    ids = [p["id"] for p in dash["panels"]]
    assert len(ids) == len(set(ids)) and len(ids) >= 15
    assert all(p["datasource"] == {"type": "prometheus", "uid": "${datasource}"} for p in dash["panels"])
    assert all(p["targets"] and all(t["expr"] for t in p["targets"]) for p in dash["panels"])
    for p in dash["panels"]:  # no overlapping panels on the 24-column grid
        g = p["gridPos"]
        assert g["x"] + g["w"] <= 24
    cells = [(x, y) for p in dash["panels"] for x in range(p["gridPos"]["x"], p["gridPos"]["x"] + p["gridPos"]["w"])
             for y in range(p["gridPos"]["y"], p["gridPos"]["y"] + p["gridPos"]["h"])]
    assert len(cells) == len(set(cells))
    titles = " ".join(p["title"] for p in dash["panels"])
    for topic in ("Lượt đăng ký", "chế độ", "Giấy in", "Hàng chờ", "HIS", "Phiên bản", "Thiết bị"):
        assert re.search(topic, titles, re.I), topic
    provider = yaml.safe_load((ROOT / "deploy" / "grafana" / "provisioning" / "dashboards" / "kiosk.yaml").read_text())
    assert provider["providers"][0]["type"] == "file" and provider["providers"][0]["options"]["path"]
