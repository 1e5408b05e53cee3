"""The queue service (`kiosk queue-server`), as its own process against the
sandbox HIS, with the default poll interval (board.poll_interval_s = 1 s):

1. HIS requests per minute with 1, 10 and 50 open board screens of one
   department (server-sent event streams held open). Target: flat — the
   ratio to 1 screen stays at 1.0, because a room set has one poller.
2. Memory (RSS) of the service with 200 open phone pages (each page loaded,
   then its event stream held open), against the same service idle.
3. Call → screen latency: from `RoomCaller.call_next` returning (the call is
   written in the HIS) to a board stream receiving the snapshot that shows it;
   median and p95, as a ratio to one HIS read (the poller's incremental
   search) and to the poll interval.
"""
from __future__ import annotations

import json
import os
import random
import selectors
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

from benchmarks.percentile import percentile

ROOT = Path(__file__).resolve().parent.parent
WINDOW_S = 20.0
SCREENS = (1, 10, 50)
PHONES = 200
LATENCY_TRIALS = 10


def _rss_kb(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


class Streams:
    """Many open event streams on raw sockets, drained by one thread."""

    def __init__(self, port: int):
        self.port = port
        self.selector = selectors.DefaultSelector()
        self.socks: list[socket.socket] = []
        self.received = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._drain, daemon=True)
        self._thread.start()

    def open(self, path: str) -> None:
        s = socket.create_connection(("127.0.0.1", self.port), timeout=10)
        s.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n".encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = s.recv(4096)
            if not chunk:
                raise RuntimeError(f"stream {path} closed")
            head += chunk
        if not head.startswith(b"HTTP/1.1 200"):
            raise RuntimeError(f"stream {path} refused: {head[:60]!r}")
        s.setblocking(False)
        self.selector.register(s, selectors.EVENT_READ)
        self.socks.append(s)

    def _drain(self) -> None:
        while not self._stop.is_set():
            if not self.socks:
                time.sleep(0.05)
                continue
            for key, _ in self.selector.select(timeout=0.2):
                try:
                    self.received += len(key.fileobj.recv(65536))
                except (BlockingIOError, OSError):
                    pass

    def close(self) -> None:
        self._stop.set()
        self._thread.join(2)
        for s in self.socks:
            self.selector.unregister(s)
            s.close()
        self.socks.clear()


def _board_events(port: int, path: str, on_event) -> threading.Thread:
    """A board screen that hands each board event (arrival time, data) to ``on_event``."""
    import requests

    def read():
        try:
            with requests.get(f"http://127.0.0.1:{port}{path}", stream=True, timeout=(5, 120)) as r:
                event = ""
                for line in r.iter_lines(decode_unicode=True):
                    if line.startswith("event:"):
                        event = line[6:].strip()
                    elif line.startswith("data:") and event == "board":
                        on_event(time.perf_counter(), json.loads(line[5:]))
        except requests.exceptions.RequestException:
            pass  # the service stopped at the end of the benchmark

    t = threading.Thread(target=read, daemon=True)
    t.start()
    return t


def _config(folder: Path, base_url: str, secret: Path) -> Path:
    text = f"""[kiosk]
data_dir = "{folder / 'data'}"
repeat_visits = "allow"  # the same demo adults again and again: each a visit of its own
[his]
base_url = "{base_url}"
[board]
voice_driver = "simulator"
[queue_web]
token_secret_file = "{secret}"
requests_per_minute = 1000000
max_streams_per_client = 1000
max_streams = 2000
[logging]
level = "WARNING"
"""
    path = folder / "kiosk.toml"
    path.write_text(text, encoding="utf-8")
    return path


