"""Real PC/SC for tests: pcscd with the vpcd virtual reader, and the virtual
CCCD card (tests/card/virtual_cccd/card.py) behind it.

Reusable by other test folders (e.g. ``kiosk doctor``)::

    from tests.card.virtual_reader import running_virtual_card, VPCD_READER

    with running_virtual_card("an", csca_dir=tmp_path / "csca") as card:
        card.reader_name      # "Virtual PCD 00 00"
        card.can              # last 6 ID digits (the PACE password)
        card.citizen_id, card.person, card.pki, card.csca_dir, card.files
        card.remove(); card.insert(); card.remove_after(5); card.set_delay(0.3)

pcscd is started (``pcscd --foreground``, as root) only when it is not
already running, and stopped by PID at interpreter exit. vpcd listens on
127.0.0.1:35963 — fixed by the driver's config in /etc/reader.conf.d/vpcd —
so only one virtual card can run at a time.
"""
from __future__ import annotations

import atexit
import fcntl
import json
import os
import queue
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

from tests import leaks

ROOT = Path(__file__).resolve().parents[2]
VICC_VENV = ROOT / ".venv-vicc"
VICC_PYTHON = VICC_VENV / "bin" / "python"
VSMARTCARD_PATH = "/usr/lib/python3/site-packages/virtualsmartcard"
CARD_PROGRAM = Path(__file__).resolve().parent / "virtual_cccd" / "card.py"
VPCD_READER = "Virtual PCD 00 00"
VPCD_PORT = 35963
PYCRYPTODOME_PIN = "pycryptodome==4.4.0"
ECDSA_PIN = "ecdsa==0.19.2"

LOCK_PATH = Path(tempfile.gettempdir()) / "kiosk-vpcd.lock"

_pcscd: subprocess.Popen | None = None
_lock = threading.Lock()


def ensure_vicc_venv() -> Path:
    """The small venv the card runs in (also built by `make install`)."""
    if not VICC_PYTHON.exists():
        subprocess.run(["/usr/bin/python3", "-m", "venv", str(VICC_VENV)], check=True)
        subprocess.run([str(VICC_PYTHON), "-m", "pip", "install", "-q", PYCRYPTODOME_PIN, ECDSA_PIN], check=True)
    return VICC_PYTHON


def _vpcd_listening() -> bool:
    want = f":{VPCD_PORT:04X}"
    try:
        for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
            parts = line.split()
            if parts[1].endswith(want) and parts[3] == "0A":
                return True
    except OSError:
        pass
    return False


