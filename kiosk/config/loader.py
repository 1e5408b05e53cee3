"""Kiosk configuration: TOML, validated at load.

Each ``[section]`` of the file is a dataclass in ``kiosk.config.schema``; a
field's type annotation and optional ``choices``/``check`` metadata say what is
accepted. Errors name
the key and the expected value, e.g.
``printer.dot_width: expected one of 384, 512, 576, got 400``.

Search order when no file is given: ``--config FILE``, ``$KIOSK_CONFIG``,
``$XDG_CONFIG_HOME/kiosk/kiosk.toml`` (``~/.config/kiosk/kiosk.toml``), then
``/etc/kiosk/kiosk.toml``.
"""
from __future__ import annotations

import contextlib
import dataclasses
import math
import os
import re
import tomllib
import typing
from dataclasses import dataclass, field
from pathlib import Path

from kiosk.config.his_settings import check_his_settings
from kiosk.config.schema import (  # noqa: F401 - the sections, re-exported for the code that names them here
    DEFAULT_NAMESPACE,
    OWN_SYSTEMS,
    VN_CORE,
    AdminSection,
    BoardSection,
    CameraSection,
    CardReaderSection,
    HisSection,
    InsuranceSection,
    KioskSection,
    LoggingSection,
    MetricsSection,
    OfflineSection,
    PrinterSection,
    PrivacySection,
    QueueWebSection,
    SpeechSection,
)
from kiosk.config.secret_files import secret_file_problem
from kiosk.errors import ConfigError


@dataclass
class Config:
    kiosk: KioskSection = field(default_factory=KioskSection)
    his: HisSection = field(default_factory=HisSection)
    insurance: InsuranceSection = field(default_factory=InsuranceSection)
    card_reader: CardReaderSection = field(default_factory=CardReaderSection)
    privacy: PrivacySection = field(default_factory=PrivacySection)
    camera: CameraSection = field(default_factory=CameraSection)
    printer: PrinterSection = field(default_factory=PrinterSection)
    offline: OfflineSection = field(default_factory=OfflineSection)
    board: BoardSection = field(default_factory=BoardSection)
    speech: SpeechSection = field(default_factory=SpeechSection)
    queue_web: QueueWebSection = field(default_factory=QueueWebSection)
    admin: AdminSection = field(default_factory=AdminSection)
    logging: LoggingSection = field(default_factory=LoggingSection)
    metrics: MetricsSection = field(default_factory=MetricsSection)
    source: str = field(default="", metadata={"internal": True})

    def data_dir(self) -> Path:
        if self.kiosk.data_dir:
            return Path(self.kiosk.data_dir).expanduser()
        base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
        return Path(base) / "kiosk"

    def database_path(self) -> Path:
        if self.offline.database:
            return Path(self.offline.database).expanduser()
        return self.data_dir() / "kiosk.sqlite3"


def _type_name(tp) -> str:
    return {str: "a string", int: "an integer", float: "a number", bool: "true or false",
            list: "a list", dict: "a table"}.get(tp, str(tp))


# Bounds every setting has, whatever its own check says: a kiosk config is a few
# kilobytes of short values, and nothing in it may cost the loader time or memory.
MAX_FILE_BYTES = 16_000_000  # a real one is a few kilobytes; larger values are refused by key below
MAX_DEPTH = 4  # [section] → key → table or list → value (his.capabilities, camera.roi)
MAX_TEXT = 1_000  # characters in one text setting
MAX_PATTERN = 300  # characters in a regular expression (camera.*_pattern)
MAX_ITEMS = 500  # entries in one list or table
MAX_NUMBER = 10 ** 12  # magnitude of any number (each setting's own check bounds it further)
EXCERPT = 60  # characters of a bad value echoed back


def excerpt(value) -> str:
    """A bad value as the error shows it: never more than a short excerpt."""
    text = repr(value)
    if len(text) <= EXCERPT:
        return text
    size = f"{len(value):,} characters" if isinstance(value, str) else f"{len(text):,} characters when written out"
    return f"{text[:EXCERPT]}… ({size})"


