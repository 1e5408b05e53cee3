"""The second half of the journey (``kiosk.journey.machine.Journey``): once the
patient's identity is known — the checks made in parallel, the visit screen
(today's appointment, or the departments to choose from), priority, the
check-in and the ticket, and what each result or failure leads to.

The checks run side by side while the patient waits on one "looking up"
screen: the patient lookup in the HIS, and the BHYT insurance check when
``Settings.check_insurance`` is on (``kiosk.journey.insurance_step``: it starts as
soon as the name and date of birth are known, and its answer may send the
patient to the insurance screen instead of the visit screen).
"""
from __future__ import annotations

import dataclasses
import logging
from zoneinfo import ZoneInfo

from kiosk.checkin.visit_rules import patient_and_appointment
from kiosk.domain import CheckInRequest, IdentitySource
from kiosk.errors import (
    BookingNotUsable,
    DepartmentRequired,
    HisUnavailable,
    KioskError,
    PatientAmbiguous,
    PatientCodeNotUsable,
    UnknownDepartment,
)
from kiosk.identity import input_rules
from kiosk.journey.events import (
    DECLARABLE_PRIORITIES,
    FLOW_SHORT,
    HOME,
    RETRY,
    TYPE_ID,
    USE_QR,
    VISIT_STEPS,
    CheckIn,
    ChooseDepartment,
    DeclarePriority,
    ErrorInfo,
    LoadDepartments,
    LookupPatient,
    OpDone,
    OpFailed,
    PrintTicket,
    Step,
    TimedOut,
    TogglePriority,
)
from kiosk.journey.insurance_step import InsuranceSteps
from kiosk.ports import MODE_OFFLINE, PatientLookup

log = logging.getLogger("kiosk.journey")

PATIENT = "patient"  # the check made in the HIS once the identity is known (the BHYT check runs beside it)


