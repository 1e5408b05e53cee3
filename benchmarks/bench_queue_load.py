"""The queue service (`kiosk queue-server`) under slow and abusive clients:
ordinary boards and phones beside them, against the same ordinary load alone,
in the same run.

Ordinary load (both phases): screens held open on a department board, and
workers that each, in a loop, load a board page, a ticket's phone page, and
open a board stream and a phone stream until their first event — every step
a new connection, as a browser arriving. Abusers (second phase only), all from
the same address as the ordinary clients (127.0.0.1, no proxy in front: the
hardest case for a per-address cap):

- slowloris: ``SLOW`` connections trickling a request head a byte every
  0.5 s, re-opened when the server closes them (as many as uvicorn's
  concurrency limit, max_streams + 200);
- a board-feed flood: requests for random orders and subsets of the
  hospital's rooms and for unknown rooms, as fast as one thread can send.

Reported: the ordinary requests' success rate and latency (median, p95), and
the events the held screens received, each as a ratio to the phase without
abusers; what the server did with the abusers (from /status).
"""
from __future__ import annotations

import itertools
import json
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import requests

from benchmarks.percentile import percentile

ROOT = Path(__file__).resolve().parent.parent
PHASE_S = 20.0
WORKERS = 4
HELD_SCREENS = 8
PHONES = 20
SLOW = 300
HEADER_TIMEOUT_S = 5.0
REOPEN_PER_S = 100.0  # the slow connections the attacker opens again a second, at most


def _config(folder: Path, base_url: str, secret: Path) -> Path:
    text = f"""[kiosk]
data_dir = "{folder / 'data'}"
repeat_visits = "allow"  # the same demo adults again and again: each a visit of its own
[his]
base_url = "{base_url}"
[board]
voice_driver = "simulator"
poll_interval_s = 1.0
[queue_web]
token_secret_file = "{secret}"
trusted_proxies = []
requests_per_minute = 100000
max_streams_per_client = 100
max_streams = 100
max_connections_per_client = 150
header_timeout_s = {HEADER_TIMEOUT_S}
heartbeat_s = 2.0
[logging]
level = "WARNING"
"""
    path = folder / "kiosk.toml"
    path.write_text(text, encoding="utf-8")
    return path


def _first_event(url: str, name: str | None) -> bool:
    with requests.get(url, stream=True, timeout=(5, 10)) as r:
        if r.status_code != 200:
            return False
        event = ""
        for line in r.iter_lines(decode_unicode=True):
            if line.startswith("event:"):
                event = line[6:].strip()
            elif line.startswith("data:") and (name is None or event == name):
                return True
    return False


class Ordinary:
    """The ordinary load for one phase: held screens and arriving browsers."""

    def __init__(self, base: str, phone_paths: list[str]):
        self.base, self.phones = base, phone_paths
        self.results: list[tuple[bool, float]] = []
        self.held_events = 0
        self._stop = threading.Event()
        self._lock = threading.Lock()

    def _hold(self) -> None:
        try:
            with requests.get(self.base + "/board-events/NOI", stream=True, timeout=(5, 30)) as r:
                for line in r.iter_lines(decode_unicode=True):
                    if line.startswith("data:"):
                        with self._lock:
                            self.held_events += 1
                    if self._stop.is_set():
                        return
        except requests.exceptions.RequestException:
            pass

    def _work(self, n: int) -> None:
        rng = random.Random(n)
        steps = [lambda p: requests.get(self.base + "/board/NOI", timeout=10).status_code == 200,
                 lambda p: requests.get(self.base + p, timeout=10).status_code == 200,
                 lambda p: _first_event(self.base + "/board-events/NOI", "board"),
                 lambda p: _first_event(self.base + p + "/events", None)]
        for step in itertools.cycle(steps):
            if self._stop.is_set():
                return
            started = time.perf_counter()
            try:
                ok = step(rng.choice(self.phones))
            except requests.exceptions.RequestException:
                ok = False
            with self._lock:
                self.results.append((ok, time.perf_counter() - started))

    def run(self, seconds: float) -> None:
        threads = [threading.Thread(target=self._hold, daemon=True) for _ in range(HELD_SCREENS)]
        threads += [threading.Thread(target=self._work, args=(n,), daemon=True) for n in range(WORKERS)]
        for t in threads:
            t.start()
        time.sleep(seconds)
        self._stop.set()
        for t in threads:
            t.join(15)

    def summary(self) -> dict:
        times = sorted(t for ok, t in self.results if ok)
        return {"requests": len(self.results), "ok": sum(ok for ok, _ in self.results) / max(1, len(self.results)),
                "p50": percentile(times, 0.5) if times else float("nan"),
                "p95": percentile(times, 0.95) if times else float("nan"),
                "held_events": self.held_events}


def _flood(base: str, rooms: list[str], stop: threading.Event, counts: dict) -> None:
    rng = random.Random(7)
    while not stop.is_set():
        if rng.random() < 0.2:
            codes = [f"X{rng.randrange(10**6)}"]  # a room the hospital does not have
        else:
            codes = rng.sample(rooms, rng.randint(1, min(6, len(rooms))))
            codes += rng.sample(codes, rng.randint(0, len(codes)))  # repeats
        try:
            status = requests.get(base + "/board?rooms=" + ",".join(codes), timeout=10).status_code
        except requests.exceptions.RequestException:
            status = 0
        counts[status] = counts.get(status, 0) + 1


