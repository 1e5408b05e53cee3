"""`kiosk stats`: check-in statistics for hospital leaders, from the HIS.

    kiosk stats --from 2026-03-02 --to 2026-03-06 [--department NOI]
                [--json | --format md|csv|html] [--output FILE] [--config FILE]
    kiosk stats --from today-6 --to today

Days are the hospital's local days (kiosk.timezone), both ends included;
without dates, today. A day is YYYY-MM-DD, ``today``, ``yesterday`` or
``today-N`` (N days before today). Markdown on standard output by default; ``--output
report.html`` (or .csv, .json, .md) picks the format from the file name when
none is given. Bad input is one line naming the option, exit code 2.
"""
from __future__ import annotations

import os
import re
import sys
import tempfile
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from app.cli import json_text
from kiosk.config.loader import load_config
from kiosk.stats.figures import StatsInputError, check_department, compute_stats, make_query

FORMATS = ("md", "csv", "html", "json")


def register(sub) -> None:
    p = sub.add_parser("stats", help="check-in statistics from the HIS (per hour, department, channel; waits)")
    p.add_argument("--from", dest="from_day", metavar="DATE", help="first day: YYYY-MM-DD, today, yesterday or today-N (default: today)")
    p.add_argument("--to", dest="to_day", metavar="DATE", help="last day, included: YYYY-MM-DD, today, yesterday or today-N (default: --from)")
    p.add_argument("--department", metavar="CODE", help="only this department (its code in the HIS, e.g. NOI)")
    how = p.add_mutually_exclusive_group()
    how.add_argument("--json", action="store_true", help="the numbers as JSON (same as --format json)")
    how.add_argument("--format", choices=FORMATS, help="md (default), csv, html (one file with charts) or json")
    p.add_argument("--output", metavar="FILE", help="write the report to FILE instead of standard output")
    p.add_argument("--config", help="config file (default: $KIOSK_CONFIG, then the usual places)")
    p.set_defaults(func=run)


RELATIVE_DAY = re.compile(r"^today(?:-([0-9]{1,4}))?\Z")


def relative_day(text: str | None, today: date) -> str | None:
    """``today``, ``yesterday``, ``today-N`` as YYYY-MM-DD; anything else unchanged
    (a date, or a mistake that ``make_query`` names)."""
    if text is None:
        return None
    word = text.strip().lower()
    if word == "yesterday":
        return (today - timedelta(days=1)).isoformat()
    match = RELATIVE_DAY.match(word)
    if match:
        return (today - timedelta(days=int(match.group(1) or 0))).isoformat()
    return text


def output_format(args) -> str:
    if args.json:
        return "json"
    if args.format:
        return args.format
    suffix = Path(args.output).suffix.lower().lstrip(".") if args.output else ""
    return {"htm": "html", "markdown": "md"}.get(suffix, suffix) if suffix in (*FORMATS, "htm", "markdown") else "md"


def render(data: dict, fmt: str, hospital_name: str) -> str:
    if fmt == "json":
        return json_text(data) + "\n"
    from kiosk.stats import report as stats_report

    if fmt == "html":
        return stats_report.render_html(data, hospital_name)
    return stats_report.RENDERERS[fmt](data)


def write_atomically(path: Path, text: str, encoding: str) -> None:
    """A report is never left half-written (a leader may open it meanwhile)."""
    path = path.expanduser()
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent or Path("."))
    try:
        with os.fdopen(fd, "w", encoding=encoding, newline="") as f:
            f.write(text)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def run(args) -> int:
    config = load_config(args.config)
    tz = config.kiosk.timezone
    try:
        today = datetime.now(ZoneInfo(tz)).date()
        query = make_query(relative_day(args.from_day, today), relative_day(args.to_day, today), today=today,
                           timezone=tz, department=args.department)
        if args.output and not Path(args.output).expanduser().parent.is_dir():
            raise StatsInputError(f"--output: folder {str(Path(args.output).parent)!r} does not exist")
    except StatsInputError as exc:
        print(f"kiosk stats: {exc}", file=sys.stderr)
        return 2
    from app.compose import build_visit_history

    history = build_visit_history(config)
    try:
        departments = history.departments()
        try:
            check_department(query, departments)
        except StatsInputError as exc:
            print(f"kiosk stats: {exc}", file=sys.stderr)
            return 2
        data = compute_stats(history, query, departments)
    finally:
        history.close()
    fmt = output_format(args)
    text = render(data, fmt, config.kiosk.hospital_name)
    if args.output:
        # Excel opens a CSV as UTF-8 (Vietnamese names intact) only with a byte-order mark.
        write_atomically(Path(args.output), text, "utf-8-sig" if fmt == "csv" else "utf-8")
        print(f"kiosk stats: {data['total']['checkins']} check-ins, {fmt} report written to {args.output}",
              file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0
