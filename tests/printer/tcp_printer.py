"""A fake ESC/POS network printer on loopback, for tests (printer and ``kiosk doctor``).

It listens on 127.0.0.1 at a random port like a receipt printer's port 9100,
records every byte, parses the ESC/POS command stream as a printer does
(so raster data is never mistaken for commands) and answers the real-time
status queries python-escpos sends (``DLE EOT n``) as well as ``GS r n``,
with scripted states.

    with FakeTcpPrinter() as fake:
        config = ...printer.connection = fake.connection   # "network:127.0.0.1:<port>"
        fake.set_state("paper_out")                      # now
        fake.set_state("paper_out", after_tickets=1)     # after the next cut/feed
        fake.received            # all bytes received (bytes)
        fake.images()            # every printed raster image (PIL, mode "1"), fragments joined
        fake.status_queries      # [b"\\x10\\x04\\x01", b"\\x10\\x04\\x04", ...]
        fake.connections         # connections accepted so far; fake.open_connections: open now
        fake.commands            # parsed commands: ("init",), ("raster", w, h), ("feed", n), ("cut", m) ...

``FakeTcpPrinter(port=P)`` listens on a given port (a printer switched on later).

States: "ok", "paper_low", "paper_out", "offline" (answer like a real printer),
"silent" (never answer: the client times out), "hangup" (close the
connection on a status query: the client reads an empty reply).
"""
from __future__ import annotations

import socket
import threading
import time

from PIL import Image

DLE, EOT, ESC, GS = 0x10, 0x04, 0x1B, 0x1D
STATES = ("ok", "paper_low", "paper_out", "offline", "silent", "hangup")

# Replies per state: DLE EOT 1 (printer), 2 (offline cause), 3 (error), 4 (paper sensor); GS r 1 (paper).
_REPLIES = {
    "ok": {("dle", 1): 0x12, ("dle", 2): 0x12, ("dle", 3): 0x12, ("dle", 4): 0x12, ("gs", 1): 0x00},
    "paper_low": {("dle", 1): 0x12, ("dle", 2): 0x12, ("dle", 3): 0x12, ("dle", 4): 0x1E, ("gs", 1): 0x03},
    "paper_out": {("dle", 1): 0x1A, ("dle", 2): 0x32, ("dle", 3): 0x12, ("dle", 4): 0x7E, ("gs", 1): 0x0F},
    "offline": {("dle", 1): 0x1A, ("dle", 2): 0x16, ("dle", 3): 0x12, ("dle", 4): 0x12, ("gs", 1): 0x00},
}
_INVERT = bytes(255 - i for i in range(256))

# ESC commands with one argument byte (ESC x n) and without any (ESC x).
_ESC_ONE_ARG = set(b"!-23EGJMRSTVadptU{ce")
_ESC_NO_ARG = set(b"@2<")


def raster_image(width_bytes: int, height: int, data: bytes) -> Image.Image:
    """A GS v 0 raster (bit 1 = dot printed) as a mode "1" image (0 = black)."""
    return Image.frombytes("1", (width_bytes * 8, height), data.translate(_INVERT))


