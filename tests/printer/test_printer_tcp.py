"""The real python-escpos network path against a fake printer on a loopback socket:
the raster that arrives is the preview, pixel for pixel; status before and
after each ticket; paper out, paper low, offline, silence and hang-ups."""
from __future__ import annotations

import io
import logging
import socket

import pytest
import zxingcpp
from PIL import Image, ImageChops

from app.compose import build_printer
from devices.printer import KeptTickets, kept_tickets
from devices.printer.errors import PrinterOffline, PrinterPaperOut
from devices.printer.samples import sample_ticket
from kiosk.operations.diagnostics import FAIL, OK, WARN
from kiosk.ports import PRINTER_OFFLINE, PRINTER_OK, PRINTER_PAPER_LOW, PRINTER_PAPER_OUT, PRINTER_UNKNOWN
from tests.helpers import free_port, make_config
from tests.printer.tcp_printer import FakeTcpPrinter

DLE_EOT_1, DLE_EOT_4 = b"\x10\x04\x01", b"\x10\x04\x04"

def diagnose(config):
    """What `kiosk doctor` reports for the printer the config builds."""
    from app.compose import device_checks

    return dict(device_checks(config))["printer"]()



def config_for(connection: str, tmp_path, **printer):
    settings = {"driver": "escpos", "connection": connection, "timeout_s": 5.0, "status_timeout_s": 0.3,
                **printer}
    return make_config(printer=settings, kiosk={"data_dir": str(tmp_path)})


@pytest.fixture
def fake():
    with FakeTcpPrinter() as printer:
        yield printer


def same_pixels(a: Image.Image, b: Image.Image) -> bool:
    return a.size == b.size and ImageChops.difference(a.convert("L"), b.convert("L")).getbbox() is None


@pytest.mark.parametrize("profile,width,variant", [
    ("TM-T20II", 576, "normal"),
    ("TM-T88V", 512, "offline-priority"),
    ("POS-5890", 384, "normal"),
    ("TM-T20II", 576, "long"),  # taller than 960 rows: python-escpos sends it in two GS v 0 blocks
])
def test_the_printed_raster_is_the_preview_pixel_for_pixel(fake, tmp_path, profile, width, variant):
    printer = build_printer(config_for(fake.connection, tmp_path, profile=profile, dot_width=width))
    ticket = sample_ticket(variant)
    try:
        printer.print_ticket(ticket)
    finally:
        printer.close()
    preview = Image.open(io.BytesIO(printer.preview_png(ticket)))
    images = fake.images()
    assert len(images) == 1
    assert same_pixels(images[0], preview)
    decoded = [r.text for r in zxingcpp.read_barcodes(images[0].convert("L"))]
    assert decoded == [ticket.reference]
    kinds = [c[0] for c in fake.commands]
    assert kinds[kinds.index("init")] == "init" and "raster" in kinds
    if variant == "long":
        assert kinds.count("raster") == 2
    # status read before and after the ticket, the ticket in between
    assert fake.status_queries == [DLE_EOT_1, DLE_EOT_4, DLE_EOT_1, DLE_EOT_4]
    first_raster = fake.received.index(b"\x1dv0")
    assert fake.received.index(DLE_EOT_4) < first_raster < fake.received.rindex(DLE_EOT_1)
    assert printer.last_bytes == len(fake.received) - 4 * 3


def test_cut_only_when_the_profile_has_a_cutter(fake, tmp_path):
    for profile, width in (("TM-T20II", 576), ("POS-5890", 384)):
        printer = build_printer(config_for(fake.connection, tmp_path, profile=profile, dot_width=width))
        try:
            printer.print_ticket(sample_ticket("normal"))
        finally:
            printer.close()
    commands = fake.commands
    cuts = [c for c in commands if c[0] == "cut"]
    assert cuts == [("cut", 0)]  # one full cut: TM-T20II has a cutter, POS-5890 does not
    rasters = [i for i, c in enumerate(commands) if c[0] == "raster"]
    assert commands[rasters[0] + 1:rasters[0] + 3] == [("feed", 6), ("cut", 0)]
    assert commands[rasters[1] + 1] == ("feed", 4)


