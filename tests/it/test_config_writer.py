"""Writing settings back to the TOML config: comments kept, invalid values refused, atomic."""
from __future__ import annotations

import os
import tomllib

import pytest

from kiosk.config.loader import load_config
from kiosk.config.writer import edit_text, format_value, plan_update, update_config
from kiosk.errors import ConfigError

CONFIG = """\
# Kiosk at the main entrance
[kiosk]
id = "K-1"   # name # in logs
language = "vi"

# the receipt printer
[printer]
driver = "simulator"  # change to escpos when installed
# end of printer section

[his]
base_url = "http://127.0.0.1:9/fhir/R4"
"""


def test_edits_in_place_keep_comments_and_add_missing_keys_and_sections(tmp_path):
    path = tmp_path / "kiosk.toml"
    path.write_text(CONFIG)
    cfg = update_config(path, {"kiosk.language": "en", "printer.driver": "escpos",
                               "printer.connection": "network:127.0.0.1:9100", "metrics.enabled": True})
    text = path.read_text()
    assert cfg.kiosk.language == "en" and cfg.printer.connection == "network:127.0.0.1:9100"
    assert 'id = "K-1"   # name # in logs' in text
    assert 'driver = "escpos"  # change to escpos when installed' in text
    assert "# Kiosk at the main entrance" in text and "# end of printer section" in text
    lines = text.splitlines()
    # the new key sits inside [printer], before the section's trailing comment
    assert lines.index('connection = "network:127.0.0.1:9100"') < lines.index("# end of printer section")
    assert text.rstrip().endswith("[metrics]\nenabled = true")
    assert load_config(path).printer.driver == "escpos"


@pytest.mark.parametrize("changes, message", [
    ({"printer.dot_width": 400}, "printer.dot_width: expected one of 384, 512, 576"),
    ({"printer.driver": "escpos", "printer.connection": ""}, "printer.connection"),
    ({"kiosk.idle_timeout_s": -1}, "kiosk.idle_timeout_s"),
    ({"kiosk.colour": "red"}, "kiosk.colour: unknown setting"),
    ({"camera.appointment_pattern": "("}, "camera.appointment_pattern"),
    ({"printer.logo": "/nonexistent/logo.png"}, "printer.logo: expected an existing file"),
    ({"card_reader.trust_store": "/nonexistent/csca"}, "card_reader.trust_store: expected an existing folder"),
])
def test_invalid_value_is_refused_and_the_file_is_untouched(tmp_path, changes, message):
    path = tmp_path / "kiosk.toml"
    path.write_text(CONFIG)
    before = path.read_bytes()
    with pytest.raises(ConfigError, match=message.replace("(", r"\(")):
        update_config(path, changes)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["kiosk.toml"]  # no temp file left behind


def test_values_round_trip_through_toml():
    for value in ["Vui lòng chờ \"gọi\" số\\", "a\nb\tc", True, False, 0, 42, 1.5, 30.0, 1e-7,
                  ["P101", "P102"], [], "^(?:APPT)[:\\-]?(?P<code>.+)$"]:
        assert tomllib.loads("x = " + format_value(value))["x"] == value


def test_string_with_hash_keeps_its_comment():
    text = '[printer]\nfooter = "Số #1"  # footer line\n'
    out = edit_text(text, {"printer.footer": "Cảm ơn"})
    assert out == '[printer]\nfooter = "Cảm ơn"  # footer line\n'


def test_multi_line_values_dotted_keys_and_inline_tables_keep_their_comments():
    text = ('# rooms of the hall board\n[board]\nrooms = [\n  "P101",  # first\n  "P102",\n]\n'
            'poll_interval_s = 1.0  # seconds\n\n[kiosk]\nid = "K-1"\n')
    new_text, cfg = plan_update(text, {"board.rooms": ["P201"], "board.poll_interval_s": 2.0})
    assert cfg.board.rooms == ["P201"] and cfg.board.poll_interval_s == 2.0
    assert "# rooms of the hall board" in new_text and "poll_interval_s = 2.0  # seconds" in new_text
    assert new_text.endswith('[kiosk]\nid = "K-1"\n')


def test_a_section_under_its_old_name_is_edited_where_it_is():
    text = '[display]\nrooms = ["P101"]  # the hall\n'
    new_text, cfg = plan_update(text, {"board.rooms": ["P201"]})
    assert cfg.board.rooms == ["P201"]
    assert new_text == '[display]\nrooms = ["P201"]  # the hall\n'
    assert "[board]" not in new_text


def test_broken_file_is_not_touched(tmp_path):
    path = tmp_path / "kiosk.toml"
    path.write_text("[kiosk\nid = 1")
    with pytest.raises(ConfigError, match="not valid TOML"):
        update_config(path, {"kiosk.language": "en"})
    assert path.read_text() == "[kiosk\nid = 1"


def test_missing_file_is_created_and_permissions_are_kept(tmp_path):
    path = tmp_path / "new.toml"
    update_config(path, {"kiosk.id": "K-NEW"})
    assert load_config(path).kiosk.id == "K-NEW"
    os.chmod(path, 0o600)
    update_config(path, {"kiosk.language": "en"})
    assert (path.stat().st_mode & 0o777) == 0o600


def test_sample_config_stays_valid_after_an_edit(tmp_path):
    from pathlib import Path

    sample = Path(__file__).resolve().parents[2] / "assets" / "kiosk.sample.toml"
    path = tmp_path / "kiosk.toml"
    path.write_text(sample.read_text(encoding="utf-8"), encoding="utf-8")
    update_config(path, {"printer.connection": "network:10.0.0.5:9100", "admin.max_attempts": 3})
    after = path.read_text(encoding="utf-8")
    assert after.count("\n") == sample.read_text(encoding="utf-8").count("\n")  # replaced, not appended
    assert 'connection = "network:10.0.0.5:9100"' in after and "# usb:VID:PID" in after
    assert load_config(path).admin.max_attempts == 3


def test_a_path_problem_the_change_does_not_touch_does_not_block_it(tmp_path):
    """A kiosk whose logo file went missing can still have its printer changed from
    the admin screen (`kiosk config check` and `kiosk doctor` report the logo)."""
    path = tmp_path / "kiosk.toml"
    path.write_text('[printer]\nlogo = "/nonexistent/logo.png"\n', encoding="utf-8")
    config = update_config(path, {"printer.dot_width": 512})
    assert config.printer.dot_width == 512 and config.printer.logo == "/nonexistent/logo.png"
