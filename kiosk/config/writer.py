"""Write settings back to the kiosk's TOML config without breaking it.

The admin screen and ``kiosk admin set-pin`` change a few ``section.key``
values. The file is edited with ``tomlkit`` (the kept library for
style-preserving TOML), so the technician's comments, order and layout stay:
a value is replaced where it is (keeping its end-of-line comment), a missing
key is added at the end of its section — before the comments that close it —
and a missing section is appended. A section known under an old name
(``[display]`` for ``[board]``) is edited where it is.

The result is parsed and validated with ``kiosk.config.loader.config_from_dict``
*before* anything is written; a value that does not validate raises
``ConfigError`` and leaves the file as it was. The new text replaces the old
one atomically (temporary file, fsync, rename), so a power cut leaves either
the old or the new config, never half of one.
"""
from __future__ import annotations

import math
import os
import tempfile
import tomllib
from pathlib import Path

import tomlkit
from tomlkit.exceptions import TOMLKitError
from tomlkit.items import Table

from kiosk.config.checks import keyed_path_problems
from kiosk.config.loader import RENAMED_SECTIONS, Config, config_from_dict
from kiosk.errors import ConfigError


def _check_value(key: str, value):
    if isinstance(value, float) and not math.isfinite(value):
        raise ConfigError(f"{key}: expected a finite number, got {value!r}")
    if isinstance(value, tuple):
        return list(value)
    if not isinstance(value, (bool, int, float, str, list)):
        raise ConfigError(f"{key}: cannot write a {type(value).__name__} to the config")
    return value


def format_value(value) -> str:
    """A Python value as a TOML value (what would be written)."""
    return tomlkit.item(_check_value("value", value)).as_string()


def _split_changes(changes: dict) -> dict[str, dict]:
    by_section: dict[str, dict] = {}
    for dotted, value in changes.items():
        section, _, key = dotted.partition(".")
        if not section or not key or "." in key:
            raise ConfigError(f"{dotted}: expected section.key")
        by_section.setdefault(section, {})[key] = _check_value(dotted, value)
    return by_section


def _section_in(doc, section: str) -> str:
    """The name the file uses for ``section`` (its old name if the file has that)."""
    current = RENAMED_SECTIONS.get(section, section)
    for old, new in RENAMED_SECTIONS.items():
        if new == current and old in doc and current not in doc:
            return old
    return current


def _append_in_section(table: Table, key: str, value) -> None:
    """Add ``key`` after the section's last setting, before the blank lines and
    comments that lead to the next section."""
    container = table.value
    body = container.body
    last = max((i for i, (k, _) in enumerate(body) if k is not None), default=-1)
    if last + 1 >= len(body):
        table.append(key, value)
    else:
        container._insert_at(last + 1, key, tomlkit.item(value))  # tomlkit's own insert (keeps its index)


def edit_text(text: str, changes: dict) -> str:
    """Apply ``{"section.key": value}`` to TOML text, keeping comments and layout."""
    try:
        doc = tomlkit.parse(text)
    except TOMLKitError as exc:
        raise ConfigError(f"not valid TOML ({exc})") from None
    for section, values in _split_changes(changes).items():
        name = _section_in(doc, section)
        if name not in doc:
            table = tomlkit.table()
            for key, value in values.items():
                table.add(key, value)
            if doc.body and not text.endswith("\n\n"):
                doc.add(tomlkit.nl())
            doc.add(name, table)
            continue
        table = doc[name]
        if not isinstance(table, Table):
            raise ConfigError(f"[{name}]: expected a table of settings")
        for key, value in values.items():
            if key in table:
                table[key] = value
            else:
                _append_in_section(table, key, value)
    return tomlkit.dumps(doc)


def plan_update(text: str, changes: dict, source: str = "") -> tuple[str, Config]:
    """The new file text and the validated config; raises ConfigError when a
    value is invalid. Nothing is written."""
    try:
        tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {source or ''}: not valid TOML now ({exc}); fix it by hand first") from None
    new_text = edit_text(text, changes)
    config = config_from_dict(tomllib.loads(new_text), source=source)
    return new_text, config


def write_atomically(path: Path, text: str) -> None:
    """Temporary file in the same folder, fsync, rename over the old file, fsync the folder."""
    path = Path(path)
    mode = path.stat().st_mode & 0o777 if path.exists() else 0o640
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    try:
        dir_fd = os.open(path.parent, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def update_config(path: str | os.PathLike, changes: dict) -> Config:
    """Validate ``{"section.key": value}`` against the file at ``path`` and
    write it back atomically. Returns the new config; raises ``ConfigError``
    (file untouched) when the result would not be a valid config, or when a
    path it sets does not exist (the same check as ``kiosk config check``;
    problems of paths the change does not touch are left to that command)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8") if path.exists() else ""
    except OSError as exc:
        raise ConfigError(f"config file {path}: cannot be read ({exc.strerror})") from None
    new_text, config = plan_update(text, changes, source=str(path))
    touched = [text for key, text in keyed_path_problems(config) if key in changes]
    if touched:
        raise ConfigError("; ".join(touched))
    try:
        write_atomically(path, new_text)
    except OSError as exc:
        raise ConfigError(f"config file {path}: cannot be written ({exc.strerror}); "
                          "check the file's owner and permissions") from None
    return config