def test_paper_out_before_printing_sends_nothing_and_keeps_the_ticket(fake, tmp_path, caplog):
    fake.set_state("paper_out")
    config = config_for(fake.connection, tmp_path)
    printer = build_printer(config)
    ticket = sample_ticket("normal")
    try:
        assert printer.status() == PRINTER_PAPER_OUT
        with caplog.at_level(logging.WARNING, logger="devices.printer"):
            with pytest.raises(PrinterPaperOut) as info:
                printer.print_ticket(ticket)
    finally:
        printer.close()
    assert b"\x1dv0" not in fake.received
    err = info.value
    assert err.patient_message_key == "error.printer_paper_out"
    assert err.ticket_reference == ticket.reference
    assert "nothing was sent" in str(err)
    alerts = [r for r in caplog.records if getattr(r, "alert", None) == "staff"]
    assert [r.event for r in alerts] == ["printer.paper_out"]
    assert "NGUYỄN" not in caplog.text
    assert kept_tickets(config).find(ticket.reference[:8]) == ticket


def test_paper_running_out_during_the_ticket_is_reported_after_printing(fake, tmp_path):
    fake.set_state("paper_out", after_tickets=1)
    printer = build_printer(config_for(fake.connection, tmp_path))
    try:
        with pytest.raises(PrinterPaperOut) as info:
            printer.print_ticket(sample_ticket("normal"))
        assert "may be incomplete" in str(info.value)
        assert len(fake.images()) == 1  # it was sent...
        assert printer.status() == PRINTER_PAPER_OUT  # ...and the roll is now empty
        fake.set_state("ok")  # staff put in a new roll
        assert printer.status() == PRINTER_OK
        printer.print_ticket(sample_ticket("normal"), reprint=True)
    finally:
        printer.close()
    assert len(fake.images()) == 2


def test_paper_near_end_prints_and_alerts_staff(fake, tmp_path, caplog):
    fake.set_state("paper_low")
    printer = build_printer(config_for(fake.connection, tmp_path))
    try:
        with caplog.at_level(logging.WARNING, logger="devices.printer"):
            printer.print_ticket(sample_ticket("normal"))
        assert printer.status() == PRINTER_PAPER_LOW
    finally:
        printer.close()
    assert len(fake.images()) == 1
    assert [r.event for r in caplog.records if getattr(r, "alert", None) == "staff"] == ["printer.paper_low"]


def test_offline_printer_gets_nothing(fake, tmp_path):
    fake.set_state("offline")
    printer = build_printer(config_for(fake.connection, tmp_path))
    try:
        assert printer.status() == PRINTER_OFFLINE
        with pytest.raises(PrinterOffline):
            printer.print_ticket(sample_ticket("normal"))
    finally:
        printer.close()
    assert b"\x1dv0" not in fake.received


@pytest.mark.parametrize("state", ["silent", "hangup"])
def test_no_answer_or_an_empty_answer_is_unknown_never_ok(fake, tmp_path, state):
    fake.set_state(state)
    printer = build_printer(config_for(fake.connection, tmp_path))
    try:
        assert printer.status() == PRINTER_UNKNOWN
        if state == "silent":  # a printer that cannot report status still gets its tickets
            printer.print_ticket(sample_ticket("normal"))
            assert fake.wait_for(lambda f: len(f.images()) == 1)
    finally:
        printer.close()
    checks = {c.name: c for c in diagnose(config_for(fake.connection, tmp_path))}
    assert checks["printer.status"].status == WARN
    assert "unknown" in checks["printer.status"].detail


def test_unreachable_printer_is_offline(tmp_path):
    config = config_for(f"network:127.0.0.1:{free_port()}", tmp_path)
    printer = build_printer(config)
    try:
        assert printer.status() == PRINTER_OFFLINE
        with pytest.raises(PrinterOffline) as info:
            printer.print_ticket(sample_ticket("normal"))
        assert info.value.patient_message_key == "error.printer_offline"
    finally:
        printer.close()
    checks = {c.name: c for c in diagnose(config)}
    assert checks["printer.status"].status == FAIL
    assert KeptTickets(config.data_dir() / "tickets").all()  # kept for reprint