def _type_name(tp) -> str:
    return {str: "a string", int: "an integer", float: "a number", bool: "true or false",
            list: "a list", dict: "a table"}.get(tp, str(tp))


def _coerce(key: str, tp, value):
    if tp in (int, float) and isinstance(value, (int, float)) and not isinstance(value, bool):
        if isinstance(value, float) and not math.isfinite(value):
            raise ConfigError(f"{key}: expected a finite number, got {excerpt(value)}")
        if abs(value) > MAX_NUMBER:
            raise ConfigError(f"{key}: expected a number of at most {MAX_NUMBER:.0e} in size, got a number of "
                              f"{len(str(int(value))):,} digits")
    if tp is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if tp is bool and not isinstance(value, bool):
        raise ConfigError(f"{key}: expected true or false, got {excerpt(value)}")
    if tp in (int, float) and isinstance(value, bool):
        raise ConfigError(f"{key}: expected {_type_name(tp)}, got {excerpt(value)}")
    if not isinstance(value, tp):
        raise ConfigError(f"{key}: expected {_type_name(tp)}, got {excerpt(value)}")
    _bounded(key, value)
    return value


def _bounded(key: str, value) -> None:
    """The size limits of every setting (``MAX_*``)."""
    limit = MAX_PATTERN if key.endswith("_pattern") else MAX_TEXT
    if isinstance(value, str) and len(value) > limit:
        raise ConfigError(f"{key}: expected at most {limit:,} characters, got {len(value):,}")
    if isinstance(value, (list, dict)):
        if len(value) > MAX_ITEMS:
            raise ConfigError(f"{key}: expected at most {MAX_ITEMS} entries, got {len(value):,}")
        for item in (value.values() if isinstance(value, dict) else value):
            if isinstance(item, (list, dict)):
                raise ConfigError(f"{key}: expected plain values inside, got a nested "
                                  f"{'table' if isinstance(item, dict) else 'list'}")
            if isinstance(item, str) and len(item) > MAX_TEXT:
                raise ConfigError(f"{key}: expected entries of at most {MAX_TEXT:,} characters, got {len(item):,}")
            if isinstance(item, (int, float)) and not isinstance(item, bool) and (
                    abs(item) > MAX_NUMBER or (isinstance(item, float) and not math.isfinite(item))):
                raise ConfigError(f"{key}: expected finite numbers of at most {MAX_NUMBER:.0e} in size")


def _too_deep(raw: dict) -> str | None:
    """The first key nested deeper than ``MAX_DEPTH``, or None (looked at without recursion)."""
    stack = [(raw, "", 1)]
    while stack:
        node, path, depth = stack.pop()
        items = node.items() if isinstance(node, dict) else enumerate(node)
        for k, v in items:
            where = f"{path}.{k}" if path else str(k)
            if isinstance(v, (dict, list)):
                if depth + 1 > MAX_DEPTH:
                    return where
                stack.append((v, where, depth + 1))
    return None


class _Problems:
    """Every problem found in a config, in the file's order: each check that
    raises ConfigError adds its message and the others still run."""

    def __init__(self):
        self.found: list[str] = []

    @contextlib.contextmanager
    def check(self):
        try:
            yield
        except ConfigError as exc:
            self.found.append(str(exc))


def _build_section(name: str, cls, raw, problems: _Problems) -> object:
    if not isinstance(raw, dict):
        problems.found.append(f"[{name}]: expected a table of settings")
        return cls()
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    for key in raw:
        if key not in fields:
            problems.found.append(f"{name}.{key}: unknown setting (known: {', '.join(sorted(fields))})")
    values = {}
    for key, value in raw.items():
        if key not in fields:
            continue
        with problems.check():
            values[key] = _setting(f"{name}.{key}", fields[key], hints[key], value)
    return cls(**values)


