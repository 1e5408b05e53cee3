"""What the pages show, as plain JSON-ready dicts built from the board model's
snapshots — numbers only, never a name (not even the masked one the Qt board
may show), never an ID or a date of birth.

- ``board_state``: per room the number served, the next numbers (★ marks a
  priority), the waiting count and the last called (with "absent"), plus the
  staleness of the HIS read. The browser only places these strings.
- ``phone_view``: one visit for its phone page, every sentence already in the
  page's language.
"""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from kiosk.board.model import BoardSnapshot, RoomView, ShownNumber
from kiosk.board.visit_progress import CALLED, WAITING, VisitProgress
from kiosk.domain import ClinicRoom, Department
from queue_web.texts import t

LANGS = ("vi", "en")


def lang_of(value: str | None) -> str:
    return value if value in LANGS else "vi"


def _shown(n: ShownNumber | None) -> dict | None:
    if n is None:
        return None
    return {"label": n.label, "priority": n.priority is not None, "absent": n.no_show}


def _room(r: RoomView) -> dict:
    return {"code": r.code, "name": r.name, "serving": _shown(r.serving),
            "waiting": [_shown(w) for w in r.waiting], "waiting_total": r.waiting_total,
            "recent": [_shown(x) for x in r.recent]}


def hm(when: datetime | None, tz: ZoneInfo, seconds: bool = False) -> str | None:
    if when is None:
        return None
    return when.astimezone(tz).strftime("%H:%M:%S" if seconds else "%H:%M")


def board_state(snapshot: BoardSnapshot, tz: ZoneInfo) -> dict:
    """The board's content (compared between polls: unchanged content is not sent again)."""
    return {"rooms": [_room(r) for r in snapshot.rooms], "stale": snapshot.stale,
            "updated": hm(snapshot.updated_at, tz)}


def board_texts(lang: str) -> dict:
    """The board's fixed sentences for the browser ({count}, {time}, {label}, {room} filled there)."""
    keys = {"serving": "board.serving", "next": "board.next", "recent": "board.recent", "none": "board.none",
            "waiting_more": "board.waiting_more", "waiting_count": "board.waiting_count",
            "stale": "board.stale", "absent": "board.absent", "priority_legend": "board.priority_legend",
            "calling": "board.calling", "server_lost": "queue.server_lost", "sound_hint": "queue.sound_hint"}
    return {name: t(key, lang) for name, key in keys.items()}  # t() without values keeps the {placeholders}


def phone_view(lang: str, *, state: str, progress: VisitProgress | None = None, label: str = "",
               room: ClinicRoom | None = None, department: Department | None = None,
               snapshot: BoardSnapshot | None = None, tz: ZoneInfo, now: datetime) -> dict:
    """One visit's page. ``state`` is the progress state, or one of
    ``pending`` (not in the HIS yet), ``unknown`` (not found today) and
    ``his_down`` (the HIS could not be asked)."""
    room_name = room.name if room else ""
    view = {
        "lang": lang, "state": state, "turn": state == CALLED,
        "number": progress.label if progress else label,
        "priority": bool(progress and progress.priority),
        "headline": t(f"queue.state.{state}", lang),
        "detail": "", "room": room_name, "where": room.where if room else "",
        "department": (department.name_en or department.name if lang == "en" else department.name)
        if department else "",
        "ahead": "", "wait": "", "serving": "", "stale": "", "updated": "",
    }
    if state == CALLED:
        view["detail"] = t("queue.called_go", lang, room=room_name)
    elif state == "absent":
        view["detail"] = t("queue.absent_help", lang)
    elif state in ("closed", "unknown"):
        view["detail"] = t("queue.ask_desk", lang)
    elif state == "pending":
        view["detail"] = t("queue.pending_help", lang)
    elif state == "his_down":
        view["detail"] = t("queue.his_down_help", lang)
    if state == WAITING and progress is not None and progress.ahead is not None:
        n = progress.ahead
        view["ahead"] = t("queue.next", lang) if n == 0 else (
            t("queue.ahead_one", lang) if n == 1 else t("queue.ahead", lang, n=n))
        view["wait"] = (t("queue.wait", lang, n=progress.wait_min) if progress.wait_min is not None
                        else t("queue.wait_unknown", lang))
    if snapshot is not None:
        rv = snapshot.room(room.code) if room else None
        if state == WAITING and rv is not None and rv.serving is not None:
            view["serving"] = t("queue.room_serving", lang, label=rv.serving.label)
        if snapshot.stale:
            view["stale"] = t("board.stale", lang, time=hm(snapshot.updated_at, tz) or "--:--")
        if snapshot.updated_at is not None:
            view["updated"] = t("queue.updated", lang, time=hm(snapshot.updated_at, tz))
    return view
