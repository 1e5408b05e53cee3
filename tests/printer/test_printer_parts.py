"""Status replies, connection settings, kept tickets, quiet stdout."""
from __future__ import annotations

import json
import os
import sys
import threading
import time

import pytest

from devices.printer.connection import parse_connection
from devices.printer.errors import TicketNotFound
from devices.printer.kept import KeptTickets
from devices.printer.quiet import quiet_stdout
from devices.printer.samples import sample_ticket
from devices.printer.status import combine, online_from_reply, paper_from_reply
from kiosk.config.loader import config_from_dict
from kiosk.errors import ConfigError
from kiosk.ports import PRINTER_OFFLINE, PRINTER_OK, PRINTER_PAPER_LOW, PRINTER_PAPER_OUT, PRINTER_UNKNOWN


@pytest.mark.parametrize("reply,expected", [
    (b"\x12", "online"), (b"\x16", "online"), (b"\x1a", PRINTER_OFFLINE),
    (b"", PRINTER_UNKNOWN), (None, PRINTER_UNKNOWN), (b"\x00", PRINTER_UNKNOWN), (b"\xff", PRINTER_UNKNOWN),
    (b"\x00\x12", "online"),  # a stray byte before the reply
])
def test_online_reply(reply, expected):
    assert online_from_reply(reply) == expected


@pytest.mark.parametrize("reply,expected", [
    (b"\x12", PRINTER_OK), (b"\x1e", PRINTER_PAPER_LOW), (b"\x72", PRINTER_PAPER_OUT), (b"\x7e", PRINTER_PAPER_OUT),
    (b"", PRINTER_UNKNOWN),  # python-escpos 3.1 reads this as "paper adequate"
    (None, PRINTER_UNKNOWN), (b"A", PRINTER_UNKNOWN),
])
def test_paper_reply(reply, expected):
    assert paper_from_reply(reply) == expected


@pytest.mark.parametrize("online,paper,expected", [
    ("online", PRINTER_OK, PRINTER_OK),
    ("online", PRINTER_PAPER_LOW, PRINTER_PAPER_LOW),
    (PRINTER_OFFLINE, PRINTER_PAPER_OUT, PRINTER_PAPER_OUT),
    (PRINTER_OFFLINE, PRINTER_OK, PRINTER_OFFLINE),
    ("online", PRINTER_UNKNOWN, PRINTER_UNKNOWN),
    (PRINTER_UNKNOWN, PRINTER_OK, PRINTER_UNKNOWN),
    (PRINTER_UNKNOWN, PRINTER_PAPER_OUT, PRINTER_PAPER_OUT),
])
def test_combined_status_never_turns_unknown_into_ok(online, paper, expected):
    assert combine(online, paper) == expected


@pytest.mark.parametrize("spec,kind,describe", [
    ("usb:04b8:0e15", "usb", "usb 04b8:0e15"),
    ("usb:0x0416:0x5011:0x81:0x03", "usb", "usb 0416:5011"),
    ("network:192.168.1.50:9100", "network", "network 192.168.1.50:9100"),
    ("network:printer.local", "network", "network printer.local:9100"),
    ("serial:/dev/ttyUSB0:115200", "serial", "serial /dev/ttyUSB0 at 115200 baud"),
    ("serial:/dev/ttyS0", "serial", "serial /dev/ttyS0 at 9600 baud"),
    ("file:/dev/usb/lp0", "file", "file /dev/usb/lp0"),
])
def test_connection_specs(spec, kind, describe):
    conn = parse_connection(spec)
    assert conn.kind == kind and conn.describe() == describe
    assert conn.can_read_status == (kind != "file")


def test_usb_endpoints():
    conn = parse_connection("usb:0x0416:0x5011:0x81:0x03")
    assert (conn.vendor_id, conn.product_id, conn.in_ep, conn.out_ep) == (0x0416, 0x5011, 0x81, 0x03)
    assert parse_connection("usb:04b8:0e15").in_ep == 0x82


@pytest.mark.parametrize("spec", ["usb:04b8", "usb:zz:0e15", "network:", "network:host:99999",
                                  "serial:/dev/ttyUSB0:1234", "bluetooth:00:11", "", "lp0"])
def test_bad_connection_specs_name_the_setting(spec):
    with pytest.raises(ConfigError) as info:
        parse_connection(spec)
    assert str(info.value).startswith("printer.connection: expected")


def test_config_rejects_a_malformed_connection_at_load():
    with pytest.raises(ConfigError) as info:
        config_from_dict({"printer": {"driver": "escpos", "connection": "usb04b8"}})
    assert "printer.connection" in str(info.value)
    ok = config_from_dict({"printer": {"driver": "escpos", "connection": "network:10.0.0.9:9100"}})
    assert ok.printer.connection == "network:10.0.0.9:9100"


# --- kept tickets -----------------------------------------------------------------

def test_kept_tickets_round_trip_find_and_prune(tmp_path):
    kept = KeptTickets(tmp_path / "tickets")
    normal, offline = sample_ticket("normal"), sample_ticket("offline-priority")
    path = kept.keep(normal)
    kept.keep(offline)
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["masked_name"] == "NGUYỄN V** AN"
    assert "NGUYỄN VĂN AN" not in path.read_text(encoding="utf-8")
    assert kept.find(normal.reference) == normal
    assert kept.find(normal.reference[:8].upper()) == normal  # as printed under the QR
    assert kept.find("K2-005") == offline  # by queue label
    with pytest.raises(TicketNotFound):
        kept.find("999")
    old = time.time() - 25 * 3600
    os.utime(path, (old, old))
    assert kept.prune() == 1
    assert [t.reference for t in kept.all()] == [offline.reference]


def test_the_same_number_in_two_departments_is_ambiguous(tmp_path):
    import dataclasses

    kept = KeptTickets(tmp_path)
    a = sample_ticket("normal")
    b = dataclasses.replace(a, reference="another-reference-0001", department_code="NHI")
    kept.keep(a)
    kept.keep(b)
    with pytest.raises(TicketNotFound) as info:
        kept.find("012")
    assert "ambiguous" in str(info.value)


# --- stdout -----------------------------------------------------------------

def test_quiet_stdout_silences_only_the_calling_thread(capfd):
    other_done = threading.Event()
    inside = threading.Event()

    def other():
        inside.wait(2.0)
        print("from another thread")
        other_done.set()

    worker = threading.Thread(target=other)
    worker.start()
    with quiet_stdout():
        print("library chatter")
        inside.set()
        other_done.wait(2.0)
    worker.join()
    print("after")
    out = capfd.readouterr().out
    assert "library chatter" not in out
    assert "from another thread" in out and "after" in out
    assert sys.stdout.__class__.__name__ != "_ThreadFilter"
