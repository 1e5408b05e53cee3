"""Kiosk UI: cold start to an interactive welcome screen, and resident memory
over 100 check-ins.

Cold start runs `kiosk run`'s path in a fresh process (offscreen Qt, sandbox
HIS, simulated devices, the offline cache) until the welcome screen has been
painted and the event loop turns; baselines measured in the same run: a bare
`python -c pass` and a bare QApplication showing one empty widget.

Memory: one kiosk process does 300 walk-in check-ins through the real
controller, HIS and printer simulator (QR codes injected where the camera
would report them); RSS is read from /proc after the 1st, 50th, 100th, 200th
and 300th. The printer simulator keeps every printed image and byte string for
tests — the loop empties those lists, since a real printer keeps nothing. The
first couple of hundred check-ins warm up (one step of about 10 MB, native:
tracemalloc shows ~150 KB of Python allocations over 90 check-ins there, and
neither Qt's pixmap cache nor malloc arenas change it); the target is on the
steady state after it, 200th → 300th. (A tracemalloc run over 600 check-ins
found the FHIR client keeping one session per short-lived thread; that leak is
fixed — sessions are lent per request.)
"""
from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
START_TARGET_S = 1.5
MEMORY_TARGET_MB = 250.0
GROWTH_LIMIT_MB = 5.0  # "no growth" over 100 check-ins after the warm-up, allowing allocator noise
ROUNDS = 5
CHECKINS = int(os.environ.get("KIOSK_BENCH_CHECKINS", "300"))
MEASURED_AT = sorted(n for n in {1, 50, 100, 200, CHECKINS} if n <= CHECKINS)

BARE_QT = ("import sys; from PySide6.QtWidgets import QApplication, QWidget; app = QApplication(sys.argv); "
           "w = QWidget(); w.resize(1080, 1920); w.show(); app.processEvents(); print('ready', flush=True)")


def _env(base_url: str, data_dir: str) -> dict:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", KIOSK_BENCH_HIS=base_url, KIOSK_BENCH_DATA=data_dir)
    env.pop("KIOSK_CONFIG", None)
    return env


def _time_until_ready(cmd: list[str], env: dict) -> tuple[float, float | None]:
    """Seconds until the 'ready' line, and until 'services …' when the child reports it."""
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, env=env, cwd=ROOT)
    line = proc.stdout.readline()
    elapsed = time.perf_counter() - started
    rest = proc.stdout.read()
    proc.wait(timeout=60)
    if not line.startswith("ready"):
        raise RuntimeError(f"{cmd[-1][:40]}: no 'ready' line (exit {proc.returncode})")
    services = None
    for extra in rest.splitlines():
        if extra.startswith("services "):
            services = float(extra.split()[1])
    return elapsed, services


def _median(cmd: list[str], env: dict) -> tuple[float, float | None]:
    _time_until_ready(cmd, env)  # warm the OS file cache
    runs = [_time_until_ready(cmd, env) for _ in range(ROUNDS)]
    services = [s for _, s in runs if s is not None]
    return statistics.median(r for r, _ in runs), (statistics.median(services) if services else None)


def _config():
    from kiosk.config.loader import config_from_dict

    return config_from_dict({
        "kiosk": {"data_dir": os.environ["KIOSK_BENCH_DATA"]},
        "his": {"base_url": os.environ["KIOSK_BENCH_HIS"]},
        "card_reader": {"driver": "simulator"}, "camera": {"driver": "simulator"},
        "printer": {"driver": "simulator"},
    }, source="(bench)")


def child_start() -> None:
    """`kiosk run`'s start-up, offscreen; prints 'ready' once the welcome screen is up."""
    from PySide6.QtCore import QTimer

    from app.admin_tools import admin_tools
    from app.cli.ui_cmd import build_kiosk_on_worker
    from ui.app import PORTRAIT, application, install_admin_screen, open_kiosk

    started = time.perf_counter()
    app = application()
    config = _config()
    controller, window = open_kiosk(config, build_kiosk_on_worker)  # what `kiosk run` does
    install_admin_screen(window, controller, config, lambda services: admin_tools(config, services))
    window.resize(*PORTRAIT)
    window.show()

    def ready():
        print("ready", flush=True)  # welcome screen painted, event loop turning

    def devices_ready():
        if controller.services is None or not controller.journey.departments:
            return
        poll.stop()
        print(f"services {time.perf_counter() - started:.3f}", flush=True)
        controller.stop()
        controller.services.close()
        app.quit()

    QTimer.singleShot(0, ready)  # runs once the loop has painted the shown window
    poll = QTimer()
    poll.timeout.connect(devices_ready)
    poll.start(10)
    app.exec()


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def child_memory() -> None:
    """``CHECKINS`` check-ins in one process; prints JSON with RSS after each of ``MEASURED_AT``."""
    from app.compose import build_kiosk
    from kiosk.journey import machine as j
    from ui.app import PORTRAIT, make_kiosk
    from ui.tour import Tour, cccd_qr

    config = _config()
    config.camera.driver = "none"
    config.card_reader.driver = "none"
    services = build_kiosk(config)
    controller, window = make_kiosk(services, config)
    window.resize(*PORTRAIT)
    window.show()
    from app.demo_controls import SimulatorControls

    tour = Tour(controller, window, SimulatorControls(services))
    tour.wait(lambda: bool(controller.journey.departments) and controller.printer_status == "ok", 60)
    people = ["ngoc", "huong", "an", "nhung", "minh", "hung"]
    rss, modes, started = {}, {}, time.perf_counter()
    for i in range(1, CHECKINS + 1):
        controller.bridge.qr_code.emit(cccd_qr(people[i % len(people)]))  # as the camera would
        looked_up = (j.Step.APPOINTMENT, j.Step.DEPARTMENT, j.Step.ERROR)
        tour.wait(lambda: controller.journey.step in looked_up + (j.Step.CONFIRM_IDENTITY,), 60, "lookup")
        if controller.journey.step is j.Step.CONFIRM_IDENTITY:  # kiosk.flow = "step_by_step"
            tour.tap(window.screens["confirm"].yes)
            tour.wait(lambda: controller.journey.step in looked_up, 60, "lookup")
        if controller.journey.step is j.Step.APPOINTMENT:
            tour.tap(window.screens["appointment"].confirm)
        elif controller.journey.step is j.Step.DEPARTMENT:
            tour.wait(lambda: bool(window.screens["department"].buttons), 30, "departments")
            tour.tap(window.screens["department"].buttons[i % 8])
        if controller.journey.step is j.Step.PRIORITY:
            tour.tap(window.screens["priority"].none)
        tour.wait(lambda: controller.journey.step in (j.Step.DONE, j.Step.ERROR, j.Step.WELCOME), 60, "ticket")
        result = controller.journey.result
        modes[result.mode if result else "failed"] = modes.get(result.mode if result else "failed", 0) + 1
        controller.send(j.GoHome())
        services.printer.printed_images.clear()
        services.printer.transport.writes.clear()
        if i in MEASURED_AT:
            rss[i] = _rss_mb()
    print(json.dumps({"rss": rss, "modes": modes, "seconds": time.perf_counter() - started}), flush=True)
    controller.stop()
    services.close()


