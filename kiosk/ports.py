"""Ports: the small interfaces the core needs from the outside world.

Adapters: the HIS in ``fhir_his``; the card reader, camera, printer and
voice in ``devices/``; the outbox, reference cache and connectivity monitor in
``offline_cache/``. The one composition root, ``app/compose.py``, builds the
real or simulated adapter for each port from the config. Every method a
caller needs is declared here — callers never probe adapters with ``hasattr``.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Callable, Protocol, runtime_checkable

from kiosk.domain import (
    AccessKey,
    Appointment,
    CheckInRequest,
    CheckInResult,
    ClinicRoom,
    Department,
    Identity,
    Patient,
    PatientLookup,
    Priority,
    Ticket,
    VisitCoverage,
)
from kiosk.operations.diagnostics import Check

if TYPE_CHECKING:
    from kiosk.insurance.card_check import InsuranceCheck


class Clock(Protocol):
    def now(self) -> datetime:
        """Timezone-aware current time in the hospital's timezone."""
        ...


# --- the HIS -----------------------------------------------------------------


@dataclass(frozen=True)
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
    queue_number: int | None  # None: the HIS numbers the visit when it registers it (his.queue_numbers = "his")
    queue_label: str | None
    day: date
    arrived_at: datetime
    priority: Priority | None = None
    mode: str = "online"  # "offline": queued at the kiosk while the HIS was down, delivered later


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

    def allocate_queue_number(self, department_code: str, day: date, *, checkin_id: str | None = None) -> int | None:
        """The visit's queue number before it is recorded, or None when the HIS
        numbers visits itself (read back from the recorded visit). A retried
        check-in (same ``checkin_id``) gets the number it was given before."""
        ...

    def record_visit(self, plan: VisitPlan) -> RecordedVisit: ...

    def list_departments(self, *, refresh: bool = False) -> list[Department]: ...

    def find_booking(self, code: str) -> tuple[Patient, Appointment] | None:
        """The appointment with this booking code (appointment QR) and its patient."""
        ...

    def find_patient_by_code(self, code: str, day: date) -> PatientLookup:
        """The patients whose hospital patient code (``his.patient_code_system``)
        is ``code``, with their booked appointments of ``day`` — one round trip."""
        ...

    def settle_visit(self, checkin_id: str) -> RecordedVisit | None:
        """The visit recorded for this check-in id, asked of the HIS (not trusted
        from a response), with what an interrupted check-in left undone finished
        (its appointment marked arrived). A write: for retries and the outbox."""
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

    def ping(self) -> float:
        """Round-trip time of a cheap request; raises HisUnavailable when down."""
        ...

    def record_coverage(self, encounter_id: str, patient_id: str, check: InsuranceCheck, *, bill: bool) -> str:
        """The patient's BHYT card as a Coverage, created or updated idempotently
        (``fhir_his.coverage``); when ``bill``, the visit references it. Returns its id."""
        ...

    def close(self) -> None: ...


@runtime_checkable
class CheckInHandler(Protocol):
    """What the UI and CLI call (``KioskServices.checkin``): the check-in
    pipeline (``kiosk.checkin.pipeline.CheckInPipeline``), or in tests the bare
    online service. ``check_in`` is all a caller needs: whoever builds the
    pipeline closes it."""

    def check_in(self, request: CheckInRequest) -> CheckInResult: ...


# --- offline -----------------------------------------------------------------

MODE_ONLINE = "online"
MODE_OFFLINE = "offline"


class ConnectivityMonitor(Protocol):
    """Whether the HIS is reachable; the UI's status bar subscribes to changes."""

    def mode(self) -> str:
        """MODE_ONLINE or MODE_OFFLINE."""
        ...

    def subscribe(self, callback: Callable[[str], None]) -> None: ...

    def report_unavailable(self, reason: str) -> None:
        """A HIS call failed as if the HIS were down (timeout, refused, 5xx)."""
        ...

    def report_ok(self, reason: str = "") -> None: ...


class CoverageQueue(Protocol):
    """Durable queue of BHYT work left for later (``offline_cache``): a card
    check that could not be made (gateway slow or down), or a Coverage that
    could not be written with the visit. Its entries hold the card number,
    name and date of birth: personal data, purged after delivery."""

    def enqueue(self, checkin_id: str, coverage: VisitCoverage, reason: str) -> bool:
        """Queue it (False when there is nothing the queue could do: no name to check with)."""
        ...

    def kick(self) -> None:
        """Wake the worker."""
        ...


class OutboxAdmin(Protocol):
    """The offline queue as IT staff see it on the admin screen (no personal data)."""

    def entries(self, limit: int = 200) -> list[dict]: ...

    def backlog(self) -> int: ...

    def oldest_waiting_age_s(self) -> float | None: ...

    def retry(self, entry_id: int) -> bool:
        """Give a dead or waiting entry a fresh attempt budget."""
        ...

    def deliver_now(self) -> None:
        """Wake the sender (and the BHYT recheck worker)."""
        ...

    def insurance_entries(self, limit: int = 200) -> list[dict]:
        """The BHYT recheck queue (no card number, name or date of birth)."""
        ...

    def insurance_backlog(self) -> int: ...

    def retry_insurance(self, entry_id: int) -> bool:
        """Give a dead or waiting recheck a fresh attempt budget."""
        ...

    def incidents(self) -> list[str]:
        """Open incidents of the local database (damaged, emptied, replaced):
        what happened and what to do, one text each."""
        ...


