"""``python -m sandbox_bhxh``: run the gateway simulator on 127.0.0.1."""
from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading

from sandbox_bhxh.cards import DEMO_FILE
from sandbox_bhxh.server import GatewayServer, State


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m sandbox_bhxh", description="BHXH gateway simulator (loopback only)")
    p.add_argument("--port", type=int, default=0, help="TCP port on 127.0.0.1 (0 = any free port)")
    p.add_argument("--slow", type=float, default=0.0, metavar="S", help="answer gateway requests after S seconds")
    p.add_argument("--down", action="store_true", help="answer gateway requests with HTTP 503")
    p.add_argument("--token-ttl", type=float, default=600.0, metavar="S", help="token lifetime (default 600 s)")
    p.add_argument("--facility", help="this hospital's facility code (default: the demo hospital's)")
    p.add_argument("--demo", default=str(DEMO_FILE), metavar="FILE", help="demo people with their bhyt cards")
    p.add_argument("--parent-pid", type=int, metavar="PID", help="stop when the process PID is gone")
    p.add_argument("--exit-on-stdin-close", action="store_true",
                   help="stop when stdin closes (the launcher died or closed the pipe)")
    args = p.parse_args(argv)
    try:
        state = State(token_ttl_s=args.token_ttl, slow_s=args.slow, down=args.down, facility=args.facility,
                      demo_file=args.demo)
        server = GatewayServer(args.port, state)
    except (OSError, ValueError, KeyError) as exc:
        print(f"sandbox_bhxh: cannot start ({type(exc).__name__}: {exc})", file=sys.stderr)
        return 1
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, lambda *_: stop.set())
    _watch_launcher(stop, args.parent_pid, args.exit_on_stdin_close)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, name="bhxh-simulator",
                              daemon=True)
    thread.start()
    print(json.dumps({"port": server.port}), flush=True)
    stop.wait()
    server.stop()
    return 0


def _watch_launcher(stop: threading.Event, parent_pid: int | None, stdin_close: bool) -> None:
    """Never outlive the launcher (a test run killed by its timeout, a demo
    closed with SIGKILL): stop when stdin reaches EOF or the parent is gone."""
    if stdin_close:
        def read_stdin():
            try:
                while sys.stdin.buffer.read1(4096):
                    pass
            except (OSError, ValueError):
                pass
            stop.set()
        threading.Thread(target=read_stdin, name="bhxh-stdin-watch", daemon=True).start()
    if parent_pid:
        def watch_parent():
            while not stop.wait(0.5):
                try:
                    os.kill(parent_pid, 0)
                except ProcessLookupError:
                    stop.set()
                except PermissionError:
                    pass  # alive (another user's process with that pid: cannot happen for a launcher)
        threading.Thread(target=watch_parent, name="bhxh-parent-watch", daemon=True).start()


if __name__ == "__main__":
    sys.exit(main())
