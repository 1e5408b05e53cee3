"""Nothing the test suite starts may outlive it.

``tests/conftest.py`` calls ``mark_session()`` when pytest starts and
``survivors()`` / ``stop()`` when the session ends (after every fixture's
teardown). A survivor is a live process, other than pytest itself, that is

* a child or grandchild… of this pytest process, or
* carries this session's mark in its environment (``KIOSK_TEST_SESSION``,
  inherited by everything the suite starts — also after its parent died and
  it was re-parented to init), or
* was started after the session began and has a command line pointing into
  this checkout or the session's temporary folder,

and does not belong to another test session running at the same time (its
own mark, or another pytest among its ancestors). Read from /proc (Linux; no
psutil). Zombies are already dead and do not count.
"""
from __future__ import annotations

import os
import re
import signal
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

MARK = "KIOSK_TEST_SESSION"
PROC = Path("/proc")
# Python's own helpers that end with the interpreter (a pipe from it closes).
HARMLESS = ("multiprocessing.resource_tracker", "multiprocessing.forkserver")


@dataclass(frozen=True)
class Proc:
    pid: int
    ppid: int
    name: str  # the command name (comm)
    state: str
    start: int  # clock ticks after boot
    cmdline: str
    mark: str | None  # this process's KIOSK_TEST_SESSION, when readable

    def describe(self) -> str:
        return f"{self.name} (pid {self.pid})"


_AT_END: list = []


def at_session_end(fn) -> None:
    """Run ``fn()`` when the session ends, before survivors are counted: for a
    helper shared by the whole run and stopped only then (pcscd)."""
    if fn not in _AT_END:
        _AT_END.append(fn)


def run_session_end() -> None:
    while _AT_END:
        fn = _AT_END.pop()
        try:
            fn()
        except Exception as exc:  # noqa: BLE001 - one failing cleanup must not skip the others
            print(f"session-end cleanup {getattr(fn, '__name__', fn)} failed: {exc!r}", file=sys.stderr)


def mark_session() -> str:
    """Mark this session: every process it starts inherits the mark."""
    token = os.environ.get(MARK)
    if not token or not token.endswith(f"-{os.getpid()}"):
        token = f"{uuid.uuid4().hex[:12]}-{os.getpid()}"
        os.environ[MARK] = token
    return token


def _read(pid: int) -> Proc | None:
    base = PROC / str(pid)
    try:
        stat = (base / "stat").read_text(encoding="utf-8", errors="replace")
        name = stat[stat.index("(") + 1:stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2:].split()
        cmdline = (base / "cmdline").read_bytes().replace(b"\0", b" ").decode("utf-8", "replace").strip()
    except (OSError, ValueError):
        return None  # gone meanwhile
    mark = None
    try:
        for entry in (base / "environ").read_bytes().split(b"\0"):
            if entry.startswith(MARK.encode() + b"="):
                mark = entry.split(b"=", 1)[1].decode("ascii", "replace")
                break
    except OSError:
        pass  # another user's process: not ours
    return Proc(pid, int(fields[1]), name, fields[0], int(fields[19]), cmdline, mark)


def processes() -> dict[int, Proc]:
    found = {}
    for entry in PROC.iterdir():
        if entry.name.isdigit():
            proc = _read(int(entry.name))
            if proc:
                found[proc.pid] = proc
    return found


def _ancestors(pid: int, table: dict[int, Proc]) -> list[int]:
    chain, seen = [], set()
    while pid in table and pid not in seen and pid > 1:
        seen.add(pid)
        pid = table[pid].ppid
        chain.append(pid)
    return chain


def survivors(token: str, places: list[str | os.PathLike], me: int | None = None) -> list[Proc]:
    """The live processes this session left behind (see the module docstring)."""
    me = me or os.getpid()
    table = processes()
    mine = table.get(me)
    since = mine.start if mine else 0
    exclude = {me, *_ancestors(me, table)}
    roots = [re.compile(re.escape(str(Path(p)).rstrip(os.sep)) + r"(/|\s|$)") for p in places if p]
    found = []
    for proc in table.values():
        if proc.pid in exclude or proc.state in ("Z", "X") or any(h in proc.cmdline for h in HARMLESS):
            continue
        chain = _ancestors(proc.pid, table)
        if me in chain or proc.mark == token:
            found.append(proc)
            continue
        if proc.mark is not None or proc.start < since:
            continue  # another session's, or running before this one began
        if any("pytest" in table[a].cmdline for a in chain if a in table and a not in exclude):
            continue  # started by another test run of this checkout
        if any(root.search(proc.cmdline) for root in roots):
            found.append(proc)
    return sorted(found, key=lambda p: p.pid)


def stop(procs: list[Proc], grace_s: float = 3.0) -> None:
    """SIGTERM, then SIGKILL what is still there after ``grace_s``."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for proc in procs:
            try:
                os.kill(proc.pid, sig)
            except (ProcessLookupError, PermissionError):
                pass
        deadline = time.monotonic() + grace_s
        while time.monotonic() < deadline and any(_alive(p) for p in procs):
            time.sleep(0.05)


def _alive(proc: Proc) -> bool:
    now = _read(proc.pid)
    return bool(now and now.start == proc.start and now.state not in ("Z", "X"))


def wait_for_none(token: str, places: list, wait_s: float = 5.0) -> list[Proc]:
    """Survivors after giving servers that are shutting down ``wait_s`` to exit."""
    deadline = time.monotonic() + wait_s
    while True:
        left = survivors(token, places)
        if not left or time.monotonic() >= deadline:
            return left
        time.sleep(0.1)
