"""A virtual CCCD chip for tests, on the ``virtualsmartcard`` library (vsmartcard).

Runs under Debian's /usr/bin/python3 (the ``.venv-vicc`` venv: pycryptodome,
ecdsa, and /usr/lib/python3/site-packages/virtualsmartcard on PYTHONPATH) and
talks to pcscd's ``vpcd`` driver on 127.0.0.1:35963 — that port is fixed by
the driver's config in /etc/reader.conf.d/vpcd, so only one virtual card can
run at a time.

The card side is written independently of the reader under test: its
ciphers and MACs come from pycryptodome and its protocol code is its own, so
a shared mistake cannot make both sides agree. It implements PACE
(ECDH-GM, AES-128, brainpoolP256r1 by default), BAC, secure messaging
(3DES and AES, short and extended length) and the LDS files written by the
test into a folder (``COM.bin``, ``DG1.bin``…).

Scripting (one command per line on stdin; events are printed on stdout):
  remove              lift the card (close the vpcd connection)
  insert              put it back (after ≥0.6 s, to avoid pcscd's re-insert race)
  remove_after N      lift the card when the N-th command APDU from now arrives,
                      without answering it
  delay SECONDS       answer every APDU this much later (a slow card)
  quit
"""
from __future__ import annotations

import argparse
import json
import socket
import struct
import sys
import threading
import time
from pathlib import Path

from card_os import CccdOS

VPCD_PORT = 35963  # fixed by /etc/reader.conf.d/vpcd (CHANNELID 0x8C7B)


class VirtualReaderLink:
    """The vpcd side: connect = insert, disconnect = remove; answers promptly (TCP_NODELAY)."""

    def __init__(self, os_: CccdOS, host: str = "127.0.0.1", port: int = VPCD_PORT):
        self.os, self.host, self.port = os_, host, port
        self.want_inserted = threading.Event()
        self.want_inserted.set()
        self.quit = threading.Event()
        self.sock: socket.socket | None = None
        self.remove_after: int | None = None
        self.delay = 0.0
        self.last_removed = 0.0
        self.lock = threading.Lock()

    def say(self, text: str) -> None:
        print(text, flush=True)

    def _recv_exact(self, n: int) -> bytes:
        buf = b""
        while len(buf) < n:
            # vpcd writes the length and the APDU separately without TCP_NODELAY:
            # acknowledging at once keeps Nagle from holding the second write ~40 ms
            self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK, 1)
            chunk = self.sock.recv(n - len(buf))
            if not chunk:
                raise ConnectionError("vpcd closed")
            buf += chunk
        return buf

    def _send(self, payload: bytes) -> None:
        self.sock.sendall(struct.pack("!H", len(payload)) + payload)

    def remove(self) -> None:
        with self.lock:
            self.want_inserted.clear()
            if self.sock is not None:
                try:
                    self.sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def serve(self) -> None:
        while not self.quit.is_set():
            if not self.want_inserted.wait(0.2):
                continue
            gap = 0.6 - (time.monotonic() - self.last_removed)
            if gap > 0:
                time.sleep(gap)
            try:
                sock = socket.create_connection((self.host, self.port), timeout=5)
            except OSError:
                time.sleep(0.2)
                continue
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            sock.settimeout(None)
            with self.lock:
                self.sock = sock
                if not self.want_inserted.is_set():  # removed while connecting
                    sock.close()
                    continue
            self.os.reset()
            self.say("inserted")
            try:
                self._loop()
            except (ConnectionError, OSError):
                pass
            finally:
                with self.lock:
                    sock.close()
                    self.sock = None
                self.last_removed = time.monotonic()
                self.say("removed")

    def _loop(self) -> None:
        while True:
            size = struct.unpack("!H", self._recv_exact(2))[0]
            msg = self._recv_exact(size) if size else b""
            if size == 1:
                code = msg[0]
                if code == 4:
                    self._send(self.os.getATR())
                elif code in (0, 1, 2):
                    self.os.reset()
                continue
            if self.remove_after is not None:
                self.remove_after -= 1
                if self.remove_after <= 0:
                    self.remove_after = None
                    self.want_inserted.clear()
                    raise ConnectionError("scripted removal")
            if self.delay:
                time.sleep(self.delay)
            self._send(self.os.execute(msg))

    def commands(self, stream) -> None:
        for line in stream:
            parts = line.split()
            if not parts:
                continue
            cmd = parts[0]
            if cmd == "remove":
                self.remove()
            elif cmd == "insert":
                self.want_inserted.set()
            elif cmd == "remove_after":
                self.remove_after = int(parts[1])
                self.say("ok")
            elif cmd == "delay":
                self.delay = float(parts[1])
                self.say("ok")
            elif cmd == "quit":
                break
        self.quit.set()
        self.remove()


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("card", help="folder with card.json and the LDS files (COM.bin, DG1.bin…)")
    ap.add_argument("--port", type=int, default=VPCD_PORT)
    args = ap.parse_args(argv)
    folder = Path(args.card)
    conf = json.loads((folder / "card.json").read_text())
    files = {p.stem: p.read_bytes() for p in folder.glob("*.bin")}
    os_ = CccdOS(files, conf["can"], conf.get("mrz_info"), allow_pace=conf.get("pace", True),
                 allow_bac=conf.get("bac", True), extended=conf.get("extended", True),
                 max_response=conf.get("max_response", 65536), parameter_id=conf.get("parameter_id", 13),
                 emrtd=conf.get("emrtd", True))
    link = VirtualReaderLink(os_, port=args.port)
    link.delay = float(conf.get("delay", 0.0))
    threading.Thread(target=link.commands, args=(sys.stdin,), daemon=True).start()
    link.serve()
    return 0


if __name__ == "__main__":
    sys.exit(main())