def parse(buf: bytes, start: int = 0):
    """Parse one command at ``start``: (command tuple, next offset), or (None, start) when incomplete."""
    n = len(buf)
    b = buf[start]
    if b == DLE:
        if n - start < 3:
            return None, start
        kind = buf[start + 1]
        if kind == EOT:
            return ("status", "dle", buf[start + 2]), start + 3
        return ("dle", kind, buf[start + 2]), start + 3
    if b == ESC:
        if n - start < 2:
            return None, start
        c = buf[start + 1]
        if c in _ESC_NO_ARG:
            return (("init",) if c == 0x40 else ("esc", chr(c))), start + 2
        if c == ord("*"):  # ESC * m nL nH data (column image)
            if n - start < 5:
                return None, start
            m, cols = buf[start + 2], buf[start + 3] | buf[start + 4] << 8
            end = start + 5 + cols * (3 if m in (32, 33) else 1)
            return (("column_image", cols), end) if end <= n else (None, start)
        if n - start < 3:
            return None, start
        arg = buf[start + 2]
        if c == ord("d"):
            return ("feed", arg), start + 3
        if c == ord("J"):
            return ("feed_dots", arg), start + 3
        return ("esc", chr(c) if c in _ESC_ONE_ARG else f"0x{c:02x}", arg), start + 3
    if b == GS:
        if n - start < 3:
            return None, start
        c = buf[start + 1]
        if c == ord("v") and buf[start + 2] == ord("0"):
            if n - start < 8:
                return None, start
            xl, xh, yl, yh = buf[start + 4:start + 8]
            width_bytes, height = xl | xh << 8, yl | yh << 8
            end = start + 8 + width_bytes * height
            if end > n:
                return None, start
            return ("raster", width_bytes, height, buf[start + 8:end]), end
        if c == ord("V"):
            m = buf[start + 2]
            if m in (65, 66):
                return (("cut", m), start + 4) if n - start >= 4 else (None, start)
            return ("cut", m), start + 3
        if c == ord("r"):
            return ("status", "gs", buf[start + 2] & 0x0F), start + 3
        if c in (ord("("), ord("8")):  # GS ( x pL pH ... / GS 8 L p1..p4 ...
            if c == ord("8"):
                if n - start < 7:
                    return None, start
                size = int.from_bytes(buf[start + 3:start + 7], "little")
                end = start + 7 + size
            else:
                if n - start < 5:
                    return None, start
                size = buf[start + 3] | buf[start + 4] << 8
                end = start + 5 + size
            return (("gs", chr(c), chr(buf[start + 2])), end) if end <= n else (None, start)
        return ("gs", chr(c), buf[start + 2]), start + 3
    if b == 0x0A:
        return ("lf",), start + 1
    return ("byte", b), start + 1


def parse_all(data: bytes) -> list[tuple]:
    """Every command of a complete byte stream (e.g. python-escpos Dummy output)."""
    commands, pos = [], 0
    while pos < len(data):
        command, nxt = parse(data, pos)
        if command is None:
            raise ValueError(f"incomplete ESC/POS command at byte {pos}")
        commands.append(command)
        pos = nxt
    return commands


def join_rasters(commands: list[tuple]) -> list[Image.Image]:
    """Raster images, with the fragments python-escpos splits tall images into
    (consecutive GS v 0 blocks of the same width) joined back into one."""
    images: list[Image.Image] = []
    previous_raster = False
    for command in commands:
        if command[0] == "raster":
            part = raster_image(*command[1:])
            if previous_raster and images and images[-1].width == part.width:
                top = images[-1]
                joined = Image.new("1", (top.width, top.height + part.height), 255)
                joined.paste(top, (0, 0))
                joined.paste(part, (0, top.height))
                images[-1] = joined
            else:
                images.append(part)
            previous_raster = True
        else:
            previous_raster = False
    return images