class VisitSteps(InsuranceSteps):
    """Mixed into ``Journey``; uses its state (``step``, ``identity``, ``_go`` …)."""

    # --- the checks, side by side --------------------------------------------------------
    def _start_checks(self, notice: str | None = None) -> list:
        ask_patient = self.lookup is None and self.his_online
        ask_insurance = self._insurance_wanted()
        if not (ask_patient or ask_insurance or self.insurance_pending):
            return self._after_checks(notice)
        self._go(Step.LOOKING_UP, notice)
        self._retry = self._start_checks
        effects: list = []
        if ask_patient:
            self._lookup_op = self._next_op()
            effects.append(LookupPatient(self._lookup_op, self.identity.citizen_id, self._today()))
        elif self.lookup is None:
            self.offline = True  # known offline: the patient is not looked up, the card may still be checked
        effects += self._start_insurance()
        if not self.departments:
            effects.append(LoadDepartments())
        return effects

    def _lookup_done(self, value) -> list:
        self._lookup_op = None
        self.lookup = value
        effects = self._start_insurance()  # a typed ID or a patient code: the name comes from the HIS record
        if self.insurance_pending:
            return effects  # the lookup is back; the card check follows within the step's timeout
        return self._after_checks(self.notice)

    def _lookup_failed(self, err: BaseException, key: str) -> list:
        self._lookup_op = None
        if isinstance(err, PatientAmbiguous):
            return self._fail(key, (HOME,))
        if isinstance(err, HisUnavailable):
            self.offline = True
            return [] if self.insurance_pending else self._after_checks(self.notice)
        return self._fail(key, (RETRY, HOME), retry=self._start_checks)

    def _after_checks(self, notice: str | None = None) -> list:
        """Every answer is in (or no longer waited for): the visit screen."""
        if self.lookup is None:
            return self._to_visit(None, offline=True, notice=notice)
        return self._looked_up(self.lookup, notice)

    def _looked_up(self, lookup: PatientLookup, notice: str | None = None) -> list:
        self.lookup = lookup
        try:  # the same rule the check-in applies (kiosk.checkin.visit_rules)
            _, appointment = patient_and_appointment(lookup, self.identity.birth_date, self._today(),
                                                     ZoneInfo(self.settings.timezone))
        except PatientAmbiguous as exc:
            return self._fail(exc.patient_message_key, (HOME,))
        return self._to_visit(appointment, offline=False, notice=notice)

    def _go_walk_in(self, offline: bool, notice: str | None = None) -> list:
        self.offline = self.offline or offline
        self._go(Step.DEPARTMENT, notice="ui.notice.offline" if self.offline else notice)
        return [LoadDepartments()]  # fresh waiting counts (the cached list shows meanwhile)

    # --- the visit screen ----------------------------------------------------------------
    def _on_Confirm(self, ev):
        if self.step is Step.CONFIRM_IDENTITY:
            return self._start_checks()
        if self.step is Step.APPOINTMENT:
            self.department_code = self.appointment.department_code if self.appointment else None
            return self._after_department()
        if self.step is Step.PRIORITY:
            return self._check_in()
        return None

    def _on_ChooseDepartment(self, ev: ChooseDepartment):
        if self.step is not Step.DEPARTMENT or self.department(ev.code) is None:
            return None
        self.department_code = ev.code
        self.appointment = None
        return self._after_department()

    def _after_department(self) -> list:
        if self.settings.flow != FLOW_SHORT and self.age_priority is None:
            self._go(Step.PRIORITY)
            return []
        return self._check_in()

    def _on_TogglePriority(self, ev: TogglePriority):
        if self.step in VISIT_STEPS and self.age_priority is None and ev.priority in self.declarable_priorities():
            self.priority = None if self.priority is ev.priority else ev.priority

    def _on_DeclarePriority(self, ev: DeclarePriority):
        if self.step is Step.PRIORITY and (ev.priority is None or ev.priority in DECLARABLE_PRIORITIES):
            self.priority = ev.priority
            return self._check_in()
        return None

    # --- check-in and ticket ---------------------------------------------------------------
    def _check_in(self) -> list:
        is_retry = self._checkin_id is not None
        # a canonical UUID (urn:uuid: in the HIS), the same one when retried (kiosk.identity.input_rules)
        self._checkin_id = self._checkin_id or input_rules.new_checkin_id()
        request = CheckInRequest(checkin_id=self._checkin_id, identity=self.identity, is_retry=is_retry,
                                 lookup=self.lookup, coverage=self.visit_coverage(),
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
            self._give_up_insurance()  # a slower card check is not waited for: it is made again later
            if self.lookup is not None:
                return self._looked_up(self.lookup, self.notice)
            return self._to_visit(None, offline=True)
        if self.step is Step.FINDING_BOOKING:
            return self._fail("ui.error.booking_offline", (USE_QR, TYPE_ID, HOME))
        if self.step is Step.FINDING_PATIENT:
            return self._fail("ui.error.patient_code_offline", (USE_QR, TYPE_ID, HOME))
        if self.step is Step.CHECKING_IN:
            return self._fail("error.his_unavailable", (RETRY, HOME), retry=self._check_in)
        if self.step is Step.PRINTING:
            self._go(Step.DONE, notice="ui.done.not_printed")
            return None
        self.reset()  # idle on a personal screen, or the done screen has been read
        return None

    def _fail(self, key: str, actions: tuple[str, ...], retry=None) -> list:
        self.error = ErrorInfo(key, actions)
        self._retry = retry
        self._go(Step.ERROR)
        return []

    # --- results -------------------------------------------------------------------------
    def _on_OpDone(self, ev: OpDone):
        if ev.op == self._photo_op:
            self._photo_op = None
            if ev.value and self.identity is not None and self.identity.source is IdentitySource.CHIP:
                self.identity = dataclasses.replace(self.identity, photo=bytes(ev.value))  # the photo arrived
            return None
        if ev.op == self._insurance_op:
            return self._insurance_answered(ev.value)
        if ev.op == self._lookup_op:
            return self._lookup_done(ev.value)
        if ev.op != self._op:
            return None
        if self.step is Step.READING:
            return self._chip_read(ev.value)
        if self.step is Step.FINDING_BOOKING:
            return self._identified(ev.value)
        if self.step is Step.FINDING_PATIENT:
            return self._identified(ev.value.identity, lookup=ev.value.lookup)
        if self.step is Step.CHECKING_IN:
            self.result = ev.value
            self.offline = self.result.mode == MODE_OFFLINE or self.result.ticket.offline
            return self._print()
        if self.step is Step.PRINTING:
            self.printed = True
            self._go(Step.DONE)
        return None

    def _on_OpFailed(self, ev: OpFailed):
        err = ev.error
        key = err.patient_message_key if isinstance(err, KioskError) else "error.generic"
        if ev.op == self._photo_op:
            self._photo_op = None  # no photo: the identity is enough
            return None
        if ev.op == self._insurance_op:
            return self._insurance_answered(None, failed=err)
        if ev.op == self._lookup_op:
            log.warning("journey check failed", extra={"event": "journey.failed", "step": PATIENT,
                                                       "error": type(err).__name__})
            return self._lookup_failed(err, key)
        if ev.op != self._op:
            return None
        log.warning("journey step failed", extra={"event": "journey.failed", "step": self.step.value,
                                                  "error": type(err).__name__})
        if self.step is Step.READING:
            return self._chip_failed(key)
        if self.step in (Step.FINDING_BOOKING, Step.FINDING_PATIENT):
            if isinstance(err, (BookingNotUsable, PatientCodeNotUsable)):
                return self._fail(key, (USE_QR, TYPE_ID, HOME))
            if isinstance(err, HisUnavailable):
                offline = "ui.error.booking_offline" if self.step is Step.FINDING_BOOKING else \
                    "ui.error.patient_code_offline"
                return self._fail(offline, (USE_QR, TYPE_ID, HOME))
            if isinstance(err, PatientAmbiguous):
                return self._fail(key, (HOME,))
            return self._fail(key, (RETRY, HOME), retry=self._retry)
        if self.step is Step.CHECKING_IN:
            if isinstance(err, (DepartmentRequired, UnknownDepartment)):
                self.appointment = None
                self._go(Step.DEPARTMENT, notice=key)
                return [LoadDepartments()]
            retry = self._check_in if isinstance(err, HisUnavailable) or not isinstance(err, KioskError) else None
            return self._fail(key, (RETRY, HOME) if retry else (HOME,), retry=retry)
        if self.step is Step.PRINTING:
            self._go(Step.DONE, notice=key if isinstance(err, KioskError) else "ui.done.not_printed")
        return None
