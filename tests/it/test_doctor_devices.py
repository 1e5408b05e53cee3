"""`kiosk doctor --json` against real components: pcscd + vpcd with the virtual
CCCD card, the loopback ESC/POS network printer, the sandbox HIS, a camera
source (a video file: the same capture code as a webcam), and the local
database after `kiosk sync`. All OK first; then each piece stopped in turn
gives its matching FAIL and a non-zero exit.

pcscd on this machine may be shared with other test runs, so "PC/SC service
stopped" is produced from the client's side: ``PCSCLITE_CSOCK_NAME`` points
libpcsclite at a socket where no daemon listens, exactly what a kiosk sees when
pcscd is not running.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from app.admin_tools import admin_tools
from app.sandbox import SandboxHis
from kiosk.config.loader import HisSection
from kiosk.config.writer import update_config
from kiosk.operations.admin_pin import hash_pin
from tests.card.virtual_reader import VPCD_READER, running_virtual_card
from tests.printer.tcp_printer import FakeTcpPrinter

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]


def write_video(path: Path, frames: int = 30) -> Path:
    import cv2
    import numpy as np

    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 15.0, (640, 480))
    for i in range(frames):
        image = np.full((480, 640, 3), 255, np.uint8)
        cv2.putText(image, f"frame {i}", (40, 240), cv2.FONT_HERSHEY_SIMPLEX, 2, (0, 0, 0), 3)
        writer.write(image)
    writer.release()
    return path


NAMESPACE = "https://fhir.benhvien-demo.vn/kiosk"


class Rig:
    def __init__(self, tmp: Path, card, printer: FakeTcpPrinter, sandbox: SandboxHis):
        self.tmp, self.card, self.printer, self.sandbox = tmp, card, printer, sandbox
        self.video = write_video(tmp / "camera.avi")
        self.config = tmp / "kiosk.toml"
        update_config(self.config, {
            "kiosk.id": "KIOSK-07", "kiosk.data_dir": str(tmp / "data"),
            "admin.pin_hash": hash_pin("730518"),
            "his.base_url": sandbox.base_url, "his.kiosk_namespace": NAMESPACE,  # the hospital's own
            "card_reader.driver": "pcsc", "card_reader.reader": VPCD_READER,
            "card_reader.trust_store": str(card.csca_dir),
            "camera.driver": "opencv", "camera.source": str(self.video), "camera.width": 640,
            "camera.height": 480,
            "printer.driver": "escpos", "printer.connection": printer.connection, "printer.profile": "TM-T20II",
            "printer.timeout_s": 3.0,
        })
        (tmp / "data").mkdir()
        sync = self.kiosk("sync", "--config", str(self.config), "--json")
        assert sync.returncode == 0, sync.stderr  # creates the database and caches the departments

    def kiosk(self, *args, env=None) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "app", *args], cwd=ROOT, capture_output=True, text=True,
                              timeout=120, env={**os.environ, **(env or {})})

    def doctor(self, *extra, env=None) -> tuple[int, dict]:
        out = self.kiosk("doctor", "--config", str(self.config), "--json", "--timeout", "20", *extra, env=env)
        return out.returncode, json.loads(out.stdout)


def statuses(report: dict, status: str) -> dict[str, dict]:
    return {c["name"]: c for c in report["checks"] if c["status"] == status}


@pytest.fixture(scope="module")
def rig(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("doctor-rig")
    sandbox = SandboxHis(port=0, his=HisSection(kiosk_namespace=NAMESPACE)).start()
    try:
        with FakeTcpPrinter() as printer, running_virtual_card("an", csca_dir=tmp / "csca") as card:
            yield Rig(tmp, card, printer, sandbox)
    finally:
        sandbox.stop()


def test_everything_attached_is_all_ok_with_a_test_print(rig):
    code, report = rig.doctor("--test-print")
    not_ok = {c["name"]: f'{c["status"]}: {c["detail"]}' for c in report["checks"] if c["status"] != "OK"}
    # The one thing this test machine cannot attach is a sound card for spoken guidance: said, as a warning.
    if Path("/dev/snd").exists() is False or not any(Path("/dev/snd").glob("pcm*")):
        assert not_ok.pop("speech.output", "").startswith("WARN: no audio device")
    assert not_ok == {} and code == 0 and report["ok"] is True
    names = {c["name"]: c for c in report["checks"]}
    assert "card on it" in names["card_reader.reader"]["detail"]
    assert "frames/s at 640×480" in names["camera.frames"]["detail"]
    assert names["his.capability"]["status"] == "OK" and names["printer.test_print"]["status"] == "OK"
    assert rig.printer.wait_for(lambda fake: len(fake.images()) >= 1, timeout=10)
    for name in ("outbox.backlog", "outbox.reference_cache", "database", "disk.space"):
        assert names[name]["status"] == "OK"


def test_card_lifted_is_reported_without_a_failure(rig):
    rig.card.remove()
    try:
        code, report = rig.doctor()
        reader = next(c for c in report["checks"] if c["name"] == "card_reader.reader")
        assert reader["status"] == "OK" and "no card" in reader["detail"] and code == 0
    finally:
        rig.card.insert()


def test_pcsc_service_stopped_is_a_fail(rig, tmp_path):
    code, report = rig.doctor(env={"PCSCLITE_CSOCK_NAME": str(tmp_path / "no-pcscd.comm")})
    fails = statuses(report, "FAIL")
    assert code == 1 and set(fails) == {"card_reader.pcscd"}
    assert "systemctl enable --now pcscd" in fails["card_reader.pcscd"]["fix"]


def test_printer_switched_off_is_a_fail(rig):
    port = int(rig.printer.connection.rsplit(":", 1)[1])
    rig.printer.stop()
    try:
        code, report = rig.doctor()
        fails = statuses(report, "FAIL")
        assert code == 1 and set(fails) == {"printer.status"}
        assert "printer.connection" in fails["printer.status"]["fix"]
    finally:
        rig.printer = FakeTcpPrinter(port=port).start()


def test_printer_out_of_paper_is_a_fail(rig):
    rig.printer.set_state("paper_out")
    try:
        code, report = rig.doctor()
        fails = statuses(report, "FAIL")
        assert code == 1 and set(fails) == {"printer.status"} and "paper" in fails["printer.status"]["detail"]
    finally:
        rig.printer.set_state("ok")


def test_camera_unplugged_is_a_fail(rig):
    hidden = rig.video.with_suffix(".gone")
    rig.video.rename(hidden)
    try:
        code, report = rig.doctor()
        fails = statuses(report, "FAIL")
        assert code == 1 and set(fails) == {"camera.frames"}
        assert "camera.source" in fails["camera.frames"]["fix"]
    finally:
        hidden.rename(rig.video)


def test_his_stopped_is_a_fail(rig):
    rig.sandbox.stop()
    code, report = rig.doctor()
    fails = statuses(report, "FAIL")
    assert code == 1 and set(fails) == {"his.reachable"}
    assert "cannot connect" in fails["his.reachable"]["detail"]


def test_admin_screen_test_card_read_on_the_virtual_card(rig, qtbot):
    """The admin's test card read goes through the real PC/SC reader; only
    the masked ID is shown, and the CAN field is emptied."""
    from PySide6.QtCore import Qt

    from kiosk.config.loader import load_config
    from ui.admin import AdminScreen

    config = load_config(rig.config)
    screen = AdminScreen(config, rig.config, tools=admin_tools(config, None))
    qtbot.addWidget(screen)
    for digit in "2468":
        screen.pin_page.press(digit)
    screen.pin_page.press("ok")
    tab = screen.devices_tab
    try:
        for can, ok in (("000000", False), (rig.card.can, True)):
            tab.can.setText(can)
            qtbot.mouseClick(tab.card_button, Qt.MouseButton.LeftButton)
            assert tab.can.text() == ""
            qtbot.waitUntil(lambda: tab.card_button.isEnabled() and screen.runner.busy() == 0, timeout=60000)
            assert (tab.message.property("ok") == "true") is ok, tab.message.text()
        shown = tab.message.text()
        assert "********" + rig.card.citizen_id[-4:] in shown and "chip_verified" in shown
        assert rig.card.citizen_id not in shown and rig.card.person["full_name"] not in shown
    finally:
        screen.runner.shutdown()


def test_admin_detects_the_pcsc_reader_and_saves_the_choice(rig, qtbot):
    from PySide6.QtCore import Qt

    from kiosk.config.loader import load_config
    from ui.admin import AdminScreen

    update_config(rig.config, {"card_reader.reader": ""})
    screen = AdminScreen(load_config(rig.config), rig.config, tools=admin_tools(load_config(rig.config), None))
    qtbot.addWidget(screen)
    tab = screen.devices_tab
    try:
        qtbot.mouseClick(tab.detect_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: tab.reader.findText(VPCD_READER) >= 0, timeout=30000)
        tab.reader.setCurrentIndex(tab.reader.findText(VPCD_READER))
        with qtbot.waitSignal(screen.config_changed, timeout=30000):
            qtbot.mouseClick(tab.save_button, Qt.MouseButton.LeftButton)
        saved = load_config(rig.config).card_reader
        assert saved.driver == "pcsc" and saved.reader == VPCD_READER
    finally:
        screen.runner.shutdown()
