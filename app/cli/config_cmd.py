"""`kiosk config check FILE`: validate a configuration file."""
from __future__ import annotations

from kiosk.config import load_config
from kiosk.his_settings import his_warnings


def register(sub) -> None:
    p = sub.add_parser("config", help="configuration tools")
    csub = p.add_subparsers(dest="config_command", metavar="ACTION", required=True)
    check = csub.add_parser("check", help="validate a config file and say what is wrong")
    check.add_argument("file")
    check.set_defaults(func=_check)


def _check(args) -> int:
    cfg = load_config(args.file)
    print(f"{cfg.source}: OK (kiosk {cfg.kiosk.id}, HIS {cfg.his.base_url}, sign-in {cfg.his.auth}, "
          f"queue numbers {cfg.his.queue_numbers}, reader {cfg.card_reader.driver}, camera {cfg.camera.driver}, "
          f"printer {cfg.printer.driver}, insurance {cfg.insurance.gateway})")
    for key, what, fix in his_warnings(cfg.his):
        print(f"WARN {key}: {what} → {fix}")
    return 0
