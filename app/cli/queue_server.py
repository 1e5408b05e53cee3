"""`kiosk queue-server`: calling boards in any browser and the phone page of
every ticket (``queue_web``), for the whole hospital.

    kiosk queue-server [--config F] [--host H] [--port P]
    kiosk queue-server --new-secret [FILE] [--force]   # writes FILE, or [queue_web] token_secret_file (mode 0600)

When listening it prints one JSON line (``{"url": …, "port": …}``) on stdout;
logs go to stderr (the journal), redacted, never with ticket tokens.
"""
from __future__ import annotations

import json
import sys

from app.cli import print_json
from kiosk.config.loader import load_config
from kiosk.errors import ConfigError


def register(sub) -> None:
    p = sub.add_parser("queue-server", help="web calling boards and phone pages for tickets (Starlette + uvicorn)")
    p.add_argument("--config", help="config file (default: $KIOSK_CONFIG, then the platform config dir)")
    p.add_argument("--host", help="address to listen on (default: queue_web.host, 127.0.0.1)")
    p.add_argument("--port", type=int, help="TCP port (default: queue_web.port; 0 = any free port)")
    p.add_argument("--new-secret", nargs="?", const="", default=None, metavar="FILE",
                   help="write a new ticket-link secret (mode 0600) to FILE, or without FILE to "
                        "queue_web.token_secret_file, and exit")
    p.add_argument("--force", action="store_true", help="with --new-secret: replace an existing secret")
    p.set_defaults(func=run)


def _new_secret(path: str, force: bool) -> int:
    from kiosk.board.follow import write_secret

    if not path:
        raise ConfigError("queue_web.token_secret_file: give the file on the command line "
                          "(kiosk queue-server --new-secret /etc/kiosk/queue-token.secret) "
                          "or set its path in the config")
    written = write_secret(path, overwrite=force)
    print_json({"written": str(written), "mode": "0600",
                "next": "set [queue_web] token_secret_file to this path and copy the file "
                        "(mode 0600) to every kiosk, at the same path"})
    return 0


def _secret_path(config_arg: str | None) -> str:
    """queue_web.token_secret_file from the TOML, read without validating the
    config (the file it names does not exist yet)."""
    from kiosk.config.loader import find_config_file, read_config_file

    found = find_config_file(config_arg)
    if found is None or not found.is_file():
        return ""
    raw = read_config_file(found)
    return str((raw.get("queue_web") or {}).get("token_secret_file", ""))


def run(args) -> int:
    if args.new_secret is not None:  # FILE given: no config needed; without: the config's path
        return _new_secret(args.new_secret or _secret_path(args.config), args.force)
    from app import compose
    from app.metrics_http import start_metrics_server
    from kiosk.operations.logs import setup_logging
    from queue_web import serve

    config = load_config(args.config)
    setup_logging(config)
    parts = compose.build_queue_web(config)
    host = args.host or config.queue_web.host
    port = config.queue_web.port if args.port is None else args.port

    def ready(bound_host: str, bound_port: int) -> None:
        sys.stdout.write(json.dumps({"url": f"http://{bound_host}:{bound_port}", "port": bound_port}) + "\n")
        sys.stdout.flush()

    metrics = start_metrics_server(config)  # /metrics on 127.0.0.1 when [metrics] enabled
    try:
        serve(parts, host=host, port=port, on_ready=ready)
    finally:
        if metrics is not None:
            metrics.stop()
        for close in reversed(parts.closers):
            close()
    return 0
