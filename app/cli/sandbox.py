"""`kiosk his-sandbox`: run the sandbox HIS (FHIR R4, in memory) on loopback."""
from __future__ import annotations

import signal
import threading


def register(sub) -> None:
    p = sub.add_parser("his-sandbox", help="run the sandbox HIS (Medplum FHIR engine) on 127.0.0.1")
    p.add_argument("--port", type=int, default=8080, help="TCP port (0 = any free port)")
    p.add_argument("--seed", help="demo data JSON (default: assets/demo/hospital.json)")
    p.add_argument("--no-seed", action="store_true", help="start empty")
    p.set_defaults(func=run)


def run(args) -> int:
    from app.sandbox import SandboxHis

    seed = False if args.no_seed else (args.seed or True)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    with SandboxHis(port=args.port, seed=seed) as sandbox:
        print(f"Sandbox HIS ready: {sandbox.base_url}  (Ctrl+C to stop)", flush=True)
        while not stop.wait(1.0):
            if sandbox.proc is None or sandbox.proc.poll() is not None:
                print("sandbox HIS process ended unexpectedly")
                return 1
    return 0
