"""The simulated printer behind the same port: scripts, timeouts, the last image."""
from __future__ import annotations

import io
import threading

import pytest
from PIL import Image

from app.compose import build_printer
from devices.printer import SimulatedPrinter
from devices.printer.errors import PrinterOffline, PrinterPaperOut, PrinterTimeout
from devices.printer.samples import sample_ticket
from kiosk.operations.diagnostics import FAIL, OK, WARN
from kiosk.ports import PRINTER_OK, PRINTER_PAPER_LOW, PRINTER_PAPER_OUT, PRINTER_UNKNOWN, Printer
from tests.helpers import make_config
from tests.printer.tcp_printer import join_rasters, parse_all


def diagnose(config):
    """What `kiosk doctor` reports for the printer the config builds."""
    from app.compose import device_checks

    return dict(device_checks(config))["printer"]()



def simulator(tmp_path, **printer) -> SimulatedPrinter:
    config = make_config(printer={"driver": "simulator", **printer}, kiosk={"data_dir": str(tmp_path)})
    built = build_printer(config)
    assert isinstance(built, SimulatedPrinter)
    return built


def test_prints_and_keeps_the_last_image_which_is_the_preview(tmp_path):
    printer: Printer = simulator(tmp_path, dot_width=384, profile="POS-5890")
    shown = []
    printer.on_printed(shown.append)
    ticket = sample_ticket("normal")
    try:
        assert printer.status() == PRINTER_OK
        printer.print_ticket(ticket)
    finally:
        printer.close()
    preview = Image.open(io.BytesIO(printer.preview_png(ticket)))
    assert printer.last_image.tobytes() == preview.tobytes()
    assert Image.open(io.BytesIO(printer.last_png())).tobytes() == preview.tobytes()
    assert shown == [printer.last_image]
    # the simulator's bytes are python-escpos's real encoding of that image
    sent = printer.transport.writes[0]
    assert join_rasters(parse_all(sent))[0].tobytes() == preview.tobytes()
    assert printer.last_bytes == len(sent)


@pytest.mark.parametrize("state,error", [("paper_out", PrinterPaperOut), ("offline", PrinterOffline)])
def test_scripted_failures_raise_typed_errors(tmp_path, state, error):
    printer = simulator(tmp_path, simulator_state=state)
    try:
        assert printer.status() == state
        with pytest.raises(error) as info:
            printer.print_ticket(sample_ticket("normal"))
        assert info.value.ticket_reference == sample_ticket("normal").reference
    finally:
        printer.close()
    assert printer.last_image is None


def test_roll_runs_out_after_some_tickets(tmp_path):
    printer = simulator(tmp_path)
    changes = []
    printer.subscribe(changes.append)
    try:
        printer.set_state(PRINTER_PAPER_LOW, after_tickets=1)
        printer.set_state(PRINTER_PAPER_OUT, after_tickets=3)
        printer.print_ticket(sample_ticket("normal"))  # then near end
        printer.print_ticket(sample_ticket("normal"))
        with pytest.raises(PrinterPaperOut):  # the third runs out while printing
            printer.print_ticket(sample_ticket("normal"))
        with pytest.raises(PrinterPaperOut):  # the fourth is not sent at all
            printer.print_ticket(sample_ticket("normal"))
    finally:
        printer.close()
    assert len(printer.transport.writes) == 3
    assert len(printer.printed_images) == 3
    assert changes == [PRINTER_OK, PRINTER_PAPER_LOW, PRINTER_PAPER_OUT]


def test_a_slow_printer_times_out_and_status_is_unknown(tmp_path):
    printer = simulator(tmp_path, timeout_s=0.2)
    try:
        printer.set_delay(5.0)
        with pytest.raises(PrinterTimeout) as info:
            printer.print_ticket(sample_ticket("normal"))
        assert info.value.patient_message_key == "error.printer_offline"
        assert printer.status() == PRINTER_UNKNOWN  # the thread is still busy: never "ok"
    finally:
        printer.close()  # cuts the simulated delay short


def test_print_calls_run_on_the_printer_thread(tmp_path):
    printer = simulator(tmp_path)
    seen = []
    original = printer.transport.write
    printer.transport.write = lambda data: (seen.append(threading.current_thread().name), original(data))
    try:
        printer.print_ticket(sample_ticket("normal"))
    finally:
        printer.close()
    assert seen == ["printer-device"]


def test_set_state_rejects_unknown_states(tmp_path):
    printer = simulator(tmp_path)
    with pytest.raises(ValueError):
        printer.set_state("jammed")
    printer.close()


@pytest.mark.parametrize("state,level", [("ok", OK), ("paper_low", WARN), ("paper_out", FAIL), ("offline", FAIL)])
def test_diagnose_reports_the_simulated_state(tmp_path, state, level):
    config = make_config(printer={"driver": "simulator", "simulator_state": state},
                         kiosk={"data_dir": str(tmp_path)})
    checks = {c.name: c for c in diagnose(config)}
    assert checks["printer.status"].status == level
    assert checks["printer.connection"].status == WARN  # simulated: no paper tickets


def test_diagnose_none_driver_and_bad_profile(tmp_path):
    none = diagnose(make_config(printer={"driver": "none"}))
    assert [(c.status, c.detail) for c in none] == [(OK, 'not used (printer.driver = "none")')]
    bad = {c.name: c for c in diagnose(make_config(printer={"driver": "simulator", "profile": "NO-SUCH"},
                                                   kiosk={"data_dir": str(tmp_path)}))}
    assert bad["printer"].status == FAIL
    assert "printer.profile" in bad["printer"].detail
    narrow = {c.name: c for c in diagnose(make_config(printer={"driver": "simulator", "profile": "POS-5890",
                                                               "dot_width": 576},
                                                      kiosk={"data_dir": str(tmp_path)}))}
    assert narrow["printer"].status == FAIL
    assert "printer.dot_width" in narrow["printer"].detail



def test_print_failures_and_paper_state_reach_the_fleet_metrics(tmp_path):
    from kiosk.operations import metrics

    printer = simulator(tmp_path, simulator_state="paper_low")
    before = metrics.REGISTRY.value("kiosk_print_failures_total") or 0
    try:
        printer.print_ticket(sample_ticket("normal"))
        assert metrics.REGISTRY.value("kiosk_printer_paper") == 1
        printer.set_state("paper_out")
        with pytest.raises(PrinterPaperOut):
            printer.print_ticket(sample_ticket("normal"))
    finally:
        printer.close()
    assert metrics.REGISTRY.value("kiosk_printer_paper") == 0
    assert metrics.REGISTRY.value("kiosk_print_failures_total") == before + 1
