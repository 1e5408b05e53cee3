"""Old slips carry the hospital patient code as a Code 128 barcode: the cascade
reads it beside QR codes, the simulated camera shows one, and the patient code
pattern tells it from other codes."""
from __future__ import annotations

import time

import numpy as np

from devices.camera.cascade import Cascade
from devices.camera.decoders import ZbarDecoder, ZxingDecoder
from devices.camera.simulator import SimulatedScanner
from devices.camera.synthetic import barcode_image, render_slip_frame
from kiosk.config.loader import CameraSection
from kiosk.identity.qr_payload import PatientCodeQr, parse_qr


def test_the_cascade_reads_a_code_128_slip_held_to_the_camera():
    cascade = Cascade()
    rng = np.random.default_rng(3)
    for size in ((640, 480), (1280, 720)):
        for angle in (-4.0, 0.0, 3.0):
            frame = render_slip_frame("BN-005555", size, rng, angle_deg=angle)
            assert [d.text for d in cascade.decode(frame)] == ["BN-005555"], (size, angle)
    cascade.close()


def test_both_decoders_read_code_128():
    grey = np.pad(barcode_image("BN-012345", module_px=3), 40, constant_values=255)
    assert [d.text for d in ZxingDecoder().decode(grey)] == ["BN-012345"]
    zbar = ZbarDecoder()
    assert [d.text for d in zbar.decode(grey)] == ["BN-012345"]
    zbar.close()


def test_the_simulated_camera_reports_the_slip_once_as_text():
    scanner = SimulatedScanner(repeat_after_s=2.0)
    codes: list[str] = []
    scanner.start(codes.append, lambda _e: None)
    try:
        scanner.show_slip("BN-004321", seconds=0.8)
        deadline = time.monotonic() + 10
        while not codes and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.9)
    finally:
        scanner.stop()
    assert codes == ["BN-004321"]


def test_the_pattern_tells_a_patient_code_from_an_appointment_or_other_code():
    cam = CameraSection()
    assert parse_qr("BN-004321", cam.appointment_pattern, patient_code_pattern=cam.patient_code_pattern) == \
        PatientCodeQr("BN-004321")
    assert parse_qr("LH2611254321", cam.appointment_pattern,
                    patient_code_pattern=cam.patient_code_pattern).kind == "appointment"
