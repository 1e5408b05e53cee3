"""The message keys the code builds at run time from a code (``f"ui.priority.{p.value}"``).

Each template names where it is used and lists the codes it is built from,
taken from the constants the code itself uses wherever they exist. The catalogue
test (tests/core/test_catalogue.py) expands these lists: every key they give
must have a text, every text must be used, and any f-string that builds a key
and is not declared here fails the test. Nothing imports this module at run time.
"""
from __future__ import annotations

from kiosk.board.visit_progress import ABSENT, CALLED, CLOSED, DONE, WAITING, WITH_DOCTOR
from kiosk.domain import Priority
from kiosk.insurance.rules import (
    CHECKING,
    EXPIRED,
    FEE,
    MISMATCH,
    NEW_CARD,
    NOT_FOUND,
    NOT_YET_VALID,
    REFUSED,
    UNCHECKED,
    VALID,
    VALID_ELSEWHERE,
)
from kiosk.journey.events import HOME, RETRY, TYPE_ID
from kiosk.ports import (
    DEVICE_ERROR,
    DEVICE_MISSING,
    DEVICE_READY,
    PRINTER_OFFLINE,
    PRINTER_OK,
    PRINTER_PAPER_LOW,
    PRINTER_PAPER_OUT,
    PRINTER_UNKNOWN,
)

PRIORITIES = tuple(p.value for p in Priority)
# kiosk.insurance.rules.shown_status: what the screens, the voice and the ticket say about a BHYT card
SHOWN_COVERAGE = (CHECKING, VALID, NEW_CARD, VALID_ELSEWHERE, EXPIRED, NOT_YET_VALID, NOT_FOUND, MISMATCH, REFUSED,
                  UNCHECKED, FEE)
TICKET_COVERAGE = tuple(s for s in SHOWN_COVERAGE if s != CHECKING)  # kiosk.insurance.rules.ticket_status
NONE, STARTING = "none", "starting"  # ui.device_signals: no such device / still being set up
PRINTER_SHOWN = (PRINTER_OK, PRINTER_PAPER_LOW, PRINTER_PAPER_OUT, PRINTER_OFFLINE, PRINTER_UNKNOWN, NONE, STARTING)
DEVICE_SHOWN = (DEVICE_READY, DEVICE_MISSING, DEVICE_ERROR, NONE, STARTING)  # ui/window.py refresh_status
# queue_web.views.phone_view: a visit's progress state, or what the service knows instead
PHONE_STATES = (WAITING, CALLED, WITH_DOCTOR, DONE, ABSENT, CLOSED, "pending", "unknown", "his_down")

# template ("{}" for each code) -> the codes of each "{}", in order
DYNAMIC_KEYS: dict[str, tuple[tuple[str, ...], ...]] = {
    "priority.{}": (PRIORITIES,),  # devices/printer/texts.py priority_text
    "ui.priority.{}": (PRIORITIES,),  # ui/screens/visit.py, finish.py
    "insurance.{}": (TICKET_COVERAGE,),  # devices/printer/texts.py insurance_text
    "ui.coverage.{}": (SHOWN_COVERAGE,),  # ui/screens/insurance.py coverage_text
    "speech.coverage.{}": (SHOWN_COVERAGE,),  # kiosk/journey/spoken.py _coverage
    "speech.keypad.{}": (("citizen_id", "patient_code"),),  # kiosk/journey/spoken.py, the keypad's two fields
    "ui.action.{}": ((RETRY, TYPE_ID, HOME),),  # kiosk/journey/spoken.py, the error screen's actions
    "ui.status.printer.{}": (PRINTER_SHOWN,),  # ui/window.py refresh_status
    "ui.status.{}.{}": (("reader", "camera"), DEVICE_SHOWN),  # ui/window.py refresh_status
    "queue.state.{}": (PHONE_STATES,),  # queue_web/views.py phone_view
}