# --- devices -----------------------------------------------------------------

PRINTER_OK = "ok"
PRINTER_PAPER_LOW = "paper_low"
PRINTER_PAPER_OUT = "paper_out"
PRINTER_OFFLINE = "offline"
PRINTER_UNKNOWN = "unknown"  # never shown as OK

# Device states reported to the status bar and to ``kiosk doctor``.
DEVICE_READY = "ready"
DEVICE_MISSING = "missing"  # reader unplugged / camera lost
DEVICE_ERROR = "error"
CARD_INSERTED = "card_inserted"
CARD_REMOVED = "card_removed"
HEADPHONES_IN = "headphones_in"    # the speech device's headphone socket appeared
HEADPHONES_OUT = "headphones_out"
SPEECH_FAILED = "speech_failed"    # the speech device could not play a sentence (no sound came out)
SPEECH_PLAYED = "speech_played"    # a sentence was played again after a failure
QR_UNREADABLE = "qr_unreadable"    # the camera has seen a code it cannot read for a couple of seconds
QR_READABLE = "qr_readable"        # that is over: the code was read, or it left the view

DeviceEventCallback = Callable[[str], None]


class Device(Protocol):
    """What every device adapter offers IT staff and the composition root."""

    def diagnose(self) -> list[Check]:
        """What ``kiosk doctor`` and the admin screen show about this device
        (never OK for a state it could not read)."""
        ...

    def close(self) -> None:
        """Release the device (idempotent)."""
        ...


class Printer(Device, Protocol):
    def status(self) -> str:
        """One of the PRINTER_* constants."""
        ...

    def print_ticket(self, ticket: Ticket) -> None:
        """Render and print; raises a typed error when it cannot."""
        ...

    def preview_png(self, ticket: Ticket) -> bytes:
        """The exact raster that ``print_ticket`` sends, as a PNG."""
        ...


class CardReader(Device, Protocol):
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


class QrScanner(Device, Protocol):
    """A camera (or simulated source) that decodes QR codes on its own thread
    and reports each new payload once, as exact text (UTF-8 decoded)."""

    def start(self, on_code: Callable[[str], None], on_event: DeviceEventCallback) -> None: ...

    def stop(self) -> None: ...


class Announcer(Device, Protocol):
    """The calling board's voice: chime + spoken number, one call at a time."""

    def start(self) -> None: ...

    def stop(self) -> None: ...

    def call(self, room_code: str, room_name: str, label: str) -> object:
        """Queue one call; returns at once (calls never cut each other off)."""
        ...


class Speech(Device, Protocol):
    """Spoken guidance for the patient at the kiosk ("say this"): one voice,
    on its own device thread; a new sentence cuts off the one being said."""

    def start(self, on_event: DeviceEventCallback) -> None:
        """Watch the headphone socket; report HEADPHONES_IN / HEADPHONES_OUT."""
        ...

    def say(self, text: str, language: str) -> None:
        """Speak ``text`` in ``language`` ("vi"/"en"), stopping what is being
        said; returns at once."""
        ...

    def silence(self) -> None:
        """Stop speaking now."""
        ...

    def set_volume(self, percent: int) -> None:
        """0-100; applies from the next sentence."""
        ...

    def volume(self) -> int: ...

    def headphones_in(self) -> bool:
        """Whether the configured headphone socket is present (speech plays there only)."""
        ...


class DemoControls(Protocol):
    """What the demo's operator panel and scripted tour do to the simulated
    devices and the sandbox HIS (built by the composition root from the simulators)."""

    def simulates(self, part: str) -> bool:
        """Whether ``part`` ("card_reader", "camera", "printer", "his", "gateway") can be driven here."""
        ...

    def insert_card(self, person_key: str) -> None: ...

    def remove_card(self) -> None: ...

    def card_present(self) -> bool: ...

    def set_card_read_time(self, seconds: float) -> None: ...

    def show_qr(self, text: str, seconds: float = 1.0) -> None: ...

    def show_unreadable_qr(self) -> None: ...

    def show_slip(self, code: str, seconds: float = 1.0) -> None:
        """Hold an old slip with a Code 128 patient-code barcode to the camera."""
        ...

    def qr_repeat_after_s(self) -> float: ...

    def camera_running(self) -> bool:
        """The camera decodes frames (it starts on a worker: a code shown before is lost)."""
        ...

    def set_printer_state(self, state: str) -> None: ...

    def last_ticket_png(self) -> bytes | None: ...

    def his_down(self) -> None: ...

    def his_up(self) -> None: ...

    def set_gateway(self, mode: str) -> None:
        """The BHXH gateway simulator: "up", "slow" (answers after insurance.timeout_s) or "down" (HTTP 503)."""
        ...


class CallAudio(Protocol):
    """A call as sound for screens that play it themselves (the web boards of
    ``kiosk queue-server``): chime + Vietnamese voice, said ``1 + board.repeat``
    times, as one WAV file. Built by the composition root (``devices/voice``:
    espeak-ng, or the simulator)."""

    def synthesize(self, room_code: str, room_name: str, label: str) -> bytes:
        """The call's WAV bytes; raises ``KioskError`` when it cannot be made."""
        ...
