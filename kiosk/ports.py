"""Ports: the small interfaces the core needs from the outside world.

Adapters live in ``devices/`` (card reader, camera, printer), ``offline_cache/``
(outbox, reference-data cache) and ``kiosk.fhir`` (the HIS). The composition
root (``app.compose``) picks real or simulated adapters from the config.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Callable, Protocol, runtime_checkable

from .domain import (
    Appointment,
    CheckInRequest,
    CheckInResult,
    ClinicRoom,
    AccessKey,
    Department,
    Identity,
    Patient,
    PatientLookup,
    Priority,
    Ticket,
)


class Clock(Protocol):
    def now(self) -> datetime:
        """Timezone-aware current time in the hospital's timezone."""
        ...


@dataclass
class VisitPlan:
    """Everything needed to record one visit in the HIS, in one request where
    the HIS allows it. ``patient`` is None when the patient must be created
    from ``identity``."""

    checkin_id: str
    identity: Identity
    patient: Patient | None
    appointment: Appointment | None
    department: Department
    room: ClinicRoom
    queue_number: int
    queue_label: str
    day: date
    arrived_at: datetime
    priority: Priority | None = None


@dataclass
class RecordedVisit:
    patient_id: str
    encounter_id: str
    appointment_id: str | None
    queue_number: int  # may differ from the plan when a retried check-in found its earlier visit
    queue_label: str
    patient_created: bool = False
    department_code: str | None = None
    room_code: str | None = None
    priority: Priority | None = None


class His(Protocol):
    """The hospital information system, as the check-in needs it."""

    def lookup_patient(self, citizen_id: str, day: date) -> PatientLookup: ...

    def allocate_queue_number(self, department_code: str, day: date) -> int: ...

    def record_visit(self, plan: VisitPlan) -> RecordedVisit: ...

    def list_departments(self) -> list[Department]: ...

    def find_booking(self, code: str) -> tuple[Patient, Appointment] | None:
        """The appointment with this booking code (appointment QR) and its patient."""
        ...

    def find_visit(self, checkin_id: str) -> RecordedVisit | None:
        """The visit recorded for this check-in id, asked of the HIS (not trusted from a response)."""
        ...

    def find_visits(self, checkin_ids: list[str]) -> tuple[dict[str, RecordedVisit], list[str]]:
        """Many check-ins at once: (visits by check-in id, ids with more than one visit)."""
        ...

    def relabel_visit(self, encounter_id: str, *, number: int, label: str, department_code: str,
                      day: date) -> str:
        """Give a still-waiting visit the offline ticket's number; returns its label now."""
        ...

    def waiting_counts(self, day: date) -> dict[str, int]:
        """Visits waiting per department code today (for the department screen)."""
        ...


@runtime_checkable
class CheckInHandler(Protocol):
    """What the UI and CLI call: the online service, or the offline-aware one."""

    def check_in(self, request: CheckInRequest) -> CheckInResult: ...


MODE_ONLINE = "online"
MODE_OFFLINE = "offline"


class ConnectivityMonitor(Protocol):
    """Whether the HIS is reachable; the UI's status bar subscribes to changes."""

    def mode(self) -> str:
        """MODE_ONLINE or MODE_OFFLINE."""
        ...

    def subscribe(self, callback: Callable[[str], None]) -> None: ...


class Outbox(Protocol):
    """Durable queue of check-ins to deliver to the HIS later (offline mode)."""

    def enqueue(self, request: CheckInRequest, ticket: Ticket) -> str: ...

    def backlog(self) -> int: ...


# --- devices -----------------------------------------------------------------


class DeviceStatus(str):
    """Free-form status strings are avoided: adapters use these constants."""


PRINTER_OK = "ok"
PRINTER_PAPER_LOW = "paper_low"
PRINTER_PAPER_OUT = "paper_out"
PRINTER_OFFLINE = "offline"
PRINTER_UNKNOWN = "unknown"  # never shown as OK


class Printer(Protocol):
    def status(self) -> str:
        """One of the PRINTER_* constants."""
        ...

    def print_ticket(self, ticket: Ticket) -> None:
        """Render and print; raises a typed error when it cannot."""
        ...

    def preview_png(self, ticket: Ticket) -> bytes:
        """The exact raster that ``print_ticket`` sends, as a PNG."""
        ...


# Device states reported to the status bar and to ``kiosk doctor``.
DEVICE_READY = "ready"
DEVICE_MISSING = "missing"  # reader unplugged / camera lost
DEVICE_ERROR = "error"
CARD_INSERTED = "card_inserted"
CARD_REMOVED = "card_removed"

DeviceEventCallback = Callable[[str], None]


class CardReader(Protocol):
    """A CCCD chip reader. ``start`` runs the card monitor on the reader's own
    device thread and reports CARD_INSERTED / CARD_REMOVED / DEVICE_* events.
    ``read_identity`` performs PACE (CAN) or BAC (MRZ key) and reads the chip;
    it is called from a worker thread, runs the I/O on the device thread and
    raises typed errors (wrong key, card removed, reader gone, timeout)."""

    def start(self, on_event: DeviceEventCallback) -> None: ...

    def stop(self) -> None: ...

    def read_identity(self, key: AccessKey, *, with_photo: bool = False,
                      timeout: float = 15.0) -> Identity: ...

    def read_photo(self, timeout: float | None = None) -> bytes:
        """The face image (DG2), read in the same secure session right after
        ``read_identity(with_photo=False)`` — off the check-in's critical path."""
        ...


class QrScanner(Protocol):
    """A camera (or simulated source) that decodes QR codes on its own thread
    and reports each new payload once, as exact text (UTF-8 decoded)."""

    def start(self, on_code: Callable[[str], None], on_event: DeviceEventCallback) -> None: ...

    def stop(self) -> None: ...
