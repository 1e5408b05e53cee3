"""`kiosk run` (the kiosk, full screen, devices from the config) and
`kiosk demo` (sandbox HIS + simulated devices + operator panel; with
`--offscreen --screenshots DIR` a scripted journey saves every screen).

Qt and device packages are imported inside the command functions only."""
from __future__ import annotations

import os
import shutil
import signal
import sys
import tempfile

from app.cli import print_json
from kiosk.config.loader import Config, load_config

NO_DISPLAY = ("kiosk demo: no display found (DISPLAY/WAYLAND_DISPLAY unset); run it on a desktop, "
              "or `xvfb-run -a kiosk demo`, or `kiosk demo --offscreen --screenshots DIR` to save every screen as PNG")


def register(sub) -> None:
    run = sub.add_parser("run", help="start the kiosk full screen with the devices in the config")
    run.add_argument("--config", help="kiosk.toml (default: $KIOSK_CONFIG, ~/.config/kiosk, /etc/kiosk)")
    run.add_argument("--windowed", action="store_true", help="a 1920x1080 window instead of full screen")
    run.set_defaults(func=_run)

    demo = sub.add_parser("demo", help="try the kiosk: sandbox HIS, simulated card reader/camera/printer")
    demo.add_argument("--config", help="start from this config (HIS and devices are replaced by the demo's)")
    demo.add_argument("--camera", choices=("simulator", "opencv"), default="simulator",
                      help="opencv: use the real camera from camera.source")
    demo.add_argument("--landscape", action="store_true", help="1920x1080 instead of portrait 1080x1920")
    demo.add_argument("--offscreen", action="store_true", help="no window: run a scripted journey")
    demo.add_argument("--screenshots", metavar="DIR", help="with --offscreen: save every screen as PNG here")
    demo.add_argument("--board", nargs="?", const="", metavar="DEPT",
                      help="also open a calling board (every clinic room, or one department's) with call buttons")
    demo.add_argument("--on-invalid", choices=("counter", "fee"),
                      help="every invalid BHYT card (no card, expired, wrong details, withdrawn): send the "
                           "patient to the desk, or offer a fee-paying visit (default: the config's "
                           "[insurance.outcomes]: no card or expired -> fee, wrong details or withdrawn -> desk)")
    demo.set_defaults(func=_demo)


def build_kiosk_on_worker(config):
    """The kiosk's services, for ``open_kiosk``'s worker thread: the composition
    root and the device libraries are imported there, while the window is already up."""
    from app import compose

    return compose.build_kiosk(config)


def _run(args) -> int:
    from ui.app import has_display
    if not has_display():
        print("kiosk run: no display found (DISPLAY/WAYLAND_DISPLAY unset); start it in the kiosk's "
              "graphical session (see deploy/) or set QT_QPA_PLATFORM", file=sys.stderr)
        return 2
    from app.admin_tools import admin_tools
    from app.metrics_http import start_metrics_server
    from kiosk.operations.logs import setup_logging
    from ui.app import run_kiosk

    config = load_config(args.config)
    setup_logging(config)  # structured lines to stderr → the journal
    metrics = start_metrics_server(config)  # /metrics on 127.0.0.1 when [metrics] enabled
    try:
        return run_kiosk(config, build_kiosk_on_worker, lambda services: admin_tools(config, services),
                         fullscreen=not args.windowed)
    finally:
        if metrics is not None:
            metrics.stop()


class StopSignals:
    """SIGTERM and SIGINT stop `kiosk demo` cleanly: its sandbox HIS (a node
    process in a session of its own, which a signal to the demo does not
    reach), the services and the scratch folder are always cleaned up.

    Before the Qt loop runs, the handler raises KeyboardInterrupt (plain Python
    code unwinds through the ``finally`` blocks). Once Qt runs, raising inside
    a Qt callback would only print a traceback: the handler then asks the loop
    to quit and sets ``requested``, which the scripted tour checks.

    The exit status says who stopped it: 0 for SIGTERM (systemd, ``kill``: a
    clean stop asked by the system, so ``make demo`` reports no error), 130 for
    SIGINT (Ctrl-C, as shells expect)."""

    SIGNALS = (signal.SIGTERM, signal.SIGINT)

    def __init__(self):
        self.requested = False
        self.signum: int | None = None
        self.app = None
        self._quit = None
        self._old = {sig: signal.signal(sig, self) for sig in self.SIGNALS}

    def attach(self, app, quit_soon) -> None:
        """The Qt application now runs this process: quit its loop instead of raising."""
        self.app, self._quit = app, quit_soon

    @property
    def exit_code(self) -> int:
        return 0 if self.signum == signal.SIGTERM else 130

    def __call__(self, signum, frame) -> None:
        self.requested, self.signum = True, signum
        if self.app is None:
            raise KeyboardInterrupt(signal.Signals(signum).name)
        self._quit(self.app)  # also when the loop has not started yet

    def restore(self) -> None:
        for sig, old in self._old.items():
            signal.signal(sig, old)


