"""Compare two renders of the screen tour (``tests/ui/render_tour.py``) pixel by pixel,
with the regions that change from run to run masked (the spinner, the queue
numbers: ``masks.json`` beside the pictures, from both renders).

    .venv/bin/python tests/ui/compare_tour.py BEFORE AFTER [--tolerance N]

A pixel differs when one of its channels differs by more than ``--tolerance``
(0: exactly). Text is anti-aliased slightly differently from one run to the next
(a few levels on glyph edges), so each picture's largest difference is reported
too. Exit status 0 when every picture matches."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
from PIL import Image


def masks_of(folder: Path) -> dict[str, list]:
    path = folder / "masks.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


def pictures(root: Path) -> dict[str, Path]:
    return {f"{p.parent.name}/{p.name}": p for p in sorted(root.glob("*/*.png"))}


def difference(before: Path, after: Path, regions) -> np.ndarray | None:
    """Each pixel's largest channel difference, masked regions zeroed (None: the sizes differ)."""
    a = np.asarray(Image.open(before).convert("RGB"), dtype=np.int16)
    b = np.asarray(Image.open(after).convert("RGB"), dtype=np.int16)
    if a.shape != b.shape:
        return None
    delta = np.abs(a - b).max(axis=2)
    for x, y, w, h in regions:
        delta[max(0, y):y + h, max(0, x):x + w] = 0
    return delta


def compare(before_root: Path, after_root: Path, tolerance: int = 0) -> tuple[list[str], list[str]]:
    """(report lines, names of the pictures that differ)."""
    before, after = pictures(before_root), pictures(after_root)
    lines, differ = [], []
    for name in sorted(set(before) ^ set(after)):
        lines.append(f"{name}: only in {'before' if name in before else 'after'}")
        differ.append(name)
    masks: dict[tuple[str, str], list] = {}
    for root in (before_root, after_root):
        for folder in root.iterdir():
            if folder.is_dir():
                for stem, regions in masks_of(folder).items():
                    masks.setdefault((folder.name, stem), []).extend(regions)
    largest = 0
    for name in sorted(set(before) & set(after)):
        folder, file = name.split("/")
        delta = difference(before[name], after[name], masks.get((folder, file[:-4]), []))
        if delta is None:
            lines.append(f"{name}: the sizes differ")
            differ.append(name)
            continue
        largest = max(largest, int(delta.max()))
        over = delta > tolerance
        if over.any():
            ys, xs = np.nonzero(over)
            lines.append(f"{name}: {int(over.sum())} pixels differ (by up to {int(delta.max())}) in "
                         f"x {xs.min()}-{xs.max()}, y {ys.min()}-{ys.max()}")
            differ.append(name)
    lines.append(f"{len(set(before) & set(after))} pictures compared, {len(differ)} differ "
                 f"(tolerance {tolerance}; largest difference anywhere {largest})")
    return lines, differ


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("before", type=Path)
    parser.add_argument("after", type=Path)
    parser.add_argument("--tolerance", type=int, default=0, help="channel levels a pixel may differ by (0-255)")
    args = parser.parse_args(argv)
    lines, differ = compare(args.before, args.after, args.tolerance)
    print("\n".join(lines))
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