def run() -> str:
    from app.sandbox import SandboxHis
    from fhir_his.his import FhirHis
    from kiosk.board.follow import FollowTokens, read_secret, write_secret
    from kiosk.checkin.online import CheckInService
    from kiosk.clock import SystemClock
    from kiosk.config.loader import load_config
    from kiosk.demo_data import demo_people, load_demo, person_identity
    from kiosk.domain import CheckInRequest
    from tests.queue_web.slow_clients import Slowloris

    tmp = Path(tempfile.mkdtemp(prefix="bench-queue-load-"))
    secret = write_secret(tmp / "queue.secret")
    tokens = FollowTokens(read_secret(str(secret)))
    rooms = [r["code"] for d in load_demo()["departments"] for r in d["rooms"]]
    with SandboxHis(port=0) as his:
        config_path = _config(tmp, his.base_url, secret)
        cfg = load_config(config_path)
        clock = SystemClock(cfg.kiosk.timezone)
        service = CheckInService(FhirHis(cfg), clock, cfg)
        adult = next(p for p in demo_people() if not p.get("appointment") and p["birth_date"] < "2010")
        ids = []
        for _ in range(PHONES):
            cid = str(uuid.uuid4())
            service.check_in(CheckInRequest(cid, person_identity(adult), department_code="NOI"))
            ids.append(cid)
        phone_paths = [f"/t/{tokens.make(cid, clock.now().date())}" for cid in ids]
        proc = subprocess.Popen([sys.executable, "-m", "app", "queue-server", "--config", str(config_path),
                                 "--port", "0"], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                text=True)
        try:
            port = json.loads(proc.stdout.readline())["port"]
            base = f"http://127.0.0.1:{port}"
            requests.get(base + "/board/NOI", timeout=30)
            time.sleep(2.0)

            alone = Ordinary(base, phone_paths)
            alone.run(PHASE_S)

            stop, flood_counts = threading.Event(), {}
            flood = threading.Thread(target=_flood, args=(base, rooms, stop, flood_counts), daemon=True)
            slow = Slowloris(port, SLOW, max_opens=SLOW + int(REOPEN_PER_S * (PHASE_S + 5)), max_seconds=PHASE_S + 30,
                             reopen_per_s=REOPEN_PER_S).start()
            flood.start()
            time.sleep(HEADER_TIMEOUT_S / 2)  # the slow connections are all open
            under = Ordinary(base, phone_paths)
            under.run(PHASE_S)
            status = requests.get(base + "/status", timeout=10).json()
            stop.set()
            slow.stop()
            flood.join(15)
        finally:
            proc.terminate()
            proc.wait(timeout=20)

    a, u = alone.summary(), under.summary()
    flood_total = sum(flood_counts.values())

    def ratio(x, y):
        return f"{x / y:.2f}×" if y else "–"

    evicted = status.get("connections_evicted", {})
    return f"""## Queue service under slow and abusive clients (bench_queue_load)

`kiosk queue-server` in its own process against the sandbox HIS. Ordinary load in both phases
({PHASE_S:.0f} s each): {HELD_SCREENS} board screens held open on one department and {WORKERS} workers
arriving as new browsers (board page, phone page, board stream and phone stream to their first
event; a new connection each). Second phase, beside it, from the **same address** (127.0.0.1, no
proxy: the hardest case for the per-address cap, max_connections_per_client = 150): {SLOW}
slowloris connections trickling a request head (re-opened when closed, up to {REOPEN_PER_S:.0f} a second; without the guard they would
all count in uvicorn's concurrency limit of 300) and a board-feed flood (random orders and subsets of the rooms, 20 % unknown rooms).

| ordinary clients | alone | beside the abusers | ratio |
|---|---|---|---|
| requests | {a['requests']} | {u['requests']} | {ratio(u['requests'], a['requests'])} |
| success rate | {a['ok'] * 100:.1f} % | {u['ok'] * 100:.1f} % | {ratio(u['ok'], a['ok'])} |
| latency median | {a['p50'] * 1000:.0f} ms | {u['p50'] * 1000:.0f} ms | {ratio(u['p50'], a['p50'])} |
| latency p95 | {a['p95'] * 1000:.0f} ms | {u['p95'] * 1000:.0f} ms | {ratio(u['p95'], a['p95'])} |
| events on the held screens | {a['held_events']} | {u['held_events']} | {ratio(u['held_events'], a['held_events'])} |

What the server did with the abusers: {slow.opens} slow connections opened, closed by the server
{evicted.get('header_timeout', 0)} at the header deadline ({HEADER_TIMEOUT_S:g} s) and
{evicted.get('displaced', 0)} displaced by a newer connection of the same address;
{status.get('connections_refused', 0)} refused at once. Feed flood: {flood_total} requests
({', '.join(f'{n}× {k}' for k, n in sorted(flood_counts.items()))}); feeds running at the end:
{len(status.get('feeds', []))} (cap 40), refused {status.get('feeds_refused', {})}.
Targets: success rate ratio 1.00×, latency ratios near 1× (the 2 cores are shared with the abusers'
own threads in this run).
"""


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    print(run())
