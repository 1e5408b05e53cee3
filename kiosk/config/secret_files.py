"""Files that hold a secret (the HIS sign-in, the BHXH gateway password, the
queue service's link key): the one rule for what such a file must be.

A secret never lives in the TOML: the config names a file, which must exist,
be a readable, non-empty regular file private to its owner (mode 0600 or
0400). A path may use ``$CREDENTIALS_DIRECTORY`` (systemd ``LoadCredential=``);
outside the service that variable is unset and the file is checked where it
is used. Nothing here ever shows a secret.
"""
from __future__ import annotations

import os
import stat
from pathlib import Path

from kiosk.errors import ConfigError

CREDENTIALS_VAR = "CREDENTIALS_DIRECTORY"


def secret_path(path: str) -> Path | None:
    """The file a secret-file setting names, with ``~`` and ``$VARIABLES``
    expanded; None while a variable in it is unset (``$CREDENTIALS_DIRECTORY``
    outside the systemd service)."""
    expanded = os.path.expandvars(path)
    if "$" in expanded:
        return None
    return Path(expanded).expanduser()


def secret_file_problem(path: str, what: str = "the secret") -> str | None:
    """What is wrong with a secret file, or None (also None while its path waits
    for ``$CREDENTIALS_DIRECTORY``). Never reads or shows the secret."""
    file = secret_path(path)
    if file is None:
        return None  # checked where the variable is set (inside the service)
    try:
        st = file.stat()
    except FileNotFoundError:
        return f"{path} does not exist (write {what} into it, then: chmod 600 {path})"
    except OSError as exc:
        return f"{path} cannot be read ({exc.strerror})"
    if not stat.S_ISREG(st.st_mode):
        return f"{path} is not a file"
    if st.st_mode & 0o077:
        return (f"{path} is readable by group or others (mode {stat.S_IMODE(st.st_mode):04o}); "
                f"expected mode 0600 or stricter: chmod 600 {path}")
    if not os.access(file, os.R_OK):
        return f"{path} cannot be read by this user"
    if st.st_size == 0:
        return f"{path} is empty (write {what} into it)"
    return None


def read_secret(key: str, path: str, what: str = "the secret") -> str:
    """The secret in a file (surrounding white space removed); ConfigError naming
    the key — never the secret — when it cannot be used."""
    file = secret_path(path)
    if file is None:
        raise ConfigError(f"{key}: {path} names ${CREDENTIALS_VAR}, which is not set for this process "
                          "(run the kiosk as its systemd service, or give the file's real path)")
    problem = secret_file_problem(path, what)
    if problem:
        raise ConfigError(f"{key}: {problem}")
    value = file.read_text(encoding="utf-8").strip()
    if not value:
        raise ConfigError(f"{key}: {path} holds only white space")
    return value


class SecretFile:
    """A secret file read for every request (a bearer token, a basic-auth
    password): read again only when the file changes (a rotated token is used
    at once), else kept; checked as ``read_secret`` checks it each time it is
    read, and a file that disappears or cannot be looked at is refused at once."""

    def __init__(self, key: str, path: str, what: str = "the secret"):
        self.key, self.path, self.what = key, path, what
        self._seen: tuple | None = None
        self._value = ""

    def value(self) -> str:
        file = secret_path(self.path)
        try:
            st = file.stat() if file is not None else None
        except OSError:
            st = None
        seen = (st.st_ino, st.st_mtime_ns, st.st_size, st.st_mode, st.st_uid) if st is not None else None
        if seen is None or seen != self._seen:
            self._value = read_secret(self.key, self.path, self.what)  # refuses, naming the key, when unusable
            self._seen = seen
        return self._value