def _setting(full: str, f: dataclasses.Field, tp, value):
    """One setting's value, checked: type, choices, the field's own check."""
    value = _coerce(full, tp, value)
    choices = f.metadata.get("choices")
    if choices and value not in choices:
        raise ConfigError(f"{full}: expected one of {', '.join(map(str, choices))}, got {excerpt(value)}")
    check = f.metadata.get("check")
    if check:
        ok = check(value)
        if ok is not True:
            got = f"a value of {len(value)} characters" if f.metadata.get("private") else excerpt(value)
            raise ConfigError(f"{full}: expected {ok}, got {got}")
    return value


# Sections renamed over time: old name -> current name (old files keep working).
RENAMED_SECTIONS = {"display": "board"}


# Keys moved over time: (old section, key) -> (new section, key). The old key is still
# accepted; when both are given, the new one wins.
MOVED_KEYS = {("card_reader", "read_photo"): ("privacy", "read_photo")}


def _moved(raw: dict) -> dict:
    for (old, key), (new, new_key) in MOVED_KEYS.items():
        section = raw.get(old)
        if not isinstance(section, dict) or key not in section:
            continue
        raw[old] = {k: v for k, v in section.items() if k != key}
        target = raw.get(new, {})
        if isinstance(target, dict) and new_key not in target:
            raw[new] = {**target, new_key: section[key]}
    return raw


def _renamed(raw: dict, problems: _Problems) -> dict:
    raw = dict(raw)
    for old, new in RENAMED_SECTIONS.items():
        if old in raw:
            if new in raw:
                problems.found.append(f"[{old}] and [{new}]: the same settings twice; [{old}] is the old name of "
                                      f"[{new}] — keep only [{new}]")
                del raw[old]
                continue
            raw[new] = raw.pop(old)
    return _moved(raw)


def config_problems(raw: dict, source: str = "") -> tuple[Config, list[str]]:
    """The config built from the file's TOML, and EVERY problem found in it (each
    names its key; what is wrong keeps its default so the other checks still run).
    ``kiosk config check`` lists them all; ``config_from_dict`` refuses the first."""
    problems = _Problems()
    raw = _renamed(raw, problems)
    sections = {f.name: f for f in dataclasses.fields(Config) if not f.metadata.get("internal")}
    for name in raw:
        if name not in sections:
            problems.found.append(f"[{name}]: unknown section (known: {', '.join(sorted(sections))})")
    hints = typing.get_type_hints(Config)
    built = {name: _build_section(name, hints[name], raw[name], problems) for name in raw if name in sections}
    cfg = Config(**built, source=source)
    _check_cross(cfg, problems)
    return cfg, problems.found


def config_from_dict(raw: dict, source: str = "") -> Config:
    """The config, or ConfigError naming the first problem (``problems`` holds them all)."""
    cfg, problems = config_problems(raw, source)
    if problems:
        more = f" (and {len(problems) - 1} more problem(s): kiosk config check {source})" if len(problems) > 1 else ""
        error = ConfigError(problems[0] + more)
        error.problems = problems
        raise error
    return cfg


def _check_cross(cfg: Config, problems: _Problems) -> None:
    his = cfg.his
    with problems.check():
        check_his_settings(his)
    if his.ca_bundle and not Path(his.ca_bundle).expanduser().is_file():
        problems.found.append(f"his.ca_bundle: expected a readable PEM file, got {excerpt(his.ca_bundle)}")
    with problems.check():
        _check_insurance(cfg.insurance)
    with problems.check():
        _check_queue_web(cfg.queue_web)
    if cfg.printer.driver == "escpos" and not cfg.printer.connection:
        problems.found.append("printer.connection: expected usb:VID:PID, network:HOST:PORT, "
                              "serial:DEVICE:BAUD or file:PATH when printer.driver = \"escpos\"")
    for key in ("appointment_pattern", "patient_code_pattern"):
        pattern = getattr(cfg.camera, key)
        if not pattern:
            continue
        try:
            rx = re.compile(pattern)
        except re.error as exc:
            problems.found.append(f"camera.{key}: expected a regular expression ({exc})")
            continue
        if "code" not in rx.groupindex:
            problems.found.append(f"camera.{key}: expected a named group (?P<code>…)")


