"""The patient's check-in journey as a Qt-free state machine.

Why a separate object: the screens only *show* the journey and forward touches;
every decision (what a card on the reader means, when to read the chip, what a
timeout does, when personal data is wiped) lives here, so it is unit-tested
without Qt and the same logic drives the kiosk, the demo, the tests and the
tap counter (``kiosk.journey.walker``).

How it works: ``handle(event)`` changes the state and returns *effects* — slow
work (chip read, HIS lookup, check-in, printing) that the caller runs off the
GUI thread, e.g. with ``perform(effect, services)``, and feeds back as result
events. Each effect carries the operation number it belongs to; a result for an
operation that is no longer current (the patient walked away, the step timed
out) is ignored. ``timeout_s()`` says how long the current step may last; the
caller arms one timer and sends ``TimedOut(generation)`` when it fires.

This module holds the state and the first half — how the patient says who they
are (card, QR, keypad, patient code); ``kiosk.journey.visit_steps`` the second — the
checks made once the identity is known, the visit screen, check-in and ticket.

Two flows (``kiosk.flow``): ``short`` looks the patient up as soon as the
identity is known and shows who they are with today's appointment (or the
departments) and the priority choice on one screen; ``step_by_step`` (the flow
before issue #18) asks "is this you?", then shows the appointment, then asks
about priority, each on its own screen.
"""
from __future__ import annotations

import logging
from datetime import date
from typing import Callable

from kiosk.domain import (
    AccessKey,
    Appointment,
    Assurance,
    CheckInResult,
    Department,
    Identity,
    IdentitySource,
    Priority,
    age_priority,
)
from kiosk.identity import input_rules
from kiosk.identity.patient_code import PatientCodeRules
from kiosk.identity.qr_payload import AppointmentQr, PatientCodeQr, QrPayloadError, parse_qr
from kiosk.journey.events import (  # noqa: F401 - the journey's vocabulary, re-exported
    BUSY_STEPS,
    CITIZEN_ID,
    DECLARABLE_PRIORITIES,
    FLOW_SHORT,
    FLOW_STEP_BY_STEP,
    HOME,
    PATIENT_CODE,
    PRINTABLE,
    RETRY,
    TYPE_ID,
    USE_QR,
    VISIT_STEPS,
    AcceptFee,
    CardInserted,
    CardRemoved,
    CheckIn,
    CheckInsurance,
    ChooseDepartment,
    Confirm,
    Connectivity,
    DeclarePriority,
    DepartmentsFailed,
    DepartmentsLoaded,
    ErrorInfo,
    FindBooking,
    FindPatient,
    GoHome,
    IdTyped,
    LoadDepartments,
    LookupPatient,
    OpDone,
    OpenKeypad,
    OpFailed,
    OutOfService,
    PatientCodeTyped,
    PrinterStatus,
    PrintTicket,
    QrScanned,
    ReadChip,
    ReadPhoto,
    Retry,
    SetLanguage,
    SetLargeText,
    SetSpeech,
    Settings,
    Step,
    TimedOut,
    TogglePriority,
)
from kiosk.journey.visit_steps import VisitSteps
from kiosk.journey.work import perform  # noqa: F401 - re-exported
from kiosk.ports import MODE_OFFLINE, PRINTER_OK, PatientLookup

log = logging.getLogger(__name__)
HOME_STEP = Step.WELCOME


