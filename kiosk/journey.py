"""The patient's check-in journey as a Qt-free state machine.

Why a separate object: the screens only *show* the journey and forward touches;
every decision (what a card on the reader means, when to read the chip, what a
timeout does, when personal data is wiped) lives here, so it is unit-tested
without Qt and the same logic drives the kiosk, the demo and the tests.

How it works: ``handle(event)`` changes the state and returns *effects* — slow
work (chip read, HIS lookup, check-in, printing) that the caller runs off the
GUI thread, e.g. with ``perform(effect, services)``, and feeds back as result
events. Each effect carries the operation number it belongs to; a result for an
operation that is no longer current (the patient walked away, the step timed
out) is ignored. ``timeout_s()`` says how long the current step may last; the
caller arms one timer and sends ``TimedOut(generation)`` when it fires.
"""
from __future__ import annotations

import dataclasses
import logging
from datetime import date
from typing import Callable
from zoneinfo import ZoneInfo

from .domain import (AccessKey, Appointment, Assurance, CheckInRequest, CheckInResult, Department,
                     Identity, IdentitySource, Priority, age_priority)
from . import input_rules
from .errors import (BookingNotUsable, DepartmentRequired, HisUnavailable, KioskError, PatientAmbiguous,
                     UnknownDepartment)
from .qr_payload import AppointmentQr, QrPayloadError, parse_qr
from .visit_rules import patient_and_appointment
from .ports import MODE_OFFLINE, PRINTER_OK, PatientLookup
from .journey_events import (  # noqa: F401 - the journey's vocabulary, re-exported
    BUSY_STEPS,
    CardInserted,
    CardRemoved,
    CheckIn,
    ChooseDepartment,
    Confirm,
    Connectivity,
    DECLARABLE_PRIORITIES,
    DeclarePriority,
    DepartmentsFailed,
    DepartmentsLoaded,
    ErrorInfo,
    FindBooking,
    GoHome,
    HOME,
    IdTyped,
    LoadDepartments,
    LookupPatient,
    OpDone,
    OpFailed,
    OpenKeypad,
    OutOfService,
    PRINTABLE,
    PrintTicket,
    PrinterStatus,
    QrScanned,
    RETRY,
    ReadChip,
    ReadPhoto,
    Retry,
    SetLanguage,
    Settings,
    Step,
    TYPE_ID,
    TimedOut,
    USE_QR,
    perform,
)

log = logging.getLogger(__name__)