def test_printer_switched_on_later_is_reconnected(tmp_path):
    port = free_port()
    printer = build_printer(config_for(f"network:127.0.0.1:{port}", tmp_path))
    try:
        assert printer.status() == PRINTER_OFFLINE
        with FakeTcpPrinter(port=port) as fake:  # switched on at its usual address
            assert printer.status() == PRINTER_OK
            printer.print_ticket(sample_ticket("normal"))
            assert len(fake.images()) == 1
    finally:
        printer.close()


def test_diagnose_all_ok(fake, tmp_path):
    checks = {c.name: c for c in diagnose(config_for(fake.connection, tmp_path))}
    assert {n: c.status for n, c in checks.items()} == {
        "printer.connection": OK, "printer.profile": OK, "printer.font": OK,
        "printer.kept_tickets": OK, "printer.status": OK}
    assert fake.connection.split(":", 1)[1] in checks["printer.status"].detail.replace(" ", ":")


def test_library_diagnostics_stay_out_of_stdout(fake, tmp_path, capfd, caplog):
    # The "default" profile has no paper width, so python-escpos print()s a warning for every image.
    printer = build_printer(config_for(fake.connection, tmp_path, profile="default"))
    try:
        with caplog.at_level(logging.DEBUG, logger="devices.printer.escpos"):
            printer.print_ticket(sample_ticket("normal"))
    finally:
        printer.close()
    out = capfd.readouterr().out
    assert "media.width" not in out
    assert out == ""
    assert any("media.width" in r.getMessage() for r in caplog.records)  # kept in the debug log instead
    assert len(fake.images()) == 1


def test_fake_printer_answers_gs_r_too(fake):
    """``kiosk doctor`` and other ESC/POS clients may ask with GS r 1 (paper sensor)."""
    fake.set_state("paper_low")
    with socket.create_connection(("127.0.0.1", fake.port), timeout=2) as s:
        s.sendall(b"\x1dr\x01")
        assert s.recv(1) == b"\x03"
        fake.set_state("paper_out")
        s.sendall(b"\x1dr\x01\x10\x04\x04")
        assert s.recv(1) == b"\x0f"
        assert s.recv(1) == b"\x7e"
    assert fake.status_queries == [b"\x1dr\x01", b"\x1dr\x01", DLE_EOT_4]


def test_usb_and_serial_printers_that_are_not_there_are_offline(tmp_path):
    """The real python-escpos USB and serial code paths, up to the missing hardware."""
    for spec in ("usb:f0f0:0001", f"serial:{tmp_path / 'ttyNOPE'}:115200"):
        printer = build_printer(config_for(spec, tmp_path))
        try:
            assert printer.status() == PRINTER_OFFLINE
            with pytest.raises(PrinterOffline) as info:
                printer.print_ticket(sample_ticket("normal"))
            assert "cannot be opened" in str(info.value)
        finally:
            printer.close()


def test_device_file_printer_gets_the_raster_and_status_is_unknown(tmp_path):
    from tests.printer.tcp_printer import join_rasters, parse_all

    device = tmp_path / "lp0"
    device.write_bytes(b"")
    printer = build_printer(config_for(f"file:{device}", tmp_path, profile="POS-5890", dot_width=384))
    ticket = sample_ticket("normal")
    try:
        assert printer.status() == PRINTER_UNKNOWN  # a file cannot answer: never shown as OK
        printer.print_ticket(ticket)
    finally:
        printer.close()
    images = join_rasters(parse_all(device.read_bytes()))
    assert len(images) == 1
    assert same_pixels(images[0], Image.open(io.BytesIO(printer.preview_png(ticket))))


def test_network_printer_is_released_between_jobs(fake, tmp_path):
    """Many network printers take one connection at a time: the kiosk must not hog it."""
    printer = build_printer(config_for(fake.connection, tmp_path))
    try:
        printer.status()
        assert fake.wait_for(lambda f: f.open_connections == 0)
        printer.print_ticket(sample_ticket("normal"))
        assert fake.wait_for(lambda f: f.open_connections == 0)
        assert fake.connections == 2
    finally:
        printer.close()
