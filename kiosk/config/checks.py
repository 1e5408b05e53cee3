"""Checks of a loaded config against the machine: the folders and files it
names. Run by ``load_config`` (a file-based config must pass them) and listed
in full by ``kiosk config check``.

- ``kiosk.data_dir``: a folder, or creatable (its nearest existing parent is a
  writable folder) — never a file;
- ``offline.database``: a file, never a folder; its folder creatable;
- ``card_reader.trust_store``: an existing folder when set;
- ``printer.logo``: an existing file when set;
- ``his.ca_bundle``: an existing file when set.

Each problem is one line that names the key: ``kiosk.data_dir: expected a
folder, but /var/lib/kiosk is a file``.
"""
from __future__ import annotations

import os
from pathlib import Path


def _nearest_existing(path: Path) -> Path:
    path = path.absolute()
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def _creatable_folder(key: str, folder: Path) -> str | None:
    """None when ``folder`` is a folder or can be made; else the problem."""
    if folder.is_dir():
        return None
    if folder.exists():
        return f"{key}: expected a folder, but {folder} is a file"
    parent = _nearest_existing(folder)
    if not parent.is_dir():
        return f"{key}: expected a folder that can be created, but {parent} is a file"
    if not os.access(parent, os.W_OK | os.X_OK):
        return f"{key}: expected a folder that can be created, but {parent} is not writable by this user"
    return None


def path_problems(config) -> list[str]:
    """Every path problem of ``config`` (empty when all is well)."""
    return [text for _, text in keyed_path_problems(config)]


def keyed_path_problems(config) -> list[tuple[str, str]]:
    """The same problems, each with the setting it is about (``printer.logo``):
    what the admin screen's save refuses when it sets that setting."""
    problems: list[tuple[str, str]] = []
    data_dir = config.data_dir()
    data_key = "kiosk.data_dir" if config.kiosk.data_dir else "kiosk.data_dir (default)"
    problem = _creatable_folder(data_key, data_dir)
    if problem:
        problems.append(("kiosk.data_dir", problem))
    database = config.database_path()
    db_key = "offline.database" if config.offline.database else "offline.database (default: <kiosk.data_dir>/kiosk.sqlite3)"
    if database.is_dir():
        problems.append(("offline.database", f"{db_key}: expected an SQLite file, but {database} is a folder"))
    elif database.exists() and not database.is_file():
        problems.append(("offline.database", f"{db_key}: expected an SQLite file, but {database} is not a regular file"))
    elif not problem or config.offline.database:
        folder_problem = _creatable_folder(db_key + "'s folder", database.parent)
        if folder_problem:
            problems.append(("offline.database", folder_problem))
    for key, value, want in (("card_reader.trust_store", config.card_reader.trust_store, "folder"),
                             ("printer.logo", config.printer.logo, "file"),
                             ("his.ca_bundle", config.his.ca_bundle, "file")):
        if not value:
            continue
        path = Path(value).expanduser()
        ok = path.is_dir() if want == "folder" else path.is_file()
        if not ok:
            state = "does not exist" if not path.exists() else f"is not a {want}"
            problems.append((key, f"{key}: expected an existing {want}, but {path} {state}"))
        elif not os.access(path, os.R_OK):
            problems.append((key, f"{key}: expected a readable {want}, but {path} cannot be read by this user"))
    return problems
