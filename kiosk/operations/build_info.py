"""Which software and which settings a kiosk runs — for ``kiosk_info``, so IT
sees the whole fleet at a glance.

- ``software_version()``: the version in pyproject.toml, plus the git commit when the
  kiosk runs from a checkout (``/opt/kiosk`` is one: deploy/README.md), e.g.
  ``0.1.0+g1a2b3c4d``.
- ``config_hash(config)``: 12 hex digits of SHA-256 over the parsed settings,
  without the kiosk's id (it has its own label, so kiosks set up alike show
  the same hash) and without any setting that holds a secret or personal data
  (tokens, passwords, PIN hash, user names, staff identity, key files): the
  hash can be shown anywhere and changes whenever a setting that matters does.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import re
import tomllib
from functools import lru_cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]  # kiosk/operations/build_info.py → the checkout
# Setting names that hold (or point at) a secret or a person's data: never hashed.
SECRET_NAMES = re.compile(r"token|password|secret|pin|private|credential|key_file|username|staff_", re.I)
NOT_HASHED = {("kiosk", "id")}
# Names that look secret but are settings like any other (which method, which URL): hashed.
NOT_SECRET = {"client_secret_method", "token_url"}


def hashed_settings(config) -> dict:
    """The settings that go into the hash (secret-bearing ones left out)."""
    out: dict = {}
    for section_field in dataclasses.fields(config):
        if section_field.metadata.get("internal"):
            continue
        section = getattr(config, section_field.name)
        out[section_field.name] = {
            f.name: getattr(section, f.name) for f in dataclasses.fields(section)
            if not f.metadata.get("private") and (f.name in NOT_SECRET or not SECRET_NAMES.search(f.name))
            and (section_field.name, f.name) not in NOT_HASHED}
    return out


def config_hash(config) -> str:
    blob = json.dumps(hashed_settings(config), sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:12]


def _git_commit(root: Path) -> str | None:
    """The commit checked out at ``root`` (a plain checkout or a worktree), read
    from the files — no git needed on the kiosk."""
    dot_git = root / ".git"
    try:
        if dot_git.is_file():  # a worktree: "gitdir: /path"
            git_dir = Path(dot_git.read_text(encoding="utf-8").split(":", 1)[1].strip())
        elif dot_git.is_dir():
            git_dir = dot_git
        else:
            return None
        common = git_dir / "commondir"
        common_dir = (git_dir / common.read_text(encoding="utf-8").strip()).resolve() if common.is_file() else git_dir
        head = (git_dir / "HEAD").read_text(encoding="utf-8").strip()
        if not head.startswith("ref:"):
            return head[:40] or None
        ref = head[4:].strip()
        for base in (git_dir, common_dir):
            if (base / ref).is_file():
                return (base / ref).read_text(encoding="utf-8").strip()[:40]
        packed = common_dir / "packed-refs"
        if packed.is_file():
            for line in packed.read_text(encoding="utf-8").splitlines():
                if line.endswith(" " + ref):
                    return line.split(" ", 1)[0]
    except (OSError, IndexError, UnicodeDecodeError):
        return None
    return None


@lru_cache(maxsize=1)
def software_version() -> str:
    # The kiosk runs from its checkout (installed with pip -e): pyproject.toml is the version's one place.
    try:
        version = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]
    except (OSError, KeyError, tomllib.TOMLDecodeError):
        version = "unknown"
    commit = _git_commit(ROOT)
    if commit and re.fullmatch(r"[0-9a-f]{40}", commit):
        version += f"+g{commit[:9]}"
    return version