def _start(config: Path) -> tuple[subprocess.Popen, int]:
    proc = subprocess.Popen([sys.executable, "-m", "app", "queue-server", "--config", str(config), "--port", "0"],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    ready = json.loads(proc.stdout.readline())
    return proc, ready["port"]


def run() -> str:
    from app.compose import build_board_his
    from app.sandbox import SandboxHis
    from fhir_his.his import FhirHis
    from kiosk.board.follow import FollowTokens, read_secret, write_secret
    from kiosk.board.service import RoomCaller, resolve_rooms
    from kiosk.checkin.online import CheckInService
    from kiosk.clock import SystemClock
    from kiosk.config.loader import load_config
    from kiosk.demo_data import demo_people, person_identity
    from kiosk.domain import CheckInRequest

    tmp = Path(tempfile.mkdtemp(prefix="bench-queue-"))
    secret = write_secret(tmp / "queue.secret")
    tokens = FollowTokens(read_secret(str(secret)))
    with SandboxHis(port=0) as his:
        config_path = _config(tmp, his.base_url, secret)
        cfg = load_config(config_path)
        clock = SystemClock(cfg.kiosk.timezone)
        service = CheckInService(FhirHis(cfg), clock, cfg)
        adults = [p for p in demo_people() if not p.get("appointment") and p["birth_date"] < "2010"]

        def check_in(department: str) -> str:
            cid = str(uuid.uuid4())
            service.check_in(CheckInRequest(cid, person_identity(adults[0]), department_code=department))
            return cid

        for _ in range(30):
            check_in("NOI")
        phone_ids = [check_in("NHI") for _ in range(PHONES)]
        proc, port = _start(config_path)
        try:
            import requests

            requests.get(f"http://127.0.0.1:{port}/health", timeout=10)
            time.sleep(1.0)
            idle_kb = _rss_kb(proc.pid)

            # 1. HIS requests per minute against the number of open screens
            per_minute = {}
            for n in SCREENS:
                streams = Streams(port)
                for _ in range(n):
                    streams.open("/board-events/NOI")
                time.sleep(3.0)  # the feed is running and every screen has its first snapshot
                his.reset_stats()
                time.sleep(WINDOW_S)
                per_minute[n] = his.stats()["requests"] * 60.0 / WINDOW_S
                streams.close()
                time.sleep(1.0)

            # 3. call → screen latency (one board screen), against one HIS read
            _, rooms = resolve_rooms(build_board_his(cfg), department="NOI")
            caller = RoomCaller(cfg, rooms, build_board_his(cfg), clock=clock)
            reader = build_board_his(cfg, polling=True)
            reads = []
            for _ in range(20):
                started = time.perf_counter()
                reader.read_changes(rooms, datetime.now(timezone.utc) - timedelta(seconds=2))
                reads.append(time.perf_counter() - started)
            his_read = statistics.median(reads)
            waiting: dict = {}
            seen = threading.Condition()

            def on_event(at, board):
                with seen:
                    for r in board["rooms"]:
                        label = (r["serving"] or {}).get("label")
                        key = (r["code"], label)
                        if label and key in waiting and waiting[key] is None:
                            waiting[key] = at
                    seen.notify_all()

            _board_events(port, "/board-events/NOI", on_event)
            time.sleep(2.0)
            latencies = []
            for i in range(LATENCY_TRIALS):
                time.sleep(random.uniform(0.3, 1.3))  # calls land anywhere in the poll cycle
                room = rooms[i % len(rooms)].code
                outcome = caller.call_next(room)
                done = time.perf_counter()
                key = (room, outcome.label)
                with seen:
                    waiting[key] = None
                    seen.wait_for(lambda: waiting[key] is not None, timeout=30)
                latencies.append(max(0.0, waiting[key] - done) if waiting[key] else float("nan"))

            # 2. memory with 200 open phone pages
            streams = Streams(port)
            today = clock.now().date()
            for cid in phone_ids:
                token = tokens.make(cid, today)
                assert requests.get(f"http://127.0.0.1:{port}/t/{token}", timeout=30).status_code == 200
                streams.open(f"/t/{token}/events")
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                status = requests.get(f"http://127.0.0.1:{port}/status", timeout=10).json()
                if sum(f["phones"] for f in status["feeds"]) >= PHONES:
                    break
                time.sleep(0.5)
            time.sleep(3.0)
            phones_kb = _rss_kb(proc.pid)
            phones_open = sum(f["phones"] for f in status["feeds"])
            streams.close()
        finally:
            proc.terminate()
            proc.wait(timeout=20)

    base = per_minute[1]
    rows = "\n".join(f"| {n} | {per_minute[n]:.0f} | {per_minute[n] / base:.2f}× |" for n in SCREENS)
    lat_sorted = sorted(latencies)
    median = statistics.median(lat_sorted)
    p95 = percentile(lat_sorted, 0.95)
    interval = cfg.board.poll_interval_s
    return f"""## Queue service: web boards and phone pages (bench_queue_web)

`kiosk queue-server` in its own process against the sandbox HIS, default poll interval
({interval:g} s), one department (2 rooms) on the boards.

**HIS requests per minute against open board screens** ({WINDOW_S:.0f} s per measurement; target: flat)

| open screens | HIS requests / min | vs 1 screen |
|---|---|---|
{rows}

**Memory with {PHONES} open phone pages** (each page loaded, then its event stream held open;
{phones_open} followed): RSS {phones_kb / 1024:.0f} MB vs {idle_kb / 1024:.0f} MB idle —
**{phones_kb / idle_kb:.2f}×** idle.

**Call → screen latency** ({LATENCY_TRIALS} calls with `RoomCaller.call_next`, from the HIS write to a
board stream receiving the snapshot that shows it): median **{median * 1000:.0f} ms**, p95
**{p95 * 1000:.0f} ms** = {median / his_read:.0f}× / {p95 / his_read:.0f}× one HIS read
({his_read * 1000:.1f} ms, the poller's incremental search), or {median / interval:.2f}× / {p95 / interval:.2f}×
the poll interval: the wait for the next poll is the cost; pushing to the screen adds little.
"""


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    print(run())
