"""`kiosk his-sandbox`: run the sandbox HIS (FHIR R4, in memory) on loopback."""
from __future__ import annotations

import json
import signal
import threading

PROFILE_HELP = ("behaviour profile(s), comma-separated: honest (default), minimal, no-revinclude, "
                "no-versioning, create-200, no-search-mode, no-transaction, token, production-like "
                "(see sandbox_his/README.md)")


def register(sub) -> None:
    p = sub.add_parser("his-sandbox", help="run the sandbox HIS (Medplum FHIR engine) on 127.0.0.1")
    p.add_argument("--port", type=int, default=8080, help="TCP port (0 = any free port)")
    p.add_argument("--seed", help="demo data JSON (default: assets/demo/hospital.json)")
    p.add_argument("--no-seed", action="store_true", help="start empty")
    p.add_argument("--profile", default="honest", help=PROFILE_HELP)
    p.add_argument("--queue-numbers", choices=("his", "off"), default="off",
                   help="his = the HIS numbers new Encounters per department and day (identifier his.queue_system)")
    p.add_argument("--timezone", default="Asia/Ho_Chi_Minh", help="local day of the queue numbers and of the demo data")
    p.add_argument("--token-ttl", type=float, help="access-token lifetime in seconds (token profile; default 3600)")
    p.add_argument("--clients", help="JSON file: list of {client_id, client_secret} or {client_id, jwks} (token profile)")
    p.add_argument("--config", help="kiosk config file whose [his] identifier systems the sandbox uses")
    p.set_defaults(func=run)


def run(args) -> int:
    from app.sandbox import SandboxHis
    from kiosk.config.loader import load_config

    his = load_config(args.config).his if args.config else None
    clients = None
    if args.clients:
        with open(args.clients, encoding="utf-8") as f:
            clients = json.load(f)
    seed = False if args.no_seed else (args.seed or True)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    with SandboxHis(port=args.port, seed=seed, timezone=args.timezone, his=his, profile=args.profile,
                    queue_numbers=None if args.queue_numbers == "off" else "his",
                    token_ttl_s=args.token_ttl, clients=clients) as sandbox:
        profile = ",".join(sandbox.active_profile) or "honest"
        print(f"Sandbox HIS ready: {sandbox.base_url}  (profile {profile}; Ctrl+C to stop)", flush=True)
        if sandbox.demo_client:
            print(f"Token URL: {sandbox.token_url}", flush=True)
            print(f"Demo client: client_id={sandbox.demo_client['client_id']} "
                  f"client_secret={sandbox.demo_client['client_secret']}", flush=True)
        while not stop.wait(1.0):
            if sandbox.proc is None or sandbox.proc.poll() is not None:
                print("sandbox HIS process ended unexpectedly")
                return 1
    return 0
