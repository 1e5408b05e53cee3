"""`make bench`: run every ``benchmarks/bench_*.py`` and write BENCHMARKS.md.

Each module exposes ``run() -> str`` returning a Markdown section (a ``##``
heading, what was measured, a table, and targets as ratios against a baseline
measured in the same run). ``python -m benchmarks.run NAME…`` runs a subset
and replaces those sections of BENCHMARKS.md (the header then says which
sections were re-run, and when).
"""
from __future__ import annotations

import importlib
import platform
import re
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
    target = ROOT / "BENCHMARKS.md"
    if not argv:
        target.write_text(header + "\n".join(sections), encoding="utf-8")
        print("wrote BENCHMARKS.md")
    elif target.exists():
        rerun = [n for n in names if n not in failed]
        target.write_text(_replace_sections(target.read_text(encoding="utf-8"), dict(zip(names, sections)), rerun),
                          encoding="utf-8")
        print(f"updated BENCHMARKS.md: {', '.join(rerun) or 'nothing'}")
    return 1 if failed else 0


_FOOTER = re.compile(r"^_\((bench_\w+): [\d.]+ s\)_\n", re.MULTILINE)


def _replace_sections(text: str, new: dict[str, str], rerun: list[str]) -> str:
    """BENCHMARKS.md with the sections of ``rerun`` replaced (a section runs from its
    ``## `` heading to its ``_(bench_x: N s)_`` line; one not there yet is added at the
    end), and a line under the header saying what was re-run, and when."""
    pieces, start = [], 0
    for m in _FOOTER.finditer(text):
        pieces.append((m.group(1), text[start:m.end()]))
        start = m.end()
    out = []
    for name, chunk in pieces:
        out.append(chunk[:chunk.find("## ")] + new[name] if name in rerun else chunk)
    present = {name for name, _ in pieces}
    out += ["\n" + new[name] for name in rerun if name not in present]
    result = "".join(out) + text[start:]
    first = result.find("## ")
    header = result[:first]
    earlier = re.search(r"Sections re-run after it: ([^\n]*)\.\n\n", header)
    runs = [r for r in (earlier.group(1).split("; ") if earlier else []) if r.split(" (")[0] not in rerun]
    if rerun:
        runs.append(f"{', '.join(rerun)} ({datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC)")
    header = re.sub(r"Sections re-run after it: [^\n]*\n\n", "", header)
    stamp = f"Sections re-run after it: {'; '.join(runs)}.\n\n" if runs else ""
    return header + stamp + result[first:]


def _cpu_count() -> int:
    import os

    return os.cpu_count() or 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
