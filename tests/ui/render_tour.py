"""Render the screen tour (``ui.tour``) into a folder, with the regions that change from
run to run — the busy spinner (it turns with the clock) and the queue numbers (the
ticket's number, the "N waiting" counts) — written beside each picture as masks.

Not collected by a plain test run (no ``test_`` prefix); run it explicitly, once on
each tree to compare, then compare with ``tests/ui/compare_tour.py``:

    KIOSK_TOUR_OUT=/tmp/tour/after QT_QPA_PLATFORM=offscreen PYTHONPATH=$PWD \\
        .venv/bin/python -m pytest -q -p no:cacheprovider tests/ui/render_tour.py

(the file can be copied into another checkout's tests/ui/ to render that tree)."""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from PySide6.QtCore import QPoint
from PySide6.QtWidgets import QLabel, QWidget

from app.demo_controls import SimulatorControls
from ui.app import LANDSCAPE, PORTRAIT
from ui.tour import SCENARIOS, Tour

OUT = os.environ.get("KIOSK_TOUR_OUT")
MASKED_ROLES = ("big-number", "big-number-long", "choice-detail")  # the ticket's number, the waiting counts

pytestmark = pytest.mark.skipif(not OUT, reason="set KIOSK_TOUR_OUT to render the tour")


@pytest.fixture
def sandbox(fresh_sandbox):
    return fresh_sandbox


def changing_regions(window) -> list[list[int]]:
    """[x, y, w, h] in the picture of every visible spinner and queue-number label."""
    regions = []
    for widget in window.findChildren(QWidget):
        spinner = type(widget).__name__ == "Spinner"
        number = isinstance(widget, QLabel) and widget.property("role") in MASKED_ROLES
        if (spinner or number) and widget.isVisibleTo(window) and widget.width() and widget.height():
            at = widget.mapTo(window, QPoint(0, 0))
            regions.append([at.x(), at.y(), widget.width(), widget.height()])
    return regions


@pytest.mark.integration
@pytest.mark.parametrize("language", ["vi", "en"])
@pytest.mark.parametrize("orientation", ["portrait", "landscape"])
def test_render(kiosk, sandbox, language, orientation):
    kiosk.window.resize(*(PORTRAIT if orientation == "portrait" else LANDSCAPE))
    kiosk.qtbot.wait(50)
    out = Path(OUT) / f"{language}_{orientation}"
    masks: dict[str, list] = {}

    def record(name):
        masks[name] = changing_regions(kiosk.window)

    tour = Tour(kiosk.controller, kiosk.window, SimulatorControls(kiosk.services, sandbox), out, language=language,
                on_shot=record)
    saved = tour.run(SCENARIOS)
    (out / "masks.json").write_text(json.dumps(masks, indent=1, sort_keys=True), encoding="utf-8")
    assert saved