def password_file_problem(path: str, what: str = "the gateway password") -> str | None:
    """What is wrong with a file holding a secret, or None (``kiosk.config.secret_files``)."""
    return secret_file_problem(path, what)


def _check_insurance(ins: InsuranceSection) -> None:
    if ins.gateway == "none":
        return
    when = f'when insurance.gateway = "{ins.gateway}"'
    if ins.gateway == "bhxh" and not ins.base_url.startswith("https://"):
        raise ConfigError(f"insurance.base_url: expected an https URL {when} (the password travels in the "
                          f"query string), got {excerpt(ins.base_url)}")
    if not ins.username:
        raise ConfigError(f"insurance.username: expected the gateway account name {when}")
    if not ins.password_file:
        raise ConfigError(f"insurance.password_file: expected the path of the file holding the gateway "
                          f"password {when} (the password itself never goes into this file)")
    problem = password_file_problem(ins.password_file)
    if problem:
        raise ConfigError(f"insurance.password_file: {problem}")


def _check_queue_web(q: QueueWebSection) -> None:
    if q.public_base_url and not q.token_secret_file:
        raise ConfigError("queue_web.token_secret_file: expected the file holding the ticket-link secret when "
                          "queue_web.public_base_url is set (kiosk queue-server --new-secret writes one)")
    if q.token_secret_file:
        problem = password_file_problem(q.token_secret_file, "the secret (kiosk queue-server --new-secret)")
        if problem:
            raise ConfigError(f"queue_web.token_secret_file: {problem}")


def find_config_file(explicit: str | None = None) -> Path | None:
    """The config search order: --config, $KIOSK_CONFIG, user config dir, /etc."""
    if explicit:
        return Path(explicit)
    env = os.environ.get("KIOSK_CONFIG")
    if env:
        return Path(env)
    xdg = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    for candidate in (Path(xdg) / "kiosk" / "kiosk.toml", Path("/etc/kiosk/kiosk.toml")):
        if candidate.is_file():
            return candidate
    return None


def read_config_file(found: str | os.PathLike) -> dict:
    """The file's TOML as a dict; ConfigError when it cannot be read, is not
    UTF-8 (naming the byte offset and line) or is not valid TOML."""
    try:
        with open(found, "rb") as f:
            data = f.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise ConfigError(f"config file {found}: cannot be read ({exc.strerror or type(exc).__name__})") from None
    if len(data) > MAX_FILE_BYTES:
        raise ConfigError(f"config file {found}: larger than {MAX_FILE_BYTES:,} bytes — a kiosk config is a few "
                          "kilobytes; is this the right file?")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise ConfigError(f"config file {found}: not UTF-8 text (byte 0x{data[exc.start]:02x} at byte offset "
                          f"{exc.start}, line {line}); save the file as UTF-8") from None
    try:
        raw = tomllib.loads(text.removeprefix("\ufeff"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {found}: not valid TOML ({str(exc)[:200]})") from None
    except RecursionError:
        raise ConfigError(f"config file {found}: tables or lists nested too deeply (at most {MAX_DEPTH} levels)") from None
    deep = _too_deep(raw)
    if deep:
        raise ConfigError(f"{deep}: nested too deeply (a kiosk setting has at most {MAX_DEPTH} levels)")
    return raw


def load_config(path: str | os.PathLike | None = None, *, check_paths: bool = True) -> Config:
    """The config from the search order (built-in defaults when no file).
    A file's config must also pass ``kiosk.config.checks.path_problems``
    (folders and files it names) unless ``check_paths`` is False."""
    found = find_config_file(str(path) if path else None)
    if found is None:
        return Config(source="(built-in defaults)")
    cfg = config_from_dict(read_config_file(found), source=str(found))
    if check_paths:
        from kiosk.config.checks import path_problems

        problems = path_problems(cfg)
        if problems:
            more = f" (and {len(problems) - 1} more problem(s): kiosk config check {found})" if len(problems) > 1 else ""
            raise ConfigError(problems[0] + more)
    return cfg
