"""`kiosk config check FILE`: validate a configuration file and say what is wrong.

Checks, each naming the key: the file's encoding (UTF-8, else the byte offset),
TOML syntax, every setting's type, range and choices (finite numbers, upper
bounds for timeouts and intervals, a real IANA time zone…), then the folders
and files the settings name (``kiosk.config.checks``), and the admin PIN hash
(an old or weak one: set a new PIN with ``kiosk admin set-pin``). Every problem is
listed, not only the first. Exit code 1 when anything is wrong."""
from __future__ import annotations

import sys

from kiosk.config.checks import path_problems
from kiosk.config.his_settings import his_warnings
from kiosk.config.loader import config_problems, read_config_file
from kiosk.operations.admin_pin import SET_PIN_FIX, hash_problem


def register(sub) -> None:
    p = sub.add_parser("config", help="configuration tools")
    csub = p.add_subparsers(dest="config_command", metavar="ACTION", required=True)
    check = csub.add_parser("check", help="validate a config file and say what is wrong")
    check.add_argument("file")
    check.set_defaults(func=_check)


def _check(args) -> int:
    cfg, problems = config_problems(read_config_file(args.file), source=args.file)
    problems = problems + path_problems(cfg)
    weak_pin = hash_problem(cfg.admin.pin_hash)
    if weak_pin:
        problems = [*problems, f"{weak_pin} → {SET_PIN_FIX}"]
    if problems:
        print(f"{cfg.source}: {len(problems)} problem(s):", file=sys.stderr)
        for problem in problems:
            print(f"kiosk config check: {problem}", file=sys.stderr)
        return 1
    print(f"{cfg.source}: OK (kiosk {cfg.kiosk.id}, HIS {cfg.his.base_url}, sign-in {cfg.his.auth}, "
          f"queue numbers {cfg.his.queue_numbers}, reader {cfg.card_reader.driver}, camera {cfg.camera.driver}, "
          f"printer {cfg.printer.driver}, insurance {cfg.insurance.gateway})")
    for key, what, fix in his_warnings(cfg.his):
        print(f"WARN {key}: {what} → {fix}")
    return 0
