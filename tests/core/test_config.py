import pytest

from kiosk.config.loader import Config, config_from_dict, find_config_file, load_config
from kiosk.errors import ConfigError


def test_defaults_are_valid():
    cfg = config_from_dict({})
    assert cfg.his.cccd_system == "http://fhir.hl7.org.vn/core/sid/cccd"
    assert cfg.his.bhyt_system == "http://fhir.hl7.org.vn/core/sid/bhyt"


@pytest.mark.parametrize("raw, message", [
    ({"printer": {"dot_width": 400}}, "printer.dot_width: expected one of 384, 512, 576, got 400"),
    ({"his": {"base_url": "ftp://x"}}, "his.base_url: expected an http(s) URL"),
    ({"his": {"connect_timeout_s": "3"}}, "his.connect_timeout_s: expected a number"),
    ({"his": {"verify_tls": "yes"}}, "his.verify_tls: expected true or false"),
    ({"his": {"auth": "bearer"}}, "his.token_file or his.token: expected a value"),
    ({"his": {"timeout": 3}}, "his.timeout: unknown setting"),
    ({"hiss": {}}, "[hiss]: unknown section"),
    ({"printer": {"driver": "escpos"}}, "printer.connection: expected usb:VID:PID"),
    ({"kiosk": {"id": "bad id!"}}, "kiosk.id: expected 1-32 letters"),
    ({"camera": {"appointment_pattern": "("}}, "camera.appointment_pattern: expected a regular expression"),
    ({"kiosk": {"idle_timeout_s": 0}}, "kiosk.idle_timeout_s: expected a number greater than 0"),
])
def test_errors_name_the_key_and_expected_value(raw, message):
    with pytest.raises(ConfigError) as exc:
        config_from_dict(raw)
    assert message in str(exc.value)


def test_integers_accepted_for_float_settings():
    assert config_from_dict({"his": {"read_timeout_s": 5}}).his.read_timeout_s == 5.0


def test_load_reports_bad_toml_with_file_name(tmp_path):
    bad = tmp_path / "k.toml"
    bad.write_text("[his\nbase_url = 1", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(bad)
    with pytest.raises(ConfigError, match="cannot be read"):
        load_config(tmp_path / "missing.toml")


def test_search_order(tmp_path, monkeypatch):
    env_file = tmp_path / "env.toml"
    env_file.write_text('[kiosk]\nid = "FROM-ENV"\n', encoding="utf-8")
    xdg = tmp_path / "xdg"
    (xdg / "kiosk").mkdir(parents=True)
    (xdg / "kiosk" / "kiosk.toml").write_text('[kiosk]\nid = "FROM-XDG"\n', encoding="utf-8")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(xdg))
    monkeypatch.setenv("KIOSK_CONFIG", str(env_file))
    assert load_config(None).kiosk.id == "FROM-ENV"
    assert find_config_file(str(tmp_path / "explicit.toml")) == tmp_path / "explicit.toml"
    monkeypatch.delenv("KIOSK_CONFIG")
    assert load_config(None).kiosk.id == "FROM-XDG"


def test_data_paths_follow_config(tmp_path):
    cfg = config_from_dict({"kiosk": {"data_dir": str(tmp_path)}})
    assert cfg.database_path() == tmp_path / "kiosk.sqlite3"
    assert isinstance(Config().data_dir().name, str)
