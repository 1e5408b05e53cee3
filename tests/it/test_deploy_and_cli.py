"""Deployment files and the `kiosk admin set-pin` command."""
from __future__ import annotations

import configparser
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from app.cli import build_parser
from kiosk.config.loader import load_config
from kiosk.operations.admin_pin import verify_pin

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
UNITS = sorted((DEPLOY / "systemd").glob("*.service")) + sorted((DEPLOY / "systemd").glob("*.timer"))


def kiosk(*args, stdin: str = "", env=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "app", *args], cwd=ROOT, input=stdin, capture_output=True,
                          text=True, timeout=60, env={**os.environ, **(env or {})})


def unit(path: Path) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str
    parser.read(path)
    return parser


@pytest.mark.parametrize("path", UNITS, ids=lambda p: p.name)
def test_units_pass_systemd_analyze_verify(path, tmp_path):
    # the kiosk is installed in /opt/kiosk and cage comes from Debian: those two may be absent here
    out = subprocess.run(["systemd-analyze", "verify", str(path)], capture_output=True, text=True, timeout=60)
    problems = [line for line in (out.stdout + out.stderr).splitlines()
                if line.strip() and "is not executable: No such file or directory" not in line]
    assert problems == []


def test_unit_commands_are_real_kiosk_commands():
    parser = build_parser()
    commands = []
    for path in UNITS:
        service = unit(path)
        for key in ("ExecStartPre", "ExecStart"):
            value = service.get("Service", key, fallback="")
            if "/opt/kiosk/.venv/bin/kiosk" in value:
                argv = shlex.split(value.split("/opt/kiosk/.venv/bin/kiosk", 1)[1].replace("${KIOSK_CONFIG}", "x.toml"))
                parser.parse_args(argv)  # SystemExit on an unknown command or option
                commands.append(argv[0])
    assert {"run", "board", "config", "doctor"} <= set(commands)
    assert parser.parse_args(["display", "--rooms", "P101"]).func is parser.parse_args(["board"]).func  # old name


def test_kiosk_units_stay_stopped_after_leaving_kiosk_mode():
    from ui.admin import EXIT_KIOSK_MODE

    for name in ("kiosk.service", "kiosk-board.service"):
        service = unit(DEPLOY / "systemd" / name)
        assert service.get("Service", "Restart") == "always"
        assert service.get("Service", "RestartPreventExitStatus") == str(EXIT_KIOSK_MODE)
        assert service.get("Service", "Environment", fallback="")  # KIOSK_CONFIG and Qt settings
    assert f"-eq {EXIT_KIOSK_MODE} ] && break" in (DEPLOY / "session" / "kiosk-xsession").read_text()


def test_xsession_script_is_valid_shell():
    subprocess.run(["sh", "-n", str(DEPLOY / "session" / "kiosk-xsession")], check=True)


def test_udev_rule_lines_are_well_formed():
    lines = [line for line in (DEPLOY / "udev" / "60-kiosk-printer.rules").read_text().splitlines()
             if line.strip() and not line.startswith("#")]
    assert lines
    pair = re.compile(r'^(?:[A-Z]+(?:\{[A-Za-z_]+\})?(?:==|=|\+=)"[^"]*")$')
    for line in lines:
        for part in (p.strip() for p in line.split(",")):
            assert pair.match(part), part
        assert 'GROUP="kiosk"' in line


def test_readme_documents_the_config_search_order():
    text = (DEPLOY / "README.md").read_text()
    for place in ("--config FILE", "$KIOSK_CONFIG", "~/.config/kiosk/kiosk.toml", "/etc/kiosk/kiosk.toml"):
        assert place in text


def test_set_pin_writes_only_the_hash_and_keeps_comments(tmp_path):
    path = tmp_path / "kiosk.toml"
    path.write_text("# entrance kiosk\n[kiosk]\nid = \"K-5\"  # main hall\n")
    out = kiosk("admin", "set-pin", "--config", str(path), "--pin-stdin", stdin="493817\n")
    assert out.returncode == 0, out.stderr
    text = path.read_text()
    assert "493817" not in text and "# entrance kiosk" in text and "# main hall" in text
    assert verify_pin("493817", load_config(path).admin.pin_hash)


def test_set_pin_from_the_environment_config_and_print_only(tmp_path):
    path = tmp_path / "kiosk.toml"
    path.write_text("[kiosk]\nid = \"K-6\"\n")
    out = kiosk("admin", "set-pin", "--pin-stdin", stdin="720594\n", env={"KIOSK_CONFIG": str(path)})
    assert out.returncode == 0 and load_config(path).admin.pin_hash
    printed = kiosk("admin", "set-pin", "--pin-stdin", "--print", stdin="583062\n")
    assert printed.returncode == 0 and printed.stdout.startswith('[admin]\npin_hash = "scrypt-p2$')


@pytest.mark.parametrize("pin, why", [("12", "6-12 digits"), ("12ab56", "6-12 digits"), ("1234", "6-12 digits"),
                                      ("1234567890123", "6-12 digits"), ("555555", "constant step"),
                                      ("456789", "constant step"), ("876543", "constant step"),
                                      ("343434", "repeated group")])
def test_set_pin_refuses_short_and_trivial_pins_and_leaves_the_file(tmp_path, pin, why):
    path = tmp_path / "kiosk.toml"
    path.write_text("[kiosk]\nid = \"K-7\"\n")
    out = kiosk("admin", "set-pin", "--config", str(path), "--pin-stdin", stdin=pin + "\n")
    assert out.returncode == 1 and why in out.stderr and "nothing changed" in out.stderr
    assert len(pin) < 6 or pin not in out.stderr + out.stdout
    assert path.read_text() == "[kiosk]\nid = \"K-7\"\n"


def test_config_check_refuses_a_hash_made_when_4_digits_were_accepted(tmp_path):
    """A legacy ``scrypt$`` hash (old set-pin, 4 digits allowed) still opens the pad,
    but `kiosk config check` says it is too weak and how to fix it."""
    import base64
    import hashlib

    salt = b"0123456789abcdef"
    digest = hashlib.scrypt(b"2468", salt=salt, n=2**14, r=8, p=1, dklen=32)
    legacy = f"scrypt$16384$8$1${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"
    assert verify_pin("2468", legacy)
    path = tmp_path / "kiosk.toml"
    path.write_text(f'[kiosk]\nid = "K-8"\ndata_dir = "{tmp_path}"\n[admin]\npin_hash = "{legacy}"\n')
    out = kiosk("config", "check", str(path))
    assert out.returncode == 1 and "too weak" in out.stderr and "kiosk admin set-pin" in out.stderr
    assert kiosk("admin", "set-pin", "--config", str(path), "--pin-stdin", stdin="720594\n").returncode == 0
    again = kiosk("config", "check", str(path))
    assert again.returncode == 0, again.stderr
