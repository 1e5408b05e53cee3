"""Config problems are found by `kiosk config check`, naming the key, and no
`kiosk` command prints a traceback for them (real config files, real processes)."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.robustness.cli import ROOT, assert_no_traceback, kiosk, one_error_line

pytestmark = pytest.mark.integration


def write(tmp_path, text: str | bytes, name: str = "kiosk.toml"):
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def base(tmp_path) -> str:
    return f'[kiosk]\ndata_dir = "{tmp_path / "data"}"\n'


def test_a_config_that_is_not_utf8_names_the_byte_offset(tmp_path):
    text = base(tmp_path).encode() + 'hospital_name = "B'.encode() + b"\xe9" + 'NH VIỆN"\n'.encode()
    cfg = write(tmp_path, text)
    offset = text.index(b"\xe9")
    line = one_error_line(kiosk("config", "check", str(cfg)))
    assert "not UTF-8" in line and f"byte offset {offset}" in line and "line 3" in line and "0xe9" in line
    for command in (["checkin", "--id", "001093012345"], ["outbox", "list"], ["sync"]):
        line = one_error_line(kiosk(*command, config=cfg))
        assert "not UTF-8" in line, command
    doctor = kiosk("doctor", "--json", "--config", str(cfg))
    assert_no_traceback(doctor)
    checks = {c["name"]: c for c in json.loads(doctor.stdout)["checks"]}
    assert checks["config"]["status"] == "FAIL" and "not UTF-8" in checks["config"]["detail"]


def test_toml_syntax_error(tmp_path):
    cfg = write(tmp_path, base(tmp_path) + "idle_timeout_s = = 3\n")
    assert "not valid TOML" in one_error_line(kiosk("config", "check", str(cfg)))


@pytest.mark.parametrize("setting, expected", [
    ('[kiosk]\ntimezone = "Asia/Hanoi_Nowhere"', "kiosk.timezone: expected an IANA time zone"),
    ('[kiosk]\ntimezone = "../../etc/passwd"', "kiosk.timezone: expected an IANA time zone"),
    ("[his]\nread_timeout_s = inf", "his.read_timeout_s: expected a finite number"),
    ("[his]\nconnect_timeout_s = nan", "his.connect_timeout_s: expected a finite number"),
    ("[offline]\nprobe_interval_s = -inf", "offline.probe_interval_s: expected a finite number"),
    ("[his]\nread_timeout_s = 1e9", "his.read_timeout_s: expected a number greater than 0 and at most 600"),
    ("[offline]\nconfirm_offline_s = 100000", "offline.confirm_offline_s: expected a number from 0 to 600"),
    ("[camera]\nmax_image_pixels = 0", "camera.max_image_pixels: expected a number greater than 0"),
    ("[board]\nrooms = [1, 2]", "board.rooms: expected a list of clinic room codes"),
    ("[insurance]\nrecheck_after_s = 1e12", "insurance.recheck_after_s: expected a number ≥ 0 and at most 86400"),
])
def test_bad_values_name_the_key(tmp_path, setting, expected):
    section = setting.split("]")[0] + "]"
    text = base(tmp_path) if section != "[kiosk]" else ""
    cfg = write(tmp_path, text + setting + "\n" + (f'data_dir = "{tmp_path / "data"}"\n' if section == "[kiosk]" else ""))
    line = one_error_line(kiosk("config", "check", str(cfg)))
    assert expected in line
    assert expected in one_error_line(kiosk("checkin", "--id", "001093012345", config=cfg))


def test_folders_and_files_the_config_names(tmp_path):
    a_file = tmp_path / "plain-file"
    a_file.write_text("x")
    a_folder = tmp_path / "a-folder"
    a_folder.mkdir()
    cases = [
        (f'[kiosk]\ndata_dir = "{a_file}"\n', f"kiosk.data_dir: expected a folder, but {a_file} is a file"),
        (base(tmp_path) + f'[offline]\ndatabase = "{a_folder}"\n',
         f"offline.database: expected an SQLite file, but {a_folder} is a folder"),
        (base(tmp_path) + f'[offline]\ndatabase = "{a_file}/sub/kiosk.sqlite3"\n',
         "offline.database's folder: expected a folder that can be created, but"),
        (base(tmp_path) + f'[card_reader]\ntrust_store = "{tmp_path / "no-csca"}"\n',
         "card_reader.trust_store: expected an existing folder"),
        (base(tmp_path) + f'[printer]\nlogo = "{tmp_path / "no-logo.png"}"\n',
         "printer.logo: expected an existing file"),
        (base(tmp_path) + f'[printer]\nlogo = "{a_folder}"\n', "printer.logo: expected an existing file"),
        (base(tmp_path) + f'[his]\nca_bundle = "{tmp_path / "no-ca.pem"}"\n', "his.ca_bundle: expected"),
    ]
    for text, expected in cases:
        cfg = write(tmp_path, text)
        result = kiosk("config", "check", str(cfg))
        assert_no_traceback(result)
        assert result.returncode == 1 and expected in result.stderr, (text, result.stderr)
        line = one_error_line(kiosk("outbox", "list", config=cfg))
        assert expected.split(":")[0] in line


def test_config_check_lists_every_path_problem(tmp_path):
    a_file = tmp_path / "plain-file"
    a_file.write_text("x")
    cfg = write(tmp_path, f'[kiosk]\ndata_dir = "{a_file}"\n[printer]\nlogo = "{tmp_path / "nope.png"}"\n'
                          f'[card_reader]\ntrust_store = "{tmp_path / "nope"}"\n')
    result = kiosk("config", "check", str(cfg))
    assert_no_traceback(result)
    assert result.returncode == 1
    for key in ("kiosk.data_dir", "printer.logo", "card_reader.trust_store"):
        assert key in result.stderr
    assert "3 problem(s)" in result.stderr


def test_a_good_config_with_a_creatable_data_dir_passes(tmp_path):
    cfg = write(tmp_path, f'[kiosk]\ndata_dir = "{tmp_path / "new" / "data"}"\ntimezone = "Asia/Bangkok"\n')
    result = kiosk("config", "check", str(cfg))
    assert result.returncode == 0 and "OK" in result.stdout, result.stderr


def test_an_unexpected_error_is_one_line_with_the_traceback_only_in_the_log(tmp_path):
    log_file = tmp_path / "kiosk.log"
    code = (
        "import sys, app.cli.config_cmd as c\n"
        "def boom(args):\n"
        "    raise TypeError('secret 001093012345 inside')\n"
        "c._check = boom\n"
        "import app.cli\n"
        "sys.exit(app.cli.main(['config', 'check', 'x.toml']))\n")
    import os
    env = dict(os.environ, KIOSK_LOG_FILE=str(log_file))
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 1
    assert_no_traceback(result)
    assert result.stderr.strip().startswith("kiosk config: unexpected error (TypeError); see the log")
    assert "001093012345" not in result.stderr
    logged = [json.loads(line) for line in log_file.read_text(encoding="utf-8").splitlines()]
    assert logged[-1]["event"] == "cli.unexpected_error" and "Traceback" in logged[-1]["traceback"]
    assert "001093012345" not in log_file.read_text(encoding="utf-8")  # redacted


def test_config_check_lists_every_problem_not_only_the_first(tmp_path):
    """Three wrong settings in three sections, an unknown setting and an unknown
    section: all five are named, each on its own line, and counted."""
    cfg = write(tmp_path, base(tmp_path) + 'idle_timeout_s = "soon"\ncolour = "blue"\n'
                '[his]\nread_timeout_s = 1e9\n[camera]\nappointment_pattern = "(no-group)"\n[wards]\nx = 1\n')
    out = kiosk("config", "check", str(cfg))
    assert_no_traceback(out)
    assert out.returncode == 1
    for expected in ("kiosk.idle_timeout_s: expected", "kiosk.colour: unknown setting", "his.read_timeout_s: expected",
                     "camera.appointment_pattern: expected a named group", "[wards]: unknown section"):
        assert expected in out.stderr, (expected, out.stderr)
    assert "5 problem(s)" in out.stderr
    # every other command refuses the file at its first problem, naming the key and where to see the rest
    line = one_error_line(kiosk("outbox", "list", config=cfg))
    assert "[wards]: unknown section" in line and f"and 4 more problem(s): kiosk config check {cfg}" in line
