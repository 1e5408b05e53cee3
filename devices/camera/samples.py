"""Sample QR codes of the demo people (assets/demo/hospital.json).

Why: the demo operator panel shows the QR codes a visitor can hold up to the
camera, and the simulator and tests scan the same payloads. Payloads follow
the 2021 CCCD layout ``ID|oldID|name|DDMMYYYY|sex|address|DDMMYYYY``.
"""
from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from kiosk.demo_data import cccd_qr_payload, demo_people  # noqa: F401 - cccd_qr_payload re-exported

APPOINTMENT_PREFIX = "APPT:"


def hospital_today(timezone: str = "Asia/Ho_Chi_Minh") -> date:
    return datetime.now(ZoneInfo(timezone)).date()


def demo_appointment_code(person: dict, day: date | None = None) -> str | None:
    """Booking code of a demo person's appointment on ``day`` (default: today
    in Vietnam), as the sandbox HIS seeds it (identifier system
    ``his.booking_system``): ``LH<yymmdd><last 4 ID digits>``. None for
    a person without an appointment."""
    if not person.get("appointment"):
        return None
    day = day or hospital_today()
    return f"LH{day:%y%m%d}{person['citizen_id'][-4:]}"


def appointment_qr_payload(code: str, prefixed: bool = False) -> str:
    """The text of an appointment QR: the booking code itself (optionally
    ``APPT:<code>``); both match the default ``camera.appointment_pattern``."""
    return f"{APPOINTMENT_PREFIX}{code}" if prefixed else code


def demo_payloads(day: date | None = None) -> dict[str, str]:
    """Every sample code: ``cccd:<key>`` per person, ``appointment:<key>`` per
    booked person."""
    payloads: dict[str, str] = {}
    for person in demo_people():
        payloads[f"cccd:{person['key']}"] = cccd_qr_payload(person)
        code = demo_appointment_code(person, day)
        if code:
            payloads[f"appointment:{person['key']}"] = appointment_qr_payload(code)
    return payloads


def render_qr_png(payload: str, path: str | Path, scale: int = 8, border: int = 4) -> Path:
    """Write the payload as a QR code PNG (UTF-8 byte mode, no ECI marker, like
    the CCCD) and return the path."""
    import segno

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    segno.make(payload, encoding="utf-8", error="m", micro=False, boost_error=False).save(
        str(path), kind="png", scale=scale, border=border)
    return path


def qr_png_bytes(payload: str, scale: int = 8, border: int = 4) -> bytes:
    """The same PNG in memory (for a Qt pixmap)."""
    import io

    import segno

    buf = io.BytesIO()
    segno.make(payload, encoding="utf-8", error="m", micro=False, boost_error=False).save(
        buf, kind="png", scale=scale, border=border)
    return buf.getvalue()