def ensure_pcscd(timeout: float = 10.0) -> None:
    """Start pcscd if nothing serves PC/SC yet; wait until vpcd listens."""
    global _pcscd
    with _lock:
        if _vpcd_listening():
            return
        if _pcscd is None or _pcscd.poll() is not None:
            pcscd = shutil.which("pcscd") or "/usr/sbin/pcscd"
            if os.geteuid() != 0:
                raise RuntimeError("pcscd is not running and the tests are not root: start pcscd first")
            _pcscd = subprocess.Popen([pcscd, "--foreground"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                      start_new_session=True)  # Ctrl-C reaches the tests, which stop it
            atexit.register(stop_pcscd)
            leaks.at_session_end(stop_pcscd)  # before the end-of-session check counts it as left running
        deadline = time.monotonic() + timeout
        while not _vpcd_listening():
            if _pcscd.poll() is not None:
                raise RuntimeError(f"pcscd exited with code {_pcscd.returncode}")
            if time.monotonic() > deadline:
                raise RuntimeError("pcscd started but vpcd does not listen on port 35963")
            time.sleep(0.05)


def stop_pcscd() -> None:
    """Stop pcscd if (and only if) these tests started it — after any other
    test process that is using the virtual reader right now has finished."""
    global _pcscd
    proc, _pcscd = _pcscd, None
    if proc is not None and proc.poll() is None:
        try:
            with vpcd_lock(timeout=120):
                proc.terminate()
        except TimeoutError:
            proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


@contextmanager
def running_pcscd() -> Iterator[None]:
    ensure_pcscd()
    yield


def reader_has_card(reader: str = VPCD_READER) -> bool | None:
    """True/False from PC/SC; None when the reader is not listed."""
    from smartcard.scard import (
        SCARD_S_SUCCESS,
        SCARD_SCOPE_USER,
        SCARD_STATE_PRESENT,
        SCARD_STATE_UNAWARE,
        SCardEstablishContext,
        SCardGetStatusChange,
        SCardReleaseContext,
    )

    rc, ctx = SCardEstablishContext(SCARD_SCOPE_USER)
    if rc != SCARD_S_SUCCESS:
        return None
    try:
        rc, states = SCardGetStatusChange(ctx, 0, [(reader, SCARD_STATE_UNAWARE)])
        if rc != SCARD_S_SUCCESS:
            return None
        return bool(states[0][1] & SCARD_STATE_PRESENT)
    finally:
        SCardReleaseContext(ctx)


def wait_reader(present: bool, timeout: float = 10.0, reader: str = VPCD_READER) -> None:
    deadline = time.monotonic() + timeout
    while reader_has_card(reader) is not present:
        if time.monotonic() > deadline:
            raise TimeoutError(f"reader {reader!r} did not report card {'present' if present else 'absent'}")
        time.sleep(0.05)


@dataclass
class VirtualCard:
    person: dict = field(repr=False)
    pki: object = field(repr=False)
    files: dict = field(repr=False)
    folder: Path
    csca_dir: Path
    process: subprocess.Popen = field(repr=False)
    reader_name: str = VPCD_READER
    events: "queue.Queue[str]" = field(default_factory=queue.Queue, repr=False)

    @property
    def citizen_id(self) -> str:
        return self.person["citizen_id"]

    @property
    def can(self) -> str:
        return self.citizen_id[-6:]

    def _send(self, line: str) -> None:
        self.process.stdin.write(line + "\n")
        self.process.stdin.flush()

    def wait_event(self, name: str, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"virtual card did not report {name!r}")
            try:
                if self.events.get(timeout=left) == name:
                    return
            except queue.Empty:
                continue

    def remove(self, wait: bool = True) -> None:
        self._send("remove")
        if wait:
            self.wait_event("removed")
            wait_reader(False)

    def insert(self, wait: bool = True) -> None:
        self._send("insert")
        if wait:
            self.wait_event("inserted")
            wait_reader(True)

    def remove_after(self, apdus: int) -> None:
        """Lift the card when the n-th command APDU from now arrives (unanswered)."""
        self._send(f"remove_after {apdus}")
        self.wait_event("ok")

    def set_delay(self, seconds: float) -> None:
        self._send(f"delay {seconds}")
        self.wait_event("ok")

    def stop(self) -> None:
        if self.process.poll() is None:
            try:
                self._send("quit")
                self.process.wait(5)
            except (OSError, subprocess.TimeoutExpired):
                self.process.terminate()
                self.process.wait(5)
        try:
            wait_reader(False, timeout=5)
        except TimeoutError:
            pass


def card_config(person: dict, **options) -> dict:
    """card.json: the PACE password (CAN) and the BAC key seed input."""
    import datetime as dt

    from devices.cccd.mrz import bac_key_seed_input, yymmdd
    from devices.cccd.sample_card import expiry_for

    birth = dt.date.fromisoformat(person["birth_date"])
    expiry = expiry_for(birth, dt.date.fromisoformat(person["issue_date"])) or dt.date(2099, 12, 31)
    return {"can": person["citizen_id"][-6:],
            "mrz_info": bac_key_seed_input(person["citizen_id"][-9:], yymmdd(birth), yymmdd(expiry)),
            **options}


@contextmanager
def vpcd_lock(timeout: float = 300.0) -> Iterator[None]:
    """vpcd has one fixed port: test processes running at the same time (other
    test folders use this helper too) take turns through this file lock."""
    with open(LOCK_PATH, "w") as handle:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise TimeoutError("another test process kept the virtual reader for too long") from None
                time.sleep(0.1)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@contextmanager
def running_virtual_card(person_key: str = "an", csca_dir: str | Path | None = None, *, pki=None,
                         files: dict[str, bytes] | None = None, tamper: str | None = None,
                         **options) -> Iterator[VirtualCard]:
    """Start the virtual CCCD of a demo person on the vpcd reader.

    ``csca_dir``: where the test CSCA certificate is written (a temp folder by
    default). ``pki``: reuse a PKI (devices.cccd.sample_card.make_pki()).
    ``files``: replace LDS files. ``tamper``: name of a data group whose bytes
    are changed after signing (passive authentication must fail).
    ``options`` go to card.json: pace, bac, extended, max_response, delay, emrtd.
    Holds the cross-process vpcd lock (``vpcd_lock``) while the card runs.
    """
    with vpcd_lock():
        with _running_virtual_card(person_key, csca_dir, pki=pki, files=files, tamper=tamper, **options) as card:
            yield card


@contextmanager
def _running_virtual_card(person_key, csca_dir, *, pki, files, tamper, **options) -> Iterator[VirtualCard]:
    from devices.cccd import sample_card
    from kiosk.demo_data import demo_person

    ensure_pcscd()
    python = ensure_vicc_venv()
    person = demo_person(person_key)
    pki = pki or sample_card.make_pki()
    content = sample_card.sign_files(sample_card.person_files(person), pki)
    content.update(files or {})
    if tamper:
        content[tamper] = _tampered(content[tamper])
    work = Path(tempfile.mkdtemp(prefix="vcccd-"))
    folder = sample_card.write_card(work / "card", content)
    (folder / "card.json").write_text(json.dumps(card_config(person, **options)))
    csca = Path(csca_dir) if csca_dir else work / "csca"
    pki.write_csca(csca)
    wait_reader(False, timeout=10)
    env = {**os.environ, "PYTHONPATH": VSMARTCARD_PATH, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen([str(python), str(CARD_PROGRAM), str(folder)], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=sys.stderr, text=True, env=env)
    card = VirtualCard(person, pki, content, folder, csca, proc)
    threading.Thread(target=_pump, args=(proc, card.events), daemon=True).start()
    try:
        card.wait_event("inserted")
        wait_reader(True)
        yield card
    finally:
        card.stop()
        shutil.rmtree(work, ignore_errors=True)


def _tampered(data: bytes) -> bytes:
    """Change one character of the last text value (keeps the TLV well formed)."""
    out = bytearray(data)
    for i in range(len(out) - 1, 0, -1):
        if 0x41 <= out[i] <= 0x5A:  # an ASCII capital letter
            out[i] = 0x41 + (out[i] - 0x41 + 1) % 26
            return bytes(out)
    out[-1] ^= 0x01
    return bytes(out)


def _pump(proc: subprocess.Popen, events: "queue.Queue[str]") -> None:
    for line in proc.stdout:
        events.put(line.strip())


def main(argv: list[str] | None = None) -> int:
    """`python -m tests.card.virtual_reader an --csca /tmp/csca`: put a demo
    person's virtual CCCD on the vpcd reader until Ctrl-C (for trying
    `kiosk read-card` by hand)."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m tests.card.virtual_reader", description=main.__doc__)
    parser.add_argument("person", nargs="?", default="an", help="demo person key (assets/demo/hospital.json)")
    parser.add_argument("--csca", default=str(Path(tempfile.gettempdir()) / "kiosk-test-csca"),
                        help="folder where the test CSCA certificate is written")
    args = parser.parse_args(argv)
    import signal

    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    with running_virtual_card(args.person, args.csca) as card:
        print(f"card of {args.person!r} on reader {card.reader_name!r}; CAN {card.can}; CSCA in {card.csca_dir}")
        print(f"try: kiosk read-card --reader {card.reader_name!r} --can {card.can} --trust {card.csca_dir} --json")
        try:
            card.process.wait()
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