class FakeTcpPrinter:
    def __init__(self, state: str = "ok", host: str = "127.0.0.1", port: int = 0):
        self.host = host
        self.port = port
        self._state = state
        self._after: list[list] = []  # [tickets still to end, state]
        self._ended_by_feed = False
        self._lock = threading.Lock()
        self._received = bytearray()
        self._commands: list[tuple] = []
        self.status_queries: list[bytes] = []
        self.connections = 0
        self._server: socket.socket | None = None
        self._clients: list[socket.socket] = []
        self._threads: list[threading.Thread] = []
        self._stopping = threading.Event()

    # --- lifecycle ------------------------------------------------------------
    def start(self) -> "FakeTcpPrinter":
        server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        server.bind((self.host, self.port))
        server.listen(4)
        server.settimeout(0.2)
        self._server = server
        self.port = server.getsockname()[1]
        self._spawn(self._accept_loop)
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._server is not None:
            self._server.close()
        with self._lock:
            clients = list(self._clients)
        for client in clients:
            try:
                client.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            client.close()
        for thread in self._threads:
            thread.join(2.0)

    def __enter__(self) -> "FakeTcpPrinter":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def connection(self) -> str:
        """The ``printer.connection`` value that reaches this printer."""
        return f"network:{self.host}:{self.port}"

    # --- script -----------------------------------------------------------------
    def set_state(self, state: str, *, after_tickets: int = 0) -> None:
        """Answer as ``state`` from now on, or once ``after_tickets`` more tickets
        have ended (a cut, or a feed after a raster image)."""
        if state not in STATES:
            raise ValueError(f"state must be one of {STATES}, got {state!r}")
        with self._lock:
            if after_tickets:
                self._after.append([after_tickets, state])
            else:
                self._state = state

    @property
    def state(self) -> str:
        return self._state

    # --- what was received ------------------------------------------------------------
    @property
    def received(self) -> bytes:
        with self._lock:
            return bytes(self._received)

    @property
    def commands(self) -> list[tuple]:
        with self._lock:
            return [c if c[0] != "raster" else c[:3] for c in self._commands]

    @property
    def open_connections(self) -> int:
        """Clients connected right now (a real network printer often serves only one)."""
        with self._lock:
            return len(self._clients)

    def images(self) -> list[Image.Image]:
        with self._lock:
            commands = list(self._commands)
        return join_rasters(commands)

    def wait_for(self, predicate, timeout: float = 5.0) -> bool:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if predicate(self):
                return True
            time.sleep(0.01)
        return bool(predicate(self))

    # --- server ---------------------------------------------------------------------
    def _spawn(self, target, *args) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True, name="fake-tcp-printer")
        self._threads.append(thread)
        thread.start()

    def _accept_loop(self) -> None:
        while not self._stopping.is_set():
            try:
                client, _ = self._server.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            with self._lock:
                self.connections += 1
                self._clients.append(client)
            self._spawn(self._serve, client)

    def _serve(self, client: socket.socket) -> None:
        buf = b""
        try:
            while not self._stopping.is_set():
                chunk = client.recv(65536)
                if not chunk:
                    return
                with self._lock:
                    self._received += chunk
                buf += chunk
                pos = 0
                while pos < len(buf):
                    command, nxt = parse(buf, pos)
                    if command is None:
                        break
                    pos = nxt
                    if not self._handle(client, command):
                        return
                buf = buf[pos:]
        except OSError:
            return
        finally:
            client.close()
            with self._lock:
                if client in self._clients:
                    self._clients.remove(client)

    def _handle(self, client: socket.socket, command: tuple) -> bool:
        """Record a command and answer it; False when the connection must close."""
        with self._lock:
            previous = self._commands[-1][0] if self._commands else None
            self._commands.append(command)
            if command[0] == "feed" and previous == "raster":
                self._ticket_ended()  # tear-off printers: the feed ends the ticket
                self._ended_by_feed = True
            elif command[0] == "cut" and not self._ended_by_feed:
                self._ticket_ended()
            else:
                self._ended_by_feed = False
            state = self._state
        if command[0] != "status":
            return True
        _, family, n = command
        query = bytes((DLE, EOT, n)) if family == "dle" else bytes((GS, ord("r"), n))
        with self._lock:
            self.status_queries.append(query)
        if state == "silent":
            return True
        if state == "hangup":
            return False
        reply = _REPLIES[state].get((family, n), 0x00 if family == "gs" else 0x12)
        client.sendall(bytes((reply,)))
        return True

    def _ticket_ended(self) -> None:
        remaining = []
        for count, state in self._after:
            if count <= 1:
                self._state = state
            else:
                remaining.append([count - 1, state])
        self._after = remaining
