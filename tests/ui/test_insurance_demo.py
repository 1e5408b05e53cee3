"""The demo's BHYT part: `kiosk demo` configures [insurance] for the gateway
simulator it starts, and the operator panel switches the simulator down, slow
and back through DemoControls (app.demo_controls.SimulatorControls)."""
from __future__ import annotations

import argparse
import stat
from pathlib import Path

import pytest
from PySide6.QtWidgets import QLabel, QPushButton

from app.cli.ui_cmd import _demo_config
from app.demo_controls import SimulatorControls
from app.sandbox import GatewaySimulator
from kiosk.demo_data import demo_person, person_identity
from ui.operator_panel import OperatorPanel

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def gateway():
    with GatewaySimulator(port=0) as sim:
        yield sim


def test_kiosk_demo_points_insurance_at_the_simulator_it_started(gateway, tmp_path):
    args = argparse.Namespace(config=None, camera="simulator", on_invalid="fee")
    config = _demo_config(args, "http://127.0.0.1:9/fhir/R4", str(tmp_path), gateway)
    ins = config.insurance
    assert (ins.gateway, ins.base_url, ins.facility_code, ins.on_invalid) == (
        "simulator", gateway.base_url, "27001", "fee")
    assert ins.timeout_s == 5.0  # the demo's patient does not wait the production default
    assert stat.S_IMODE(Path(ins.password_file).stat().st_mode) == 0o600
    args.on_invalid = None
    demo = _demo_config(args, "http://127.0.0.1:9/fhir/R4", str(tmp_path), gateway).insurance
    assert demo.on_invalid == "" and demo.policy()["no_card"] == "fee"  # the defaults of [insurance.outcomes]


def test_the_operator_panel_takes_the_gateway_down_slow_and_back(qtbot, gateway, kiosk_config, tmp_path):
    from app.compose import build_kiosk
    from kiosk.config.loader import config_from_dict
    from ui.app import make_kiosk

    config = config_from_dict({"his": {"base_url": kiosk_config.his.base_url},
                               "kiosk": {"data_dir": str(tmp_path / "data")},
                               "card_reader": {"driver": "simulator"}, "camera": {"driver": "simulator"},
                               "printer": {"driver": "simulator"},
                               "insurance": gateway.insurance_settings(tmp_path, timeout_s=1.0, recheck_after_s=0)})
    services = build_kiosk(config, with_devices=False, background=False)
    controller, window = make_kiosk(services, config)
    try:
        controls = SimulatorControls(services, None, gateway)
        assert controls.simulates("gateway") and not controls.simulates("his")
        panel = OperatorPanel(controller, controls)
        qtbot.addWidget(panel)
        buttons = {b.text(): b for b in panel.findChildren(QPushButton)}
        texts = [label.text() for label in panel.findChildren(QLabel)]
        # both policies a newcomer can try: huong (no card) -> fee; the gateway down -> checked later
        assert any(t.startswith("huong") and "no BHYT card → offered a fee-paying visit" in t for t in texts), texts
        assert any(t.startswith("nhung") and "BHYT expired → offered a fee-paying visit" in t for t in texts)
        [policy] = [label.text() for label in panel.findChildren(QLabel, "bhyt_policy")]
        assert "gateway down or slow → checked in, card checked later" in policy and "no_card → fee" in policy
        an = person_identity(demo_person("an"))

        def ask():
            return services.insurance.check(an.citizen_id, an.full_name, an.birth_date)

        buttons["BHXH gateway down"].click()
        down = ask()
        assert down.status.value == "unavailable" and "HTTP 503" in down.staff_reason
        buttons["BHXH gateway slow"].click()  # answers after the timeout: the adapter gives up
        slow = ask()
        assert slow.status.value == "unavailable" and "insurance.timeout_s" in slow.staff_reason
        buttons["BHXH gateway back"].click()
        assert ask().status.value == "valid"
        with pytest.raises(ValueError):
            controls.set_gateway("sideways")
    finally:
        gateway.mode()
        controller.stop()
        services.close()


def test_the_demo_s_on_invalid_flag_sets_every_invalid_card_outcome_over_the_config_s_table(gateway, tmp_path):
    cfg = tmp_path / "kiosk.toml"
    cfg.write_text('[insurance.outcomes]\nno_card = "fee"\nunavailable = "counter"\n', encoding="utf-8")
    args = argparse.Namespace(config=str(cfg), camera="simulator", on_invalid="counter")
    policy = _demo_config(args, "http://127.0.0.1:9/fhir/R4", str(tmp_path), gateway).insurance.policy()
    assert policy["no_card"] == policy["expired"] == "counter"  # the flag
    assert policy["unavailable"] == "counter" and policy["other_facility"] == "insured"  # the table, the default
