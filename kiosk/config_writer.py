"""Write settings back to the kiosk's TOML config without breaking it.

The admin screen and ``kiosk admin set-pin`` change a few ``section.key``
values. The file is edited line by line so that the technician's comments and
layout stay: ``key = value`` is replaced in the right ``[section]`` (keeping an
end-of-line comment), a missing key is added at the end of its section, and a
missing section is appended. The result is parsed and validated with
``kiosk.config.config_from_dict`` *before* anything is written; a value that
does not validate raises ``ConfigError`` and leaves the file as it was. The
new text replaces the old one atomically (temporary file, fsync, rename), so a
power cut leaves either the old or the new config, never half of one.

When the file uses a layout the line editor cannot handle safely (a value
spread over several lines, dotted keys, inline tables), the whole file is
rewritten from the parsed settings instead; comments are lost then, settings
are not.
"""
from __future__ import annotations

import json
import math
import os
import re
import tempfile
import tomllib
from pathlib import Path

from .config import Config, config_from_dict
from .errors import ConfigError

_SECTION_RE = re.compile(r"^\s*\[\s*([A-Za-z0-9_-]+)\s*\]\s*(#.*)?$")
_ANY_TABLE_RE = re.compile(r"^\s*\[")


def format_value(value) -> str:
    """A Python value as a TOML value."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ConfigError(f"expected a finite number, got {value!r}")
        text = repr(value)
        return text if any(c in text for c in ".e") else text + ".0"
    if isinstance(value, str):
        # A JSON string is a valid TOML basic string (same escapes, \\uXXXX for controls).
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(format_value(v) for v in value) + "]"
    raise ConfigError(f"cannot write a {type(value).__name__} to the config")


def _split_changes(changes: dict) -> dict[str, dict]:
    by_section: dict[str, dict] = {}
    for dotted, value in changes.items():
        section, _, key = dotted.partition(".")
        if not section or not key or "." in key:
            raise ConfigError(f"{dotted}: expected section.key")
        by_section.setdefault(section, {})[key] = value
    return by_section


def _key_re(key: str) -> re.Pattern:
    k = re.escape(key)
    return re.compile(rf"^(\s*)(?:{k}|\"{k}\"|'{k}')\s*=\s*(.*)$")


def _trailing_comment(value_and_comment: str) -> str:
    """The ``  # comment`` after a one-line value, found by trying each '#'
    until the text before it parses as a TOML value."""
    for m in re.finditer("#", value_and_comment):
        head = value_and_comment[:m.start()]
        try:
            tomllib.loads("x = " + head)
        except tomllib.TOMLDecodeError:
            continue
        return value_and_comment[len(head.rstrip()):]
    return ""


def edit_text(text: str, changes: dict) -> str:
    """Apply ``{"section.key": value}`` to TOML text, line by line."""
    lines = text.splitlines()
    for section, values in _split_changes(changes).items():
        start = next((i for i, line in enumerate(lines)
                      if (m := _SECTION_RE.match(line)) and m.group(1) == section), None)
        if start is None:
            if lines and lines[-1].strip():
                lines.append("")
            lines.append(f"[{section}]")
            lines.extend(f"{k} = {format_value(v)}" for k, v in values.items())
            continue
        end = next((i for i in range(start + 1, len(lines)) if _ANY_TABLE_RE.match(lines[i])), len(lines))
        missing = []
        for key, value in values.items():
            rx = _key_re(key)
            for i in range(start + 1, end):
                m = rx.match(lines[i])
                if m:
                    comment = _trailing_comment(m.group(2))
                    lines[i] = f"{m.group(1)}{key} = {format_value(value)}{comment}"
                    break
            else:
                missing.append(f"{key} = {format_value(value)}")
        if missing:
            # after the section's last setting, before the blank lines/comments that lead to the next one
            insert_at = end
            while insert_at - 1 > start and (not lines[insert_at - 1].strip()
                                             or lines[insert_at - 1].lstrip().startswith("#")):
                insert_at -= 1
            lines[insert_at:insert_at] = missing
    return "\n".join(lines) + "\n"


def dump_config_dict(raw: dict) -> str:
    """Plain TOML for a ``{section: {key: value}}`` dict (the fallback writer)."""
    out = []
    for section, values in raw.items():
        out.append(f"[{section}]")
        out.extend(f"{k} = {format_value(v)}" for k, v in values.items())
        out.append("")
    return "\n".join(out)


def _wanted(raw: dict, changes: dict) -> bool:
    return all(raw.get(s, {}).get(k, object()) == v
               for s, values in _split_changes(changes).items() for k, v in values.items())


def _normalise(changes: dict) -> dict:
    # ints given for float settings are fine for TOML and for the validator
    return {k: list(v) if isinstance(v, tuple) else v for k, v in changes.items()}


def plan_update(text: str, changes: dict, source: str = "") -> tuple[str, Config]:
    """The new file text and the validated config; raises ConfigError when a
    value is invalid. Nothing is written."""
    changes = _normalise(changes)
    try:
        tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {source or ''}: not valid TOML now ({exc}); fix it by hand first") from None
    new_text = edit_text(text, changes)
    try:
        raw = tomllib.loads(new_text)
        ok = _wanted(raw, changes)
    except tomllib.TOMLDecodeError:
        ok = False
    if not ok:  # layout the line editor cannot handle: rewrite from the parsed settings
        raw = tomllib.loads(text)
        for section, values in _split_changes(changes).items():
            table = raw.setdefault(section, {})
            if not isinstance(table, dict):
                raise ConfigError(f"[{section}]: expected a table of settings")
            table.update(values)
        new_text = dump_config_dict(raw)
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
    (file untouched) when the result would not be a valid config."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8") if path.exists() else ""
    except OSError as exc:
        raise ConfigError(f"config file {path}: cannot be read ({exc.strerror})") from None
    new_text, config = plan_update(text, changes, source=str(path))
    try:
        write_atomically(path, new_text)
    except OSError as exc:
        raise ConfigError(f"config file {path}: cannot be written ({exc.strerror}); "
                          "check the file's owner and permissions") from None
    return config
