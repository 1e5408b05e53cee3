"""`kiosk print-test` and `kiosk reprint`, through the real command line."""
from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image, ImageChops

from app.cli import main
from app.compose import build_printer
from devices.printer import kept_tickets
from devices.printer.errors import PrinterPaperOut
from devices.printer.layout import TicketLayout
from devices.printer.samples import sample_ticket
from kiosk.config.loader import load_config
from tests.printer.tcp_printer import FakeTcpPrinter

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def config_file(tmp_path):
    path = tmp_path / "kiosk.toml"
    path.write_text(f'[kiosk]\ndata_dir = "{tmp_path / "data"}"\nhospital_name = "BỆNH VIỆN ĐA KHOA TỈNH BẮC NINH"\n'
                    '[printer]\ndriver = "simulator"\nstatus_timeout_s = 0.3\ntimeout_s = 5.0\n', encoding="utf-8")
    return str(path)


def run(capsys, *argv) -> tuple[int, object]:
    code = main(list(argv))
    out = capsys.readouterr().out
    return code, (json.loads(out) if out.strip() else None)


def same_pixels(a: Image.Image, b: Image.Image) -> bool:
    return a.size == b.size and ImageChops.difference(a.convert("L"), b.convert("L")).getbbox() is None


def test_preview_writes_the_ticket_png(tmp_path, config_file, capsys):
    out = tmp_path / "t.png"
    code, result = run(capsys, "print-test", "--config", config_file, "--preview", str(out), "--width", "384")
    assert code == 0
    assert result == {"sample": "normal", "width": 384, "preview": str(out), "preview_bytes": out.stat().st_size}
    expected = TicketLayout(384).render(sample_ticket("normal"))
    assert same_pixels(Image.open(out), expected.image)


def test_print_test_on_a_network_printer(config_file, capsys):
    with FakeTcpPrinter() as fake:
        code, result = run(capsys, "print-test", "--config", config_file, "--printer", fake.connection,
                           "--width", "512", "--profile", "TM-T88V")
        images = fake.images()
        queries = list(fake.status_queries)
    assert code == 0
    assert result["printed"] is True and result["status_before"] == "ok" and result["status_after"] == "ok"
    assert len(queries) == 6  # the command's own status read, then before and after the ticket
    assert result["bytes"] == len(fake.received) - 3 * len(queries)
    expected = TicketLayout(512).render(sample_ticket("normal"))
    assert len(images) == 1 and same_pixels(images[0], expected.image)
    assert kept_tickets(load_config(config_file)).all() == []  # test prints are not offered for reprint


def test_print_test_reports_paper_out(config_file, capsys):
    with FakeTcpPrinter(state="paper_out") as fake:
        code, result = run(capsys, "print-test", "--config", config_file, "--printer", fake.connection)
    assert code == 1
    assert result["printed"] is False and result["status_before"] == "paper_out"
    assert "hết giấy" in result["patient_message"]


def test_reprint_after_paper_out(config_file, capsys):
    config = load_config(config_file)
    ticket = sample_ticket("offline-priority")
    with FakeTcpPrinter(state="paper_out") as fake:
        kiosk_printer = dataclasses.replace(config.printer, driver="escpos", connection=fake.connection)
        printer = build_printer(dataclasses.replace(config, printer=kiosk_printer))
        with pytest.raises(PrinterPaperOut):
            printer.print_ticket(ticket)
        printer.close()
        code, listed = run(capsys, "reprint", "--list", "--config", config_file)
        assert code == 0 and [t["label"] for t in listed] == ["K2-005"]
        fake.set_state("ok")  # a new roll
        code, result = run(capsys, "reprint", ticket.reference[:8].upper(), "--config", config_file,
                           "--printer", fake.connection)
        images = fake.images()
    assert code == 0 and result["reprinted"] is True and result["label"] == "K2-005"
    expected = TicketLayout(576).render(ticket, reprint=True)
    assert "BẢN IN LẠI" in expected.lines
    assert len(images) == 1 and same_pixels(images[0], expected.image)


def test_reprint_of_an_unknown_ticket_fails_cleanly(config_file, capsys):
    assert main(["reprint", "NOPE1234", "--config", config_file]) == 1
    assert "no kept ticket matches" in capsys.readouterr().err


def test_the_installed_command_keeps_stdout_json_only(tmp_path, config_file):
    """python-escpos's print()s (here: a profile without a paper width) stay out of the JSON."""
    with FakeTcpPrinter() as fake:
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        proc = subprocess.run([sys.executable, "-m", "app", "print-test", "--config", config_file,
                               "--printer", fake.connection, "--profile", "default"],
                              capture_output=True, text=True, env=env, timeout=60, cwd=tmp_path)
        assert len(fake.images()) == 1
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)  # nothing but the JSON
    assert result["printed"] is True