class Journey:
    """One kiosk's journey; reused patient after patient (``reset`` wipes the personal part)."""

    def __init__(self, settings: Settings, *, today: Callable[[], date] = date.today):
        self.settings = settings
        self._today = today
        # non-personal state that survives a reset
        self.departments: tuple[Department, ...] = ()
        self.waiting: dict[str, int] | None = None
        self.departments_failed = False
        self.printer_status = PRINTER_OK
        self.his_online = True
        self.card_present = False
        self.generation = 0
        self._op = 0
        self.out_of_service: str | None = None
        self.reset()

    # --- state -------------------------------------------------------------------------
    def reset(self) -> None:
        """Back to the welcome screen; drop every reference to personal data."""
        self.step = Step.WELCOME
        self.language = self.settings.language
        self.identity: Identity | None = None
        self.fallback: Identity | None = None   # QR/typed identity kept while the chip is read
        self.key: AccessKey | None = None
        self.appointment: Appointment | None = None
        self.lookup: PatientLookup | None = None  # the HIS answer for this patient, reused by the check-in
        self.department_code: str | None = None
        self.priority: Priority | None = None
        self.result: CheckInResult | None = None
        self.printed = False
        self.offline = False
        self.error: ErrorInfo | None = None
        self.notice: str | None = None          # one-line hint on the current screen
        self._checkin_id: str | None = None
        self._retry: Callable[[], list] | None = None
        if self.out_of_service:
            self.step, self.error = Step.ERROR, ErrorInfo(self.out_of_service, ())
        self._bump()

    def _bump(self) -> None:
        self.generation += 1
        self._op += 1

    def _go(self, step: Step, notice: str | None = None) -> None:
        self.step = step
        self.notice = notice
        self._bump()

    def timeout_s(self) -> float | None:
        """How long the current step may last; None on the welcome screen."""
        s = self.settings
        if self.out_of_service:
            return None
        return {Step.WELCOME: None, Step.READING: s.read_timeout_s, Step.LOOKING_UP: s.lookup_timeout_s,
                Step.FINDING_BOOKING: s.lookup_timeout_s,
                Step.CHECKING_IN: s.checkin_timeout_s, Step.PRINTING: s.print_timeout_s,
                Step.DONE: s.done_timeout_s}.get(self.step, s.idle_timeout_s)

    @property
    def age_priority(self) -> Priority | None:
        ident = self.identity
        return age_priority(ident.birth_date if ident else None, self._today())

    def department(self, code: str | None) -> Department | None:
        return next((d for d in self.departments if d.code == code), None)

    def declarable_priorities(self) -> tuple[Priority, ...]:
        sex = self.identity.sex if self.identity else None
        return tuple(p for p in DECLARABLE_PRIORITIES if not (p is Priority.PREGNANT and sex == "male"))

    @property
    def printer_ready(self) -> bool:
        return self.printer_status in PRINTABLE

    # --- events --------------------------------------------------------------------------
    def handle(self, event) -> list:
        """Apply one event; return the effects to run (possibly none)."""
        method = getattr(self, "_on_" + type(event).__name__, None)
        if method is None:
            raise TypeError(f"journey: unknown event {type(event).__name__}")
        return method(event) or []

    def _on_SetLanguage(self, ev: SetLanguage):
        self.language = ev.language

    def _on_Connectivity(self, ev: Connectivity):
        self.his_online = ev.mode != MODE_OFFLINE

    def _on_PrinterStatus(self, ev: PrinterStatus):
        self.printer_status = ev.status

    def _on_DepartmentsLoaded(self, ev: DepartmentsLoaded):
        self.departments, self.departments_failed = tuple(ev.departments), False
        self.waiting = dict(ev.waiting) if ev.waiting is not None else None

    def _on_DepartmentsFailed(self, ev: DepartmentsFailed):
        self.departments_failed = True
        self.waiting = None  # old counts would mislead

    def _on_OutOfService(self, ev: OutOfService):
        self.out_of_service = ev.key
        self.reset()

    def _on_GoHome(self, ev):
        self.reset()

    def _on_CardInserted(self, ev):
        self.card_present = True
        if self.step is Step.WELCOME:
            self._go(Step.NEED_KEY)
        elif self.step is Step.CONFIRM_IDENTITY and self.identity and self.identity.source is not IdentitySource.CHIP:
            self.fallback = self.identity  # read the chip to upgrade a QR / typed identity
            return self._read(self.key or AccessKey.from_citizen_id(self.identity.citizen_id))
        elif self.step is Step.ERROR and self.key is not None and self.error and RETRY in self.error.actions:
            return self._read(self.key)  # card put back after it was removed mid-read

    def _on_CardRemoved(self, ev):
        self.card_present = False
        if self.step is Step.NEED_KEY:
            self.reset()
        elif self.step is Step.READING:
            self._fail("ui.error.card_removed", (RETRY, USE_QR, TYPE_ID, HOME), retry=lambda: self._read(self.key))

    def _on_OpenKeypad(self, ev):
        if self.step in (Step.WELCOME, Step.NEED_KEY, Step.ERROR, Step.KEYPAD):
            self._go(Step.KEYPAD)

    def _on_QrScanned(self, ev: QrScanned):
        if self.step not in (Step.WELCOME, Step.NEED_KEY, Step.KEYPAD, Step.ERROR):
            return None
        try:
            parsed = parse_qr(ev.text, self.settings.appointment_pattern, today=self._today())
        except QrPayloadError as exc:
            self.notice = exc.patient_message_key
            return None
        if isinstance(parsed, AppointmentQr):
            return self._find_booking(parsed.code)
        return self._identified(parsed.identity(), parsed.access_key())

    def _find_booking(self, code: str) -> list:
        if not self.his_online:
            return self._fail("ui.error.booking_offline", (USE_QR, TYPE_ID, HOME))
        self._go(Step.FINDING_BOOKING)
        self._retry = lambda: self._find_booking(code)
        return [FindBooking(self._op, code)]

    def _on_IdTyped(self, ev: IdTyped):
        if self.step is not Step.KEYPAD:
            return None
        try:  # ASCII digits only, in full: the keypad's text is never converted or trimmed
            digits = input_rules.citizen_id(ev.digits, "keypad")
        except input_rules.InputRefused as exc:
            self.notice = exc.patient_message_key
            return None
        return self._identified(Identity(citizen_id=digits, source=IdentitySource.TYPED, assurance=Assurance.TYPED))

    def _identified(self, identity: Identity, key: AccessKey | None = None) -> list:
        """A QR code or the keypad gave an ID number: read the chip if a card is there."""
        self.identity = None
        self.key = key or AccessKey.from_citizen_id(identity.citizen_id)
        if self.card_present:
            self.fallback = identity
            return self._read(self.key)
        self.identity, self.fallback = identity, None
        self._go(Step.CONFIRM_IDENTITY)
        return []

    def _read(self, key: AccessKey) -> list:
        self.key = key
        self._go(Step.READING)
        s = self.settings
        return [ReadChip(self._op, key, with_photo=False, timeout_s=max(1.0, s.read_timeout_s - 5))]

    def _on_Confirm(self, ev):
        if self.step is Step.CONFIRM_IDENTITY:
            return self._lookup()
        if self.step is Step.APPOINTMENT:
            self.department_code = self.appointment.department_code if self.appointment else None
            return self._after_department()
        if self.step is Step.PRIORITY:
            return self._check_in()
        return None

    def _lookup(self) -> list:
        if not self.his_online:
            return self._go_walk_in(offline=True)  # known offline: do not make the patient wait
        self._go(Step.LOOKING_UP)
        self._retry = self._lookup
        effects: list = [LookupPatient(self._op, self.identity.citizen_id, self._today())]
        if not self.departments:
            effects.append(LoadDepartments())
        return effects

    def _on_ChooseDepartment(self, ev: ChooseDepartment):
        if self.step is not Step.DEPARTMENT or self.department(ev.code) is None:
            return None
        self.department_code = ev.code
        self.appointment = None
        return self._after_department()

    def _after_department(self) -> list:
        if self.age_priority is None:
            self._go(Step.PRIORITY)
            return []
        return self._check_in()

    def _on_DeclarePriority(self, ev: DeclarePriority):
        if self.step is Step.PRIORITY and (ev.priority is None or ev.priority in DECLARABLE_PRIORITIES):
            self.priority = ev.priority
            return self._check_in()
        return None

    def _check_in(self) -> list:
        is_retry = self._checkin_id is not None
        # a canonical UUID (urn:uuid: in the HIS), the same one when retried
        self._checkin_id = self._checkin_id or input_rules.new_checkin_id()
        request = CheckInRequest(checkin_id=self._checkin_id, identity=self.identity, is_retry=is_retry,
                                 lookup=self.lookup,
                                 department_code=None if self.appointment else self.department_code,
                                 declared_priority=self.priority or self.age_priority,
                                 kiosk_id=self.settings.kiosk_id)
        self._go(Step.CHECKING_IN)
        self._retry = self._check_in
        return [CheckIn(self._op, request)]

    def _print(self) -> list:
        if not self.printer_ready:
            self._go(Step.DONE, notice="ui.done.not_printed")
            return []
        self._go(Step.PRINTING)
        self._retry = self._print
        return [PrintTicket(self._op, self.result.ticket)]

    def _on_Retry(self, ev):
        if self.step is Step.DONE and not self.printed and self.result is not None:
            return self._print()
        if self.step is Step.DEPARTMENT and self.departments_failed:
            self.departments_failed = False
            return [LoadDepartments()]
        if self.step is not Step.ERROR or self._retry is None:
            return None
        return self._retry()

    def _on_TimedOut(self, ev: TimedOut):
        if ev.generation != self.generation:
            return None  # a timer armed for an earlier step
        if self.step is Step.READING:
            return self._fail("ui.error.read_timeout", (RETRY, USE_QR, TYPE_ID, HOME),
                              retry=lambda: self._read(self.key))
        if self.step is Step.LOOKING_UP:
            return self._go_walk_in(offline=True)
        if self.step is Step.FINDING_BOOKING:
            return self._fail("ui.error.booking_offline", (USE_QR, TYPE_ID, HOME))
        if self.step is Step.CHECKING_IN:
            return self._fail("error.his_unavailable", (RETRY, HOME), retry=self._check_in)
        if self.step is Step.PRINTING:
            self._go(Step.DONE, notice="ui.done.not_printed")
            return None
        self.reset()  # idle on a personal screen, or the done screen has been read
        return None

    def _fail(self, key: str, actions: tuple[str, ...], retry: Callable[[], list] | None = None) -> None:
        self.error = ErrorInfo(key, actions)
        self._retry = retry
        self._go(Step.ERROR)

    def _go_walk_in(self, offline: bool) -> list:
        self.offline = self.offline or offline
        self._go(Step.DEPARTMENT, notice="ui.notice.offline" if self.offline else None)
        return [LoadDepartments()]  # fresh waiting counts (the cached list shows meanwhile)

    # --- results -------------------------------------------------------------------------
    def _on_OpDone(self, ev: OpDone):
        if ev.op != self._op:
            return None
        if self.step is Step.READING:
            return self._chip_read(ev.value)
        if self.step is Step.FINDING_BOOKING:
            return self._identified(ev.value)
        if self.step is Step.LOOKING_UP:
            return self._looked_up(ev.value)
        if self.step is Step.CHECKING_IN:
            self.result = ev.value
            self.offline = self.result.mode == MODE_OFFLINE or self.result.ticket.offline
            return self._print()
        if self.step is Step.PRINTING:
            self.printed = True
            self._go(Step.DONE)
        if self.step is Step.CONFIRM_IDENTITY and ev.value and self.identity is not None:
            self.identity = dataclasses.replace(self.identity, photo=bytes(ev.value))  # the photo arrived
        return None

    def _chip_read(self, identity: Identity) -> list:
        fallback = self.fallback
        if fallback is not None and fallback.citizen_id != identity.citizen_id:
            self._fail("ui.error.card_mismatch", (TYPE_ID, HOME))
            return []
        self.identity, self.fallback = identity, None
        self._go(Step.CONFIRM_IDENTITY)
        if self.settings.read_photo and identity.photo is None:
            return [ReadPhoto(self._op, timeout_s=max(1.0, self.settings.read_timeout_s - 5))]
        return []

    def _looked_up(self, lookup: PatientLookup) -> list:
        self.lookup = lookup
        try:  # the same rule the check-in applies (kiosk.visit_rules)
            _, appointment = patient_and_appointment(lookup, self.identity.birth_date, self._today(),
                                                     ZoneInfo(self.settings.timezone))
        except PatientAmbiguous as exc:
            return self._fail(exc.patient_message_key, (HOME,))
        if appointment is not None:
            self.appointment = appointment
            self._go(Step.APPOINTMENT)
            return [] if self.departments else [LoadDepartments()]
        return self._go_walk_in(offline=False)

    def _on_OpFailed(self, ev: OpFailed):
        if ev.op != self._op:
            return None
        err = ev.error
        key = err.patient_message_key if isinstance(err, KioskError) else "error.generic"
        log.warning("journey step failed", extra={"event": "journey.failed", "step": self.step.value,
                                                  "error": type(err).__name__})
        if self.step is Step.READING:
            fallback = self.fallback
            if fallback is not None and fallback.source is not IdentitySource.TYPED:
                # the printed QR was read correctly: carry on with it (lower assurance)
                self.identity, self.fallback = fallback, None
                self._go(Step.CONFIRM_IDENTITY, notice="ui.notice.chip_failed")
                return None
            return self._fail(key, (RETRY, USE_QR, TYPE_ID, HOME), retry=lambda: self._read(self.key))
        if self.step is Step.FINDING_BOOKING:
            if isinstance(err, BookingNotUsable):
                return self._fail(key, (USE_QR, TYPE_ID, HOME))
            if isinstance(err, HisUnavailable):
                return self._fail("ui.error.booking_offline", (USE_QR, TYPE_ID, HOME))
            return self._fail(key, (RETRY, HOME), retry=self._retry)
        if self.step is Step.LOOKING_UP:
            if isinstance(err, PatientAmbiguous):
                return self._fail(key, (HOME,))
            if isinstance(err, HisUnavailable):
                return self._go_walk_in(offline=True)
            return self._fail(key, (RETRY, HOME), retry=self._lookup)
        if self.step is Step.CHECKING_IN:
            if isinstance(err, (DepartmentRequired, UnknownDepartment)):
                self.appointment = None
                self._go(Step.DEPARTMENT, notice=key)
                return [LoadDepartments()]
            retry = self._check_in if isinstance(err, HisUnavailable) or not isinstance(err, KioskError) else None
            return self._fail(key, (RETRY, HOME) if retry else (HOME,), retry=retry)
        if self.step is Step.PRINTING:
            self._go(Step.DONE, notice=key if isinstance(err, KioskError) else "ui.done.not_printed")
        return None  # e.g. no photo on the confirm screen: the identity is enough
