"""`kiosk doctor [--config FILE] [--json] [--test-print]`: check everything
this kiosk depends on and say, one line each, what to fix. Exit code 1 when
any check FAILs, so scripts and monitoring can use it."""
from __future__ import annotations

import sys

from app.cli import print_json, shown
from kiosk.operations.diagnostics import FAIL, OK, WARN


def register(sub) -> None:
    p = sub.add_parser("doctor", help="check config, devices, HIS, insurance gateway, outbox, disk and database; say what to fix")
    p.add_argument("--config", metavar="FILE", help="config file (default: $KIOSK_CONFIG, then the usual places)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--test-print", action="store_true", help="also print a test ticket")
    p.add_argument("--timeout", type=float, default=8.0, metavar="S",
                   help="give up on a check after S seconds (default 8)")
    p.add_argument("--only", metavar="NAMES",
                   help="comma-separated subset: card_reader,camera,printer,voice,outbox,his,insurance,disk,database,metrics")
    p.set_defaults(func=_doctor)


_MARK = {OK: "OK  ", WARN: "WARN", FAIL: "FAIL"}


def _doctor(args) -> int:
    from app.doctor import exit_code, run_doctor, summary

    only = {x.strip() for x in args.only.split(",") if x.strip()} if args.only else None
    checks, config = run_doctor(args.config, test_print=args.test_print, timeout_s=args.timeout, only=only)
    if args.json:
        print_json({
            "kiosk": config.kiosk.id if config else None,
            "config": config.source if config else args.config,
            "ok": exit_code(checks) == 0,
            "summary": summary(checks),
            "checks": [c.to_json() for c in checks],
            "his_capabilities": next((c.data for c in checks if c.name == "his.capabilities" and c.data), None),
        })
        return exit_code(checks)
    color = sys.stdout.isatty()
    paint = {OK: "\033[32m", WARN: "\033[33m", FAIL: "\033[31m"}
    width = max((len(c.name) for c in checks), default=10)
    for c in checks:
        mark = f"{paint[c.status]}{_MARK[c.status]}\033[0m" if color and c.status in paint else _MARK.get(c.status, c.status)
        print(f"{mark}  {c.name:<{width}}  {shown(c.detail)}")
        if c.status != OK and c.fix:
            print(f"      {'':<{width}}  → {shown(c.fix)}")
    matrix = next((c.data["matrix"] for c in checks if c.name == "his.capabilities" and c.data), None)
    if matrix:
        print("\nHIS capabilities (declared / probed / configured → what the kiosk does):")
        mark = {True: "yes", False: "no", None: "-"}
        for row in matrix:
            print(f"  {row['status']:<4}  {row['capability']:<19} {mark[row['declared']]:>3} / "
                  f"{mark[row['probed']]:>3} / {mark[row['configured']]:>3}  → {row['strategy']}")
    counts = summary(checks)
    print(f"\n{counts[OK]} OK, {counts[WARN]} WARN, {counts[FAIL]} FAIL")
    return exit_code(checks)
