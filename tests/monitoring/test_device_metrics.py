"""kiosk_device_up{device}: the devices report through kiosk.operations.metrics — the
simulated card reader and camera run the same reporting code as the real
ones (QrScanLoop, the simulator's events), the printer's status sets it."""
from __future__ import annotations

import time

from devices.card.simulator import SimulatedCardReader
from kiosk.operations import metrics
from kiosk.ports import DEVICE_MISSING, DEVICE_READY


def up(device):
    return metrics.REGISTRY.value("kiosk_device_up", device=device)


def wait_for(predicate, timeout=5.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()


def test_card_reader_unplugged_and_plugged_in():
    events = []
    reader = SimulatedCardReader()
    reader.start(events.append)
    try:
        assert up("card_reader") == 1
        reader.unplug()
        assert up("card_reader") == 0 and DEVICE_MISSING in events
        reader.plug_in()
        assert up("card_reader") == 1 and events[-1] == DEVICE_READY
    finally:
        reader.stop()


def test_camera_without_frames_is_down_then_back():
    from app.compose import build_scanner
    from tests.helpers import make_config

    scanner = build_scanner(make_config(camera={"driver": "simulator", "frame_timeout_s": 0.3}))
    events = []
    scanner.start(lambda code: None, events.append)
    try:
        assert wait_for(lambda: up("camera") == 1)
        scanner.unplug(1.5)
        assert wait_for(lambda: up("camera") == 0) and DEVICE_MISSING in events
        assert wait_for(lambda: up("camera") == 1)
    finally:
        scanner.stop()


def test_printer_status_sets_paper_and_up():
    from app.compose import build_printer
    from tests.helpers import make_config

    printer = build_printer(make_config(printer={"driver": "simulator"}), keep_tickets=False)
    try:
        for state, paper, device_up in (("ok", 2, 1), ("paper_low", 1, 1), ("paper_out", 0, 1), ("offline", -1, 0),
                                        ("ok", 2, 1)):
            printer.set_state(state)
            assert printer.status() == state
            assert (metrics.REGISTRY.value("kiosk_printer_paper"), up("printer")) == (paper, device_up), state
        metrics.set_paper_state("unknown")  # a printer that cannot report: its last known up/down stays
        assert (metrics.REGISTRY.value("kiosk_printer_paper"), up("printer")) == (-1, 1)
    finally:
        printer.close()
