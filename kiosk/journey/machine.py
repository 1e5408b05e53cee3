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

This module holds the state and what is the same on every screen (language,
speech, the printer and the HIS status, going home, the error screen, routing the
timer and the answers). What each step does is its module under
``kiosk.journey.steps``; their order is the table ``kiosk.journey.table.STEPS``;
after the last row comes ``kiosk.journey.finish`` (check-in and ticket).

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
    CheckInResult,
    Department,
    Identity,
    Priority,
    age_priority,
    may_be_pregnant,
)
from kiosk.errors import KioskError
from kiosk.identity.patient_code import PatientCodeRules
from kiosk.journey import card_check, table
from kiosk.journey.events import (  # noqa: F401 - the journey's vocabulary, re-exported
    CITIZEN_ID,
    CONSENT_NOTICE,
    CONSENT_TAP,
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
    RefuseConsent,
    Retry,
    SetLanguage,
    SetLargeText,
    SetSpeech,
    Settings,
    Step,
    TimedOut,
    TogglePriority,
)
from kiosk.journey.finish import FINISH
from kiosk.journey.steps import JourneyStep
from kiosk.journey.work import perform  # noqa: F401 - re-exported
from kiosk.ports import MODE_OFFLINE, PRINTER_OK, PatientLookup

log = logging.getLogger("kiosk.journey")
HOME_STEP = Step.WELCOME


def busy_screens(rows) -> frozenset:
    """The screens where the kiosk works and the patient only waits."""
    return frozenset().union(*(row.busy for row in rows))


BUSY_STEPS = busy_screens(table.STEPS + (FINISH,))


