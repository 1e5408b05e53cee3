"""Is every control a patient needs in reach? A button counts as on screen when
the whole of it is inside what is really visible: the window, and the viewport
of every scroll area it is in (not the widget inside the scroll area, which is
as tall as its content; less the "more below" cue laid over its bottom). Keypad
keys and, in landscape with normal text, the department buttons must always be
on screen; another button may lie below the fold only when the screen shows at
once that there is more: the scroll area's "more below" cue (ui.screens.base.MoreBelow)
is up — a scroll bar alone is not enough for a patient."""
from __future__ import annotations

from PySide6.QtCore import QRect
from PySide6.QtWidgets import QPushButton, QScrollArea

from ui.screens.base import MoreBelow


def window_rect(widget, window) -> QRect:
    return QRect(widget.mapTo(window, widget.rect().topLeft()), widget.size())


def visible_part(widget, window) -> tuple[QRect, QScrollArea | None]:
    """The part of the window where ``widget`` can be seen, and the innermost scroll area cutting it."""
    clip, area = window.rect(), None
    parent = widget.parentWidget()
    while parent is not None and parent is not window:
        holder = parent.parentWidget()
        if isinstance(holder, QScrollArea) and parent is holder.viewport():
            clip = clip.intersected(window_rect(parent, window))
            cue = cue_of(holder)
            if cue is not None and cue.isVisible():  # what the cue covers is not seen either
                clip.setBottom(min(clip.bottom(), window_rect(cue, window).top() - 1))
            area = area or holder
        parent = holder
    return clip, area


def cue_of(area: QScrollArea) -> MoreBelow | None:
    return next((c for c in area.findChildren(MoreBelow) if c.area is area), None)


def out_of_reach(window) -> list[str]:
    screen = window.current_screen()
    pad = getattr(screen, "pad", None)
    keys = set(pad.keys.values()) if pad is not None else set()
    departments = set(getattr(screen, "buttons", [])) if screen is window.screens.get("department") else set()
    buttons = [b for b in screen.findChildren(QPushButton) + window.findChildren(QPushButton)
               if b.isVisibleTo(window) and (screen.isAncestorOf(b) or not window.stack.isAncestorOf(b))]
    problems = []
    for btn in dict.fromkeys(buttons):
        rect = window_rect(btn, window)
        clip, area = visible_part(btn, window)
        if clip.adjusted(-2, -2, 2, 2).contains(rect):
            continue
        what = f"button {btn.text() or getattr(getattr(btn, 'name', None), 'text', lambda: '')()!r}"
        must = btn in keys or (btn in departments and screen.is_landscape() and not screen.large)
        cue = cue_of(area) if area is not None else None
        shows_more = cue is not None and cue.isVisibleTo(window) and bool(cue.text())
        if must or not shows_more:
            problems.append(f"{what} at {rect.getRect()} is not on screen (visible {clip.getRect()})")
    return problems
