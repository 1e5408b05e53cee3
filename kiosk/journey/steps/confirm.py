"""Confirm: who the patient is, and what the HIS knows of them today.

Step by step (``kiosk.flow = "step_by_step"``) it first asks "is this you?"; in the
short flow it goes straight to the checks. The checks run side by side on one
"looking up" screen: the patient lookup in the HIS, and the BHYT card check when
``Settings.check_insurance`` is on (``kiosk.journey.card_check``: it starts as soon as
the name and date of birth are known). Without an answer in time the kiosk goes on
offline (the visit is registered later).

Entry: ``identity`` (and ``lookup`` when a patient code already brought it; a card
laid on the visit screen comes back here with ``resume_visit`` and goes straight on).
Exit: ``lookup`` (None offline), ``found`` — (today's appointment or None, offline).
"""
from __future__ import annotations

import logging
from zoneinfo import ZoneInfo

from kiosk.checkin.visit_rules import patient_and_appointment
from kiosk.errors import HisUnavailable, PatientAmbiguous
from kiosk.journey import card_check
from kiosk.journey.events import HOME, RETRY, Confirm, LoadDepartments, LookupPatient, Step
from kiosk.journey.steps import JourneyStep
from kiosk.ports import PatientLookup

log = logging.getLogger("kiosk.journey")

PATIENT = "patient"  # the check made in the HIS once the identity is known (the BHYT check runs beside it)


class ConfirmStep(JourneyStep):
    name = "confirm"
    screens = (Step.CONFIRM_IDENTITY, Step.LOOKING_UP)
    on = {Confirm: "confirmed"}
    timeouts = {Step.LOOKING_UP: "lookup_timeout_s"}
    busy = frozenset({Step.LOOKING_UP})
    needs = ("identity",)
    gives = ("found",)

    def enter(self, j, notice: str | None = None) -> list:
        """Look the patient up (short flow, or back to the visit screen after a card upgraded
        the identity) or ask "is this you?" — the BHYT check starts as soon as it can."""
        resume, j.resume_visit = j.resume_visit, False
        if j.lookup is not None and (resume or (j.short_flow and not card_check.wanted(j))):
            return self.looked_up(j, j.lookup, notice)
        if j.short_flow:
            return self.start_checks(j, notice)
        j.go(Step.CONFIRM_IDENTITY, notice)
        return card_check.start(j)

    def confirmed(self, j, ev) -> list | None:
        return self.start_checks(j) if j.step is Step.CONFIRM_IDENTITY else None

    # --- the checks, side by side ------------------------------------------------------------
    def start_checks(self, j, notice: str | None = None) -> list:
        ask_patient = j.lookup is None and j.his_online
        ask_insurance = card_check.wanted(j)
        if not (ask_patient or ask_insurance or card_check.pending(j)):
            return self.after_checks(j, notice)
        j.go(Step.LOOKING_UP, notice)
        j.retry_with = lambda: self.start_checks(j)
        effects: list = []
        if ask_patient:
            j.lookup_op = j.next_op()
            effects.append(LookupPatient(j.lookup_op, j.identity.citizen_id, j.today()))
        elif j.lookup is None:
            j.offline = True  # known offline: the patient is not looked up, the card may still be checked
        effects += card_check.start(j)
        if not j.departments:
            effects.append(LoadDepartments())
        return effects

    def side_ops(self, j) -> dict:
        return {j.lookup_op: (self.lookup_done, self.lookup_failed),
                j.insurance_op: (self.insurance_done, self.insurance_failed)}

    def lookup_done(self, j, value) -> list:
        j.lookup_op = None
        j.lookup = value
        effects = card_check.start(j)  # a typed ID or a patient code: the name comes from the HIS record
        if card_check.pending(j):
            return effects  # the lookup is back; the card check follows within the step's timeout
        return self.after_checks(j, j.notice)

    def lookup_failed(self, j, err: BaseException, key: str) -> list:
        log.warning("journey check failed", extra={"event": "journey.failed", "step": PATIENT,
                                                   "error": type(err).__name__})
        j.lookup_op = None
        if isinstance(err, PatientAmbiguous):
            return j.fail(key, (HOME,))
        if isinstance(err, HisUnavailable):
            j.offline = True
            return [] if card_check.pending(j) else self.after_checks(j, j.notice)
        return j.fail(key, (RETRY, HOME), retry=lambda: self.start_checks(j))

    def insurance_done(self, j, check) -> list:
        card_check.answered(j, check)
        return self.insurance_in(j)

    def insurance_failed(self, j, err: BaseException, key: str) -> list:
        card_check.answered(j, None, failed=err)
        return self.insurance_in(j)

    def insurance_in(self, j) -> list:
        if j.step is Step.LOOKING_UP and j.lookup_op is None:
            return self.after_checks(j, j.notice)
        return []

    def timed_out(self, j) -> list | None:
        if j.step is not Step.LOOKING_UP:
            j.reset()
            return None
        card_check.give_up(j)  # a slower card check is not waited for: it is made again later
        if j.lookup is not None:
            return self.looked_up(j, j.lookup, j.notice)
        return self.found(j, None, offline=True)

    # --- the exit -------------------------------------------------------------------------
    def after_checks(self, j, notice: str | None = None) -> list:
        """Every answer is in (or no longer waited for)."""
        if j.lookup is None:
            return self.found(j, None, offline=True, notice=notice)
        return self.looked_up(j, j.lookup, notice)

    def looked_up(self, j, lookup: PatientLookup, notice: str | None = None) -> list:
        j.lookup = lookup
        try:  # the same rule the check-in applies (kiosk.checkin.visit_rules)
            _, appointment = patient_and_appointment(lookup, j.identity.birth_date, j.today(),
                                                     ZoneInfo(j.settings.timezone))
        except PatientAmbiguous as exc:
            return j.fail(exc.patient_message_key, (HOME,))
        return self.found(j, appointment, offline=False, notice=notice)

    def found(self, j, appointment, *, offline: bool, notice: str | None = None) -> list:
        j.found = (appointment, offline)
        return j.exit(self, notice)


STEP = ConfirmStep()
