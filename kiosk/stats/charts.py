"""Charts of the statistics report, drawn with matplotlib (the kept plotting
library) as SVG: vector, so they print sharply on A4; text is drawn as paths
(DejaVu Sans: every Vietnamese letter), so the SVG needs no font installed.

Only ``matplotlib.figure.Figure`` is used — never ``pyplot`` — so no GUI
backend is ever loaded (the core stays Qt-free).
"""
from __future__ import annotations

import io

BAR = "#0b7a75"  # teal: the tests look for this colour in the rendered page
BAR_2 = "#f2a541"  # amber: the second series (walk-in, 90th percentile)
GRID = "#d9d9d9"


def _figure(height_in: float):
    import matplotlib

    matplotlib.rcParams["svg.hashsalt"] = "kiosk-stats"  # the same report gives the same bytes
    matplotlib.rcParams["svg.fonttype"] = "path"
    from matplotlib.figure import Figure

    fig = Figure(figsize=(7.2, height_in), dpi=100)
    ax = fig.add_subplot(1, 1, 1)
    ax.spines[["top", "right"]].set_visible(False)
    ax.set_axisbelow(True)
    return fig, ax


def _svg(fig) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="svg", bbox_inches="tight", metadata={"Date": None})
    return buf.getvalue().decode("utf-8")


def hours_chart(by_hour: dict[str, int], title: str) -> str:
    """Check-ins per hour of the day (opening hours at least 06-18)."""
    hours = [int(h) for h in by_hour] or [7]
    span = range(min(6, *hours), max(18, *hours) + 1)
    fig, ax = _figure(2.6)
    ax.bar([h for h in span], [by_hour.get(f"{h:02d}", 0) for h in span], color=BAR, width=0.75)
    ax.set_xticks(list(span), [f"{h:02d}h" for h in span], fontsize=8)
    ax.yaxis.grid(True, color=GRID)
    ax.set_title(title, fontsize=10, loc="left")
    ax.yaxis.get_major_locator().set_params(integer=True)
    return _svg(fig)


def departments_chart(rows: list[tuple[str, int, int]], title: str, legend: tuple[str, str]) -> str:
    """Check-ins per department: (label, booked, walk-in) stacked bars."""
    rows = rows or [("—", 0, 0)]
    labels = [r[0] for r in rows][::-1]
    booked = [r[1] for r in rows][::-1]
    walk_in = [r[2] for r in rows][::-1]
    fig, ax = _figure(0.6 + 0.32 * len(rows))
    ax.barh(labels, booked, color=BAR, label=legend[0], height=0.6)
    ax.barh(labels, walk_in, left=booked, color=BAR_2, label=legend[1], height=0.6)
    ax.set_xlim(0, max([b + w for b, w in zip(booked, walk_in)] + [1]) * 1.05)
    ax.xaxis.grid(True, color=GRID)
    ax.tick_params(labelsize=8)
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.legend(fontsize=8, frameon=False, loc="lower right")
    ax.set_title(title, fontsize=10, loc="left")
    return _svg(fig)


def bars_chart(rows: list[tuple[str, int]], title: str) -> str:
    """One horizontal bar per row (e.g. check-ins per identification channel)."""
    rows = rows or [("—", 0)]
    fig, ax = _figure(0.6 + 0.32 * len(rows))
    ax.barh([r[0] for r in rows][::-1], [r[1] for r in rows][::-1], color=BAR, height=0.6)
    ax.set_xlim(0, max([r[1] for r in rows] + [1]) * 1.05)
    ax.xaxis.grid(True, color=GRID)
    ax.tick_params(labelsize=8)
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.set_title(title, fontsize=10, loc="left")
    return _svg(fig)


def waits_chart(rows: list[tuple[str, float | None, float | None]], title: str,
                legend: tuple[str, str]) -> str:
    """Median and 90th percentile of a waiting time (minutes) per department."""
    rows = rows or [("—", None, None)]
    labels = [r[0] for r in rows][::-1]
    ys = list(range(len(labels)))
    median = [r[1] or 0 for r in rows][::-1]
    p90 = [r[2] or 0 for r in rows][::-1]
    fig, ax = _figure(0.6 + 0.42 * len(rows))
    ax.barh([y + 0.2 for y in ys], median, height=0.38, color=BAR, label=legend[0])
    ax.barh([y - 0.2 for y in ys], p90, height=0.38, color=BAR_2, label=legend[1])
    ax.set_yticks(ys, labels)
    ax.set_xlim(0, max([*median, *p90, 1.0]) * 1.05)
    ax.xaxis.grid(True, color=GRID)
    ax.tick_params(labelsize=8)
    ax.legend(fontsize=8, frameon=False, loc="lower right")
    ax.set_title(title, fontsize=10, loc="left")
    return _svg(fig)