class Journey:
    """One kiosk's journey; reused patient after patient (``reset`` wipes the personal part).

    ``steps`` is the table of steps (``kiosk.journey.table.STEPS``); the journey is their
    composition: it keeps the state, and hands each event to the step whose screen is shown."""

    def __init__(self, settings: Settings, *, today: Callable[[], date] = date.today,
                 steps: tuple[JourneyStep, ...] = table.STEPS):
        self.settings = settings
        self.today = today
        self.steps = tuple(steps)
        self.end = FINISH
        self.rows = self.steps + (self.end,)
        self.owners = {screen: row for row in self.rows for screen in row.screens}
        self.busy = busy_screens(self.rows)
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
        self.op = 0                              # the operation the current screen waits for
        self.out_of_service: str | None = None
        self.reset()

    # --- state -------------------------------------------------------------------------
    def reset(self) -> None:
        """Back to the welcome screen; drop every reference to personal data."""
        # the welcome screen (where the identify row starts; a gate before it, such as the consent
        # row, is entered by the events it takes)
        self.step = HOME_STEP if HOME_STEP in self.owners else self.steps[0].screens[0]
        self.language = self.settings.language
        self.speech = self.settings.speech
        self.large_text = self.settings.large_text
        self.keypad_field = CITIZEN_ID
        self.consented = False                  # privacy.consent = "tap": this patient agreed
        self.presented = None                   # the event held while the consent screen asks
        self.identity: Identity | None = None
        self.fallback: Identity | None = None   # QR/typed identity kept while the chip is read
        self.key: AccessKey | None = None
        self.appointment: Appointment | None = None
        self.lookup: PatientLookup | None = None  # the HIS answer for this patient, reused by the check-in
        self.found: tuple | None = None         # (appointment or None, offline): what the checks found
        card_check.forget(self)                 # the BHYT check's state (kiosk.journey.card_check)
        self.department_code: str | None = None
        self.priority: Priority | None = None
        self.result: CheckInResult | None = None
        self.printed = False
        self.offline = False
        self.error: ErrorInfo | None = None
        self.notice: str | None = None          # one-line hint on the current screen
        self.checkin_id: str | None = None
        self.retry_with: Callable[[], list] | None = None  # what RETRY on the error screen does
        self.lookup_op: int | None = None       # the HIS patient lookup running beside the BHYT check
        self.photo_op: int | None = None
        self.resume_visit = False               # a card laid on the visit screen: come back to it
        if self.out_of_service:
            self.step, self.error = Step.ERROR, ErrorInfo(self.out_of_service, ())
        self._bump()

    def next_op(self) -> int:
        self._seq += 1
        return self._seq

    def _bump(self) -> None:
        self.generation += 1
        self.op = self.next_op()

    def go(self, step, notice: str | None = None) -> None:
        """Show ``step``'s screen (a new operation and timer; the lookup is no longer waited for)."""
        self.step = step
        self.notice = notice
        self.lookup_op = None
        self._bump()

    def fail(self, key: str, actions: tuple[str, ...], retry=None) -> list:
        """The error screen: ``key`` is the patient's message; RETRY runs ``retry``."""
        self.error = ErrorInfo(key, actions)
        self.retry_with = retry
        self.go(Step.ERROR)
        return []

    # --- the table -------------------------------------------------------------------------
    def exit(self, step: JourneyStep, notice: str | None = None) -> list:
        """``step`` is done: enter the next row that does not skip this patient (after the last, the check-in)."""
        for row in self.steps[self.steps.index(step) + 1:]:
            if not row.skip(self):
                return self.enter(row, notice)
        return self.enter(self.end, notice)

    def enter(self, row: JourneyStep, notice: str | None = None) -> list:
        missing = [name for name in row.needs if getattr(self, name, None) is None]
        if missing:  # a table whose rows do not fit: attribute names only, never their values
            log.error("journey step entered without its inputs",
                      extra={"event": "journey.entry_missing", "step": row.name, "missing": missing})
        return row.enter(self, notice) or []

    def owner(self, step) -> JourneyStep | None:
        """The row whose screen ``step`` is (None for the error screen)."""
        return self.owners.get(step)

    def timeout_s(self) -> float | None:
        """How long the current step may last; None on the welcome screen. While
        speech is on, the screens a patient reads or chooses on wait longer."""
        s = self.settings
        if self.out_of_service:
            return None
        owner = self.owner(self.step)
        name = owner.timeouts.get(self.step, "idle_timeout_s") if owner else "idle_timeout_s"
        timeout = getattr(s, name) if name else None
        if timeout and self.speech and self.step not in self.busy:
            timeout *= s.speech_timeout_factor
        return timeout

    @property
    def short_flow(self) -> bool:
        return self.settings.flow == FLOW_SHORT

    @property
    def age_priority(self) -> Priority | None:
        ident = self.identity
        return age_priority(ident.birth_date if ident else None, self.today())

    def department(self, code: str | None) -> Department | None:
        return next((d for d in self.departments if d.code == code), None)

    def declarable_priorities(self) -> tuple[Priority, ...]:
        ident = self.identity
        pregnant_ok = may_be_pregnant(ident.sex if ident else None, ident.birth_date if ident else None, self.today())
        return tuple(p for p in DECLARABLE_PRIORITIES if p is not Priority.PREGNANT or pregnant_ok)

    @property
    def printer_ready(self) -> bool:
        return self.printer_status in PRINTABLE

    @property
    def insurance_pending(self) -> bool:
        return card_check.pending(self)

    @property
    def insurance_shown(self) -> str | None:
        """What the screens say about the card now (None: the kiosk checks no cards)."""
        return card_check.shown(self)

    def insurance_is_for(self, citizen_id: str) -> bool:
        return card_check.is_for(self, citizen_id)

    def visit_coverage(self):
        """The BHYT part of the check-in request (None when the kiosk checks no cards)."""
        return card_check.visit_coverage(self)

    # --- events --------------------------------------------------------------------------
    def handle(self, event) -> list:
        """Apply one event; return the effects to run (possibly none). The journey's own
        events first, then the shown step's, then those a step takes on any screen."""
        kind = type(event)
        method = getattr(self, "_on_" + kind.__name__, None)
        if method is not None:
            return method(event) or []
        owner = self.owner(self.step)
        handler = owner.handler(kind) if owner else None
        if handler is None:
            # rows that skip this patient take nothing (the consent row, once agreed or when not asked)
            handler = next((h for row in self.rows
                            if (h := row.handler(kind, anywhere=True)) and not row.skip(self)), None)
        if handler is None:
            if not any(kind in row.on or kind in row.anywhere for row in self.rows):
                raise TypeError(f"journey: unknown event {kind.__name__}")
            return []
        return handler(self, event) or []

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

    def _on_Retry(self, ev: Retry):
        if self.step is Step.ERROR:
            return self.retry_with() if self.retry_with is not None else None
        owner = self.owner(self.step)
        handler = owner.handler(Retry) if owner else None
        return handler(self, ev) if handler else None

    def _on_TimedOut(self, ev: TimedOut):
        if ev.generation != self.generation:
            return None  # a timer armed for an earlier step
        owner = self.owner(self.step)
        if owner is None:  # idle on the error screen
            self.reset()
            return None
        return owner.timed_out(self)

    def _side_op(self, op: int):
        for row in self.rows:
            for side, answers in row.side_ops(self).items():
                if side is not None and side == op:
                    return answers
        return None

    def _on_OpDone(self, ev: OpDone):
        side = self._side_op(ev.op)
        if side is not None:
            return side[0](self, ev.value)
        if ev.op != self.op:
            return None
        owner = self.owner(self.step)
        return owner.done(self, ev.value) if owner else None

    def _on_OpFailed(self, ev: OpFailed):
        err = ev.error
        key = err.patient_message_key if isinstance(err, KioskError) else "error.generic"
        side = self._side_op(ev.op)
        if side is not None:
            return side[1](self, err, key)
        if ev.op != self.op:
            return None
        log.warning("journey step failed", extra={"event": "journey.failed", "step": self.step.value,
                                                  "error": type(err).__name__})
        owner = self.owner(self.step)
        return owner.failed(self, err, key) if owner else None