class Journey(VisitSteps):
    """One kiosk's journey; reused patient after patient (``reset`` wipes the personal part)."""

    def __init__(self, settings: Settings, *, today: Callable[[], date] = date.today):
        self.settings = settings
        self._today = today
        self.codes = PatientCodeRules(settings.patient_code_pattern, settings.patient_code_prefix)
        # non-personal state that survives a reset
        self.departments: tuple[Department, ...] = ()
        self.waiting: dict[str, int] | None = None
        self.departments_failed = False
        self.printer_status = PRINTER_OK
        self.his_online = True
        self.card_present = False
        self.generation = 0
        self._seq = 0
        self._op = 0
        self.out_of_service: str | None = None
        self.reset()

    # --- state -------------------------------------------------------------------------
    def reset(self) -> None:
        """Back to the welcome screen; drop every reference to personal data."""
        self.step = Step.WELCOME
        self.language = self.settings.language
        self.speech = self.settings.speech
        self.large_text = self.settings.large_text
        self.keypad_field = CITIZEN_ID
        self.identity: Identity | None = None
        self.fallback: Identity | None = None   # QR/typed identity kept while the chip is read
        self.key: AccessKey | None = None
        self.appointment: Appointment | None = None
        self.lookup: PatientLookup | None = None  # the HIS answer for this patient, reused by the check-in
        self._forget_insurance()                # the BHYT check's state (kiosk.journey.insurance_step)
        self.department_code: str | None = None
        self.priority: Priority | None = None
        self.result: CheckInResult | None = None
        self.printed = False
        self.offline = False
        self.error: ErrorInfo | None = None
        self.notice: str | None = None          # one-line hint on the current screen
        self._checkin_id: str | None = None
        self._retry: Callable[[], list] | None = None
        self._lookup_op: int | None = None      # the HIS patient lookup running beside the BHYT check
        self._photo_op: int | None = None
        self._resume_visit = False              # a card laid on the visit screen: come back to it
        if self.out_of_service:
            self.step, self.error = Step.ERROR, ErrorInfo(self.out_of_service, ())
        self._bump()

    def _next_op(self) -> int:
        self._seq += 1
        return self._seq

    def _bump(self) -> None:
        self.generation += 1
        self._op = self._next_op()

    def _go(self, step: Step, notice: str | None = None) -> None:
        self.step = step
        self.notice = notice
        self._lookup_op = None
        self._bump()

    def timeout_s(self) -> float | None:
        """How long the current step may last; None on the welcome screen. While
        speech is on, the screens a patient reads or chooses on wait longer."""
        s = self.settings
        if self.out_of_service:
            return None
        timeout = {Step.WELCOME: None, Step.READING: s.read_timeout_s, Step.LOOKING_UP: s.lookup_timeout_s,
                   Step.FINDING_BOOKING: s.lookup_timeout_s, Step.FINDING_PATIENT: s.lookup_timeout_s,
                   Step.CHECKING_IN: s.checkin_timeout_s, Step.PRINTING: s.print_timeout_s,
                   Step.DONE: s.done_timeout_s}.get(self.step, s.idle_timeout_s)
        if timeout and self.speech and self.step not in BUSY_STEPS:
            timeout *= s.speech_timeout_factor
        return timeout

    @property
    def short_flow(self) -> bool:
        return self.settings.flow == FLOW_SHORT

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

    def _on_SetSpeech(self, ev: SetSpeech):
        self.speech = ev.on

    def _on_SetLargeText(self, ev: SetLargeText):
        self.large_text = ev.on

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
        upgradable = self.identity is not None and self.identity.source is not IdentitySource.CHIP
        if self.step is Step.WELCOME:
            self._go(Step.NEED_KEY)
        elif upgradable and (self.step is Step.CONFIRM_IDENTITY or self.step in VISIT_STEPS):
            self.fallback = self.identity  # read the chip to upgrade a QR / typed identity
            self._resume_visit = self.step in VISIT_STEPS
            return self._read(self.key or AccessKey.from_citizen_id(self.identity.citizen_id))
        elif self.step is Step.ERROR and self.key is not None and self.error and RETRY in self.error.actions:
            return self._read(self.key)  # card put back after it was removed mid-read

    def _on_CardRemoved(self, ev):
        self.card_present = False
        if self.step is Step.NEED_KEY:
            self.reset()
        elif self.step is Step.READING:
            self._fail("ui.error.card_removed", (RETRY, USE_QR, TYPE_ID, HOME), retry=lambda: self._read(self.key))

    def _on_OpenKeypad(self, ev: OpenKeypad):
        if self.step in (Step.WELCOME, Step.NEED_KEY, Step.ERROR, Step.KEYPAD):
            self.keypad_field = ev.field if ev.field in (CITIZEN_ID, PATIENT_CODE) else CITIZEN_ID
            self._go(Step.KEYPAD)

    def _on_QrScanned(self, ev: QrScanned):
        if self.step not in (Step.WELCOME, Step.NEED_KEY, Step.KEYPAD, Step.ERROR):
            return None
        s = self.settings
        try:
            parsed = parse_qr(ev.text, s.appointment_pattern, today=self._today(),
                              patient_code_pattern=s.patient_code_pattern)
        except QrPayloadError as exc:
            self.notice = exc.patient_message_key
            return None
        if isinstance(parsed, AppointmentQr):
            return self._find_booking(parsed.code)
        if isinstance(parsed, PatientCodeQr):
            return self._find_patient(parsed.code)
        return self._identified(parsed.identity(), parsed.access_key())

    def _find_booking(self, code: str) -> list:
        if not self.his_online:
            return self._fail("ui.error.booking_offline", (USE_QR, TYPE_ID, HOME))
        self._go(Step.FINDING_BOOKING)
        self._retry = lambda: self._find_booking(code)
        return [FindBooking(self._op, code)]

    def _find_patient(self, code: str) -> list:
        if not self.his_online:
            return self._fail("ui.error.patient_code_offline", (USE_QR, TYPE_ID, HOME))
        self._go(Step.FINDING_PATIENT)
        self._retry = lambda: self._find_patient(code)
        return [FindPatient(self._op, code)]

    def _on_IdTyped(self, ev: IdTyped):
        typing_id = self.step is Step.KEYPAD and self.keypad_field == CITIZEN_ID
        if not (typing_id or self.step is Step.NEED_KEY):  # the card screen has a keypad of its own
            return None
        try:  # ASCII digits only, in full: the keypad's text is never converted or trimmed
            digits = input_rules.citizen_id(ev.digits, "keypad")
        except input_rules.InputRefused as exc:
            self.notice = exc.patient_message_key
            return None
        return self._identified(Identity(citizen_id=digits, source=IdentitySource.TYPED, assurance=Assurance.TYPED))

    def _on_PatientCodeTyped(self, ev: PatientCodeTyped):
        if self.step is not Step.KEYPAD or self.keypad_field != PATIENT_CODE:
            return None
        code = self.codes.from_digits(ev.digits)  # ASCII digits only, never trimmed (kiosk.identity.input_rules)
        if code is None:
            self.notice = "error.invalid_patient_code"
            return None
        return self._find_patient(code)

    def _identified(self, identity: Identity, key: AccessKey | None = None,
                    lookup: PatientLookup | None = None) -> list:
        """A QR code, the keypad or a patient code gave an ID number: read the chip if a card is there."""
        self.identity = None
        self.lookup = lookup
        self.key = key or AccessKey.from_citizen_id(identity.citizen_id)
        if not self.insurance_is_for(identity.citizen_id):
            self._forget_insurance()  # another person than the card check was about
        if self.card_present:
            self.fallback = identity
            return self._read(self.key)
        self.identity, self.fallback = identity, None
        return self._identity_known()

    def _identity_known(self, notice: str | None = None) -> list:
        """Who the patient is, is known: look them up (short flow, or back to the
        visit screen after a card upgraded the identity) or ask "is this you?" —
        the BHYT check starts as soon as the name and date of birth are known."""
        resume, self._resume_visit = self._resume_visit, False
        if self.lookup is not None and (resume or (self.short_flow and not self._insurance_wanted())):
            return self._looked_up(self.lookup, notice)
        if self.short_flow:
            return self._start_checks(notice)
        self._go(Step.CONFIRM_IDENTITY, notice)
        return self._start_insurance()

    def _read(self, key: AccessKey) -> list:
        self.key = key
        self._go(Step.READING)
        s = self.settings
        return [ReadChip(self._op, key, with_photo=False, timeout_s=max(1.0, s.read_timeout_s - 5))]

    def _chip_read(self, identity: Identity) -> list:
        fallback = self.fallback
        if fallback is not None and fallback.citizen_id != identity.citizen_id:
            self._fail("ui.error.card_mismatch", (TYPE_ID, HOME))
            return []
        self.identity, self.fallback = identity, None
        effects = self._identity_known()
        if self.settings.read_photo and identity.photo is None:
            self._photo_op = self._next_op()
            effects.append(ReadPhoto(self._photo_op, timeout_s=max(1.0, self.settings.read_timeout_s - 5)))
        return effects

    def _chip_failed(self, key: str) -> list:
        fallback = self.fallback
        if fallback is not None and fallback.source is not IdentitySource.TYPED:
            # the printed QR (or the patient code) was read correctly: carry on with it (lower assurance)
            self.identity, self.fallback = fallback, None
            return self._identity_known(notice="ui.notice.chip_failed")
        self._resume_visit = False
        return self._fail(key, (RETRY, USE_QR, TYPE_ID, HOME), retry=lambda: self._read(self.key))