def _demo(args) -> int:
    if args.offscreen:
        if not args.screenshots:
            print("kiosk demo: --offscreen needs --screenshots DIR (where to save the screens)", file=sys.stderr)
            return 2
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
    from ui.app import has_display
    if not args.offscreen and not has_display():
        print(NO_DISPLAY, file=sys.stderr)
        return 2
    from app.sandbox import GatewaySimulator, SandboxHis

    stop = StopSignals()
    data_dir = tempfile.mkdtemp(prefix="kiosk-demo-")
    sandbox = SandboxHis(port=0)
    gateway = GatewaySimulator(port=0)  # BHYT card checks against the BHXH gateway simulator
    try:
        sandbox.start()
        gateway.start()  # made before: a signal during start() still finds it below
        config = _demo_config(args, sandbox.base_url, data_dir, gateway)
        services = _demo_services(config)
        try:
            code = _demo_ui(args, config, services, sandbox, stop, gateway)
        finally:
            services.close()
        if stop.requested:
            print("kiosk demo: stopped", file=sys.stderr)
            return stop.exit_code
        return code
    except KeyboardInterrupt:  # signalled before the Qt loop ran: everything above was unwound
        if not stop.requested:
            raise
        print("kiosk demo: stopped", file=sys.stderr)
        return stop.exit_code
    finally:
        gateway.stop()
        sandbox.stop()
        shutil.rmtree(data_dir, ignore_errors=True)
        stop.restore()


DEMO_GATEWAY_TIMEOUT_S = 5.0  # the demo's patient waits at most this long for the gateway simulator


def _demo_config(args, base_url: str, data_dir: str, gateway=None):
    from kiosk.config.loader import InsuranceSection
    from kiosk.demo_data import load_demo
    from kiosk.insurance.outcomes import INVALID_OUTCOMES

    if args.config:
        config = load_config(args.config)
    else:
        config = Config(source="(demo defaults)")
        config.kiosk.hospital_name = load_demo()["hospital"]["name"]
        config.insurance.timeout_s = DEMO_GATEWAY_TIMEOUT_S
    if gateway is not None:  # [insurance] for the simulator; the config keeps its policy and timing
        kept = {k: getattr(config.insurance, k) for k in ("timeout_s", "recheck_after_s", "on_invalid", "outcomes",
                                                          "retry_base_s", "retry_max_s", "max_attempts")}
        if getattr(args, "on_invalid", None):  # the flag sets every invalid-card outcome, whatever the table says
            kept["on_invalid"] = args.on_invalid
            kept["outcomes"] = {o: a for o, a in kept["outcomes"].items() if o not in INVALID_OUTCOMES}
        config.insurance = InsuranceSection(**{**gateway.insurance_settings(data_dir), **kept})
    config.his.base_url = base_url
    config.his.auth = "none"
    config.kiosk.data_dir = data_dir
    config.offline.database = ""
    if getattr(args, "offscreen", False):  # the scripted tour checks the same demo people in again and again
        config.kiosk.repeat_visits = "allow"
    config.card_reader.driver = "simulator"
    config.camera.driver = args.camera
    config.printer.driver = "simulator"
    # The BHXH gateway simulator's cards are registered at the demo hospital's facility.
    config.insurance.facility_code = load_demo()["hospital"]["facility_code"]
    return config


def _demo_services(config):
    """Services on the sandbox with the simulators the operator panel drives
    (the config's drivers are "simulator", the camera optionally real)."""
    from app import compose

    return compose.build_kiosk(config)


TITLE_BAR = 32  # room left above each window for a window manager's title bar
GAP = 8


