"""`make bench`: run every ``benchmarks/bench_*.py`` and write BENCHMARKS.md.

Each module exposes ``run() -> str`` returning a Markdown section (a ``##``
heading, what was measured, a table, and targets as ratios against a baseline
measured in the same run). ``python -m benchmarks.run NAME…`` runs a subset.
"""
from __future__ import annotations

import importlib
import platform
import sys
import time
import traceback
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def discover() -> list[str]:
    return sorted(p.stem for p in (ROOT / "benchmarks").glob("bench_*.py"))


def main(argv: list[str]) -> int:
    import logging

    logging.basicConfig(level=logging.ERROR)  # benchmarks report in tables, not log lines
    names = [n if n.startswith("bench_") else f"bench_{n}" for n in argv] or discover()
    sections, failed = [], []
    for name in names:
        print(f"== {name}", flush=True)
        started = time.perf_counter()
        try:
            section = importlib.import_module(f"benchmarks.{name}").run()
        except Exception:  # a broken benchmark is reported, the others still run
            traceback.print_exc()
            failed.append(name)
            section = f"## {name}\n\nFAILED to run — see the `make bench` output.\n"
        print(section)
        sections.append(section.strip() + f"\n\n_({name}: {time.perf_counter() - started:.1f} s)_\n")
    header = (
        "# Benchmarks\n\n"
        f"Written by `make bench` on {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC, "
        f"{platform.machine()}, Python {platform.python_version()}, "
        f"{_cpu_count()} CPU cores. Figures are from one run on this machine; targets are "
        "stated as ratios against a baseline measured in the same run where possible.\n\n"
    )
    if not argv:
        (ROOT / "BENCHMARKS.md").write_text(header + "\n".join(sections), encoding="utf-8")
        print("wrote BENCHMARKS.md")
    return 1 if failed else 0


def _cpu_count() -> int:
    import os

    return os.cpu_count() or 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
