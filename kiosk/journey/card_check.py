"""The BHYT card check beside the journey's steps (``kiosk.journey.machine.Journey``
holds its state; the confirm step starts it and waits for it, the insurance step
shows what an invalid answer means).

When: as soon as the patient's name and date of birth are known — from the
chip or the CCCD QR at once, beside the patient lookup; for a typed ID or a
patient code from the HIS record once the lookup is back. It is an effect
(``CheckInsurance``) run by ``perform`` like the lookup, through the
``InsuranceGateway`` port, which answers within ``insurance.timeout_s``
whatever the gateway does. The "looking up" screen waits for both answers,
so a gateway that answers within the lookup adds no wait; a later answer is
not waited for beyond the step's timeout (the check is then made again in
the background and the ticket says "not checked yet").
"""
from __future__ import annotations

import logging

from kiosk.checkin.visit_rules import choose_patient
from kiosk.domain import VisitCoverage
from kiosk.insurance.rules import shown_status
from kiosk.journey.events import CheckInsurance

log = logging.getLogger("kiosk.journey")


def forget(j) -> None:
    """Drop the check's state (a new patient, or another person than the card was asked about)."""
    j.coverage = None            # kiosk.insurance.card_check.InsuranceCheck: the gateway's answer, when it came
    j.fee_paying = False         # the patient accepted a visit without BHYT
    j.insurance_message = None   # the insurance screen's sentence (a message key)
    j.insurance_action = None    # the insurance screen's action: "counter" or "fee" ([insurance.outcomes])
    j.insurance_op = None        # the CheckInsurance effect waited for
    j.insurance_asked = False    # asked once per patient (answered or not)
    j.holder = None              # (card number, name, birth date) the card was asked about


def pending(j) -> bool:
    return j.insurance_op is not None


def shown(j) -> str | None:
    """What the screens say about the card now (None: the kiosk checks no cards)."""
    if not j.settings.check_insurance:
        return None
    return shown_status(j.coverage, pending=pending(j), fee_paying=j.fee_paying)


def is_for(j, citizen_id: str) -> bool:
    return j.holder is None or j.holder[0] == citizen_id


def card_holder(j) -> tuple | None:
    """(card number, name, birth date) to check: from the card or QR, else from the HIS record."""
    ident = j.identity
    if ident is None:
        return None
    if ident.full_name and ident.birth_date:
        return ident.citizen_id, ident.full_name, ident.birth_date
    if j.lookup is None:
        return None
    try:
        patient = choose_patient(j.lookup.patients, ident.birth_date)
    except Exception:  # noqa: BLE001 - ambiguous records: the lookup's own step says so
        return None
    if patient is None or not (patient.full_name and patient.birth_date):
        return None
    return ident.citizen_id, patient.full_name, patient.birth_date


def wanted(j) -> bool:
    return j.settings.check_insurance and not j.insurance_asked and card_holder(j) is not None


def start(j) -> list:
    """The card check, once per patient, when the name and date of birth are known."""
    if not wanted(j):
        return []
    j.holder = card_holder(j)
    j.insurance_asked = True
    j.insurance_op = j.next_op()
    card, name, born = j.holder
    return [CheckInsurance(j.insurance_op, card, name, born, timeout_s=j.settings.insurance_timeout_s)]


def answered(j, check, failed: BaseException | None = None) -> None:
    j.insurance_op = None
    if failed is not None:  # bad input for the gateway, or no gateway: checked again later if it can be
        log.warning("insurance check not made", extra={"event": "journey.insurance_failed",
                                                       "error": type(failed).__name__})
    else:
        j.coverage = check


def give_up(j) -> None:
    """The step's time is up: go on without the answer (it is asked again later)."""
    if j.insurance_op is not None:
        log.info("insurance answer not waited for", extra={"event": "journey.insurance_late"})
    j.insurance_op = None


def visit_coverage(j) -> VisitCoverage | None:
    """The BHYT part of the check-in request (None when the kiosk checks no cards)."""
    if not j.settings.check_insurance:
        return None
    card, name, born = j.holder or (j.identity.citizen_id if j.identity else None, None, None)
    return VisitCoverage(check=j.coverage, card_number=card, full_name=name, birth_date=born,
                         fee_paying=j.fee_paying)
