"""The BHYT card check in the journey (mixed into ``kiosk.journey.machine.Journey``
through ``kiosk.journey.visit_steps.VisitSteps``).

When: as soon as the patient's name and date of birth are known — from the
chip or the CCCD QR at once, beside the patient lookup; for a typed ID or a
patient code from the HIS record once the lookup is back. It is an effect
(``CheckInsurance``) run by ``perform`` like the lookup, through the
``InsuranceGateway`` port, which answers within ``insurance.timeout_s``
whatever the gateway does. The "looking up" screen waits for both answers,
so a gateway that answers within the lookup adds no wait; a later answer is
not waited for beyond the step's timeout (the check is then made again in
the background and the ticket says "not checked yet").

What follows an answer is decided by ``kiosk.insurance.rules``: a usable card
goes on; an invalid one leads to the insurance screen — with
``insurance.on_invalid = "counter"`` the journey stops there and sends the
patient to the reception desk, keeping nothing personal; with ``"fee"`` one
tap (``AcceptFee``) goes on as a fee-paying patient.
"""
from __future__ import annotations

import logging

from kiosk.checkin.visit_rules import choose_patient
from kiosk.domain import Appointment, VisitCoverage
from kiosk.insurance.rules import ON_INVALID_FEE, is_invalid, shown_status
from kiosk.journey.events import AcceptFee, CheckInsurance, LoadDepartments, Step

log = logging.getLogger("kiosk.journey")


class InsuranceSteps:
    """Uses the journey's state (``settings``, ``identity``, ``lookup``, ``_go`` …)."""

    def _forget_insurance(self) -> None:
        self.coverage = None            # kiosk.insurance.card_check.InsuranceCheck: the gateway's answer, when it came
        self.fee_paying = False         # the patient accepted a visit without BHYT
        self.insurance_message: str | None = None  # the insurance screen's sentence (a message key)
        self._insurance_op: int | None = None
        self._insurance_asked = False   # asked once per patient (answered or not)
        self._holder: tuple | None = None  # (card number, name, birth date) the card was asked about
        self._after_fee: tuple | None = None  # (appointment, offline): the visit screen after AcceptFee

    @property
    def insurance_pending(self) -> bool:
        return self._insurance_op is not None

    @property
    def insurance_shown(self) -> str | None:
        """What the screens say about the card now (None: the kiosk checks no cards)."""
        if not self.settings.check_insurance:
            return None
        return shown_status(self.coverage, pending=self.insurance_pending, fee_paying=self.fee_paying)

    def insurance_is_for(self, citizen_id: str) -> bool:
        return self._holder is None or self._holder[0] == citizen_id

    def _card_holder(self) -> tuple | None:
        """(card number, name, birth date) to check: from the card or QR, else from the HIS record."""
        ident = self.identity
        if ident is None:
            return None
        if ident.full_name and ident.birth_date:
            return ident.citizen_id, ident.full_name, ident.birth_date
        if self.lookup is None:
            return None
        try:
            patient = choose_patient(self.lookup.patients, ident.birth_date)
        except Exception:  # noqa: BLE001 - ambiguous records: the lookup's own step says so
            return None
        if patient is None or not (patient.full_name and patient.birth_date):
            return None
        return ident.citizen_id, patient.full_name, patient.birth_date

    def _insurance_wanted(self) -> bool:
        return self.settings.check_insurance and not self._insurance_asked and self._card_holder() is not None

    def _start_insurance(self) -> list:
        """The card check, once per patient, when the name and date of birth are known."""
        if not self._insurance_wanted():
            return []
        self._holder = self._card_holder()
        self._insurance_asked = True
        self._insurance_op = self._next_op()
        card, name, born = self._holder
        return [CheckInsurance(self._insurance_op, card, name, born, timeout_s=self.settings.insurance_timeout_s)]

    def _insurance_answered(self, check, failed: BaseException | None = None) -> list:
        self._insurance_op = None
        if failed is not None:  # bad input for the gateway, or no gateway: checked again later if it can be
            log.warning("insurance check not made", extra={"event": "journey.insurance_failed",
                                                           "error": type(failed).__name__})
        else:
            self.coverage = check
        if self.step is Step.LOOKING_UP and self._lookup_op is None:
            return self._after_checks(self.notice)
        return []

    def _give_up_insurance(self) -> None:
        """The step's time is up: go on without the answer (it is asked again later)."""
        if self._insurance_op is not None:
            log.info("insurance answer not waited for", extra={"event": "journey.insurance_late"})
        self._insurance_op = None

    def visit_coverage(self) -> VisitCoverage | None:
        """The BHYT part of the check-in request (None when the kiosk checks no cards)."""
        if not self.settings.check_insurance:
            return None
        card, name, born = self._holder or (self.identity.citizen_id if self.identity else None, None, None)
        return VisitCoverage(check=self.coverage, card_number=card, full_name=name, birth_date=born,
                             fee_paying=self.fee_paying)

    # --- what an answer leads to ---------------------------------------------------------
    def _to_visit(self, appointment: Appointment | None, *, offline: bool, notice: str | None = None) -> list:
        """The visit screen (today's appointment, or the departments) — unless the
        card cannot be used and the patient has not accepted a fee-paying visit."""
        if self.settings.check_insurance and is_invalid(self.coverage) and not self.fee_paying:
            return self._insurance_stop(appointment, offline)
        if appointment is not None:
            self.appointment = appointment
            self._go(Step.APPOINTMENT, notice)
            return [] if self.departments else [LoadDepartments()]
        return self._go_walk_in(offline=offline, notice=notice)

    def _insurance_stop(self, appointment: Appointment | None, offline: bool) -> list:
        key = self.coverage.message_key
        if self.settings.insurance_on_invalid == ON_INVALID_FEE:
            self._after_fee = (appointment, offline)
        else:  # counter: no visit is registered and nothing personal is kept
            language, speech, large = self.language, self.speech, self.large_text
            self.reset()
            self.language, self.speech, self.large_text = language, speech, large
        self.insurance_message = key
        self._go(Step.INSURANCE)
        return []

    def _on_AcceptFee(self, ev: AcceptFee):
        if self.step is not Step.INSURANCE or self._after_fee is None:
            return None
        appointment, offline = self._after_fee
        self._after_fee = None
        self.fee_paying = True
        return self._to_visit(appointment, offline=offline)
