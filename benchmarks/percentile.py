"""The one percentile every benchmark reports (nearest rank on the sorted values)."""
from __future__ import annotations


def percentile(values, q: float) -> float:
    """The value below which a share ``q`` (0–1) of ``values`` lies; nan when there are none."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]