def run() -> str:
    from app.sandbox import SandboxHis

    with SandboxHis(port=0) as sandbox, tempfile.TemporaryDirectory() as data:
        env = _env(sandbox.base_url, data)
        bare_python, _ = _median([sys.executable, "-c", "print('ready')"], env)
        bare_qt, _ = _median([sys.executable, "-c", BARE_QT], env)
        kiosk, services = _median([sys.executable, "-m", "benchmarks.bench_ui", "start"], env)
        out = subprocess.run([sys.executable, "-m", "benchmarks.bench_ui", "memory"], env=env, cwd=ROOT,
                             capture_output=True, text=True, timeout=600)
        if out.returncode != 0:
            raise RuntimeError(f"memory run failed: {out.stderr[-400:]}")
        mem = json.loads(out.stdout.strip().splitlines()[-1])
    rss = {int(k): v for k, v in mem["rss"].items()}
    warm_up = rss[100] - rss[50] if 100 in rss and 50 in rss else float("nan")
    steady_from = max(n for n in rss if n < CHECKINS)
    growth = rss[CHECKINS] - rss[steady_from]
    ok = lambda good: "✅" if good else "❌"  # noqa: E731
    return "\n".join([
        "## Kiosk UI: cold start and memory",
        "",
        "Cold start = a new process until the welcome screen is shown and the event loop runs "
        f"(offscreen Qt, sandbox HIS, simulated devices, offline cache; median of {ROUNDS}); as in "
        "`kiosk run`, the services are built on a worker while the window is already up, and the "
        "next row says when they were ready. "
        f"Memory = RSS of one kiosk process over {CHECKINS} walk-in/booked check-ins through the "
        f"real controller, HIS and printer simulator ({mem['seconds']:.0f} s, "
        f"{mem['seconds'] / CHECKINS * 1000:.0f} ms per check-in including the sandbox HIS; "
        f"tickets by mode: {', '.join(f'{k} {v}' for k, v in sorted(mem['modes'].items()))}).",
        "",
        "| Measure | Result | Baseline | Ratio | Target | |",
        "|---|---|---|---|---|---|",
        f"| bare `python -c pass` | {bare_python:.3f} s | | | | |",
        f"| bare QApplication + one widget | {bare_qt:.3f} s | python {bare_python:.3f} s | "
        f"{bare_qt / bare_python:.1f}× | | |",
        f"| kiosk cold start to welcome | {kiosk:.3f} s | bare Qt {bare_qt:.3f} s | {kiosk / bare_qt:.1f}× | "
        f"≤ {START_TARGET_S} s | {ok(kiosk <= START_TARGET_S)} |",
        f"| … devices, HIS client and offline cache ready, departments loaded | {services:.3f} s "
        f"(in-process clock) | | | | |",
        *[f"| RSS after check-in {n} | {rss[n]:.0f} MB | | | | |" for n in sorted(rss) if n != CHECKINS],
        f"| RSS after check-in {CHECKINS} | {rss[CHECKINS]:.0f} MB | | | ≤ {MEMORY_TARGET_MB:.0f} MB | "
        f"{ok(rss[CHECKINS] <= MEMORY_TARGET_MB)} |",
        f"| growth 50 → 100 (warm-up, for comparison) | {warm_up:+.1f} MB | | | | |",
        f"| growth {steady_from} → {CHECKINS} (after the warm-up) | {growth:+.1f} MB | | | "
        f"≤ {GROWTH_LIMIT_MB:.0f} MB | {ok(growth <= GROWTH_LIMIT_MB)} |",
        "",
    ])


if __name__ == "__main__":
    {"start": child_start, "memory": child_memory}[sys.argv[1]]()