def demo_geometry(screen: tuple[int, int, int, int], kiosk_size: tuple[int, int], *,
                  board: bool = False) -> dict[str, tuple[int, int, int, int]]:
    """Where `kiosk demo` puts its windows on ``screen`` (x, y, width, height
    of the available area): the kiosk (a scaled preview of ``kiosk_size``) at
    the left, the operator panel (with its ticket preview) at the right and,
    with ``board``, the calling board under the panel (portrait) or under the
    kiosk (landscape) — each (x, y, width, height) of the window's inside,
    a title bar's height left free above it; none covers another.

    Portrait: the kiosk at the left, the full height; the panel at the right,
    the board under it. Landscape: the kiosk at the top left, the panel under
    it; the board at the right, the full height (a room needs height for its
    numbers and call buttons)."""
    x, y, w, h = screen
    kw, kh = kiosk_size
    portrait = kh > kw
    if portrait:  # the full height, at most a third of the width
        scale = min(1.0, (h - TITLE_BAR) / kh, (w * 0.34) / kw)
    else:  # half the width with a board (the panel goes under it), a bit more without
        scale = min(1.0, (w * (0.5 if board else 0.56)) / kw, (h - TITLE_BAR) / kh)
    kiosk = (x, y + TITLE_BAR, int(kw * scale), int(kh * scale))
    right_x = x + kiosk[2] + GAP
    right_w = x + w - right_x
    full = (right_x, y + TITLE_BAR, right_w, h - TITLE_BAR)
    if not board:
        return {"kiosk": kiosk, "panel": full}
    if portrait:
        panel_h = max(440, int(h * 0.4))
        board_y = y + TITLE_BAR + panel_h + GAP + TITLE_BAR
        return {"kiosk": kiosk, "panel": (right_x, y + TITLE_BAR, right_w, panel_h),
                "board": (right_x, board_y, right_w, y + h - board_y)}
    panel_y = kiosk[1] + kiosk[3] + GAP + TITLE_BAR
    return {"kiosk": kiosk, "panel": (x, panel_y, kiosk[2], y + h - panel_y), "board": full}


def _demo_ui(args, config, services, sandbox, stop: StopSignals, gateway=None) -> int:
    from app import compose
    from app.demo_controls import SimulatorControls
    from ui.app import LANDSCAPE, PORTRAIT, application, make_kiosk, python_wakeup_timer, quit_soon

    controls = SimulatorControls(services, sandbox, gateway)
    app = application()
    stop.attach(app, quit_soon)
    wake = python_wakeup_timer()  # Qt's loop runs no Python code by itself: this lets the handler run
    controller, window = make_kiosk(services, config)
    size = LANDSCAPE if args.landscape else PORTRAIT
    try:
        if args.offscreen:
            from ui.tour import Tour, TourError

            window.resize(*size)
            window.show()
            tour = Tour(controller, window, controls, args.screenshots, stop_requested=lambda: stop.requested)
            tour.wait(lambda: bool(controller.journey.departments) and controller.printer_status != "unknown",
                      what="departments and printer status")
            try:
                saved = tour.run()
            except TourError as exc:
                if stop.requested:
                    return stop.exit_code
                print(f"kiosk demo: {exc}; screens saved so far are in {args.screenshots}", file=sys.stderr)
                return 1
            print_json({"screenshots": [str(p) for p in saved], "count": len(saved)})
            return 0
        from ui.operator_panel import OperatorPanel

        screen = app.primaryScreen().availableGeometry()
        places = demo_geometry((screen.x(), screen.y(), screen.width(), screen.height()), size,
                               board=args.board is not None)
        window.setGeometry(*places["kiosk"])
        window.show()
        panel = OperatorPanel(controller, controls)
        panel.setGeometry(*places["panel"])
        panel.show()
        if args.board is not None:  # a calling board beside the kiosk (ui/board)
            from ui.board import open_board

            parts = compose.build_board(config, department=args.board, every_room=True)
            board = open_board(config, parts, demo=True, orientation="landscape")
            board.window.setGeometry(*places["board"])
            board.window.show()
            app.aboutToQuit.connect(board.stop)
        print(f"kiosk demo: sandbox HIS at {sandbox.base_url}, BHXH gateway simulator at "
              f"{gateway.base_url if gateway else '(none)'}; use the operator panel to insert "
              "sample cards or show QR codes. Close the windows to stop.", file=sys.stderr)
        if stop.requested:  # signalled while the windows were built (a quit then may have been used up)
            return stop.exit_code
        return app.exec()
    finally:
        wake.stop()
        controller.stop()
