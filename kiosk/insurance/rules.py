"""What each answer of the BHYT card check means for the visit — written once.

The journey, the check-in, the outbox sender, the recheck queue, the screens
and the ticket all ask these functions, so the kiosk never gives two answers
to one question:

- ``is_invalid``: the gateway answered about the card and it cannot be used
  today (expired, no such card, name or date of birth not matching, card
  withdrawn or stopped).
- ``outcome`` / ``action``: which outcome of ``kiosk.insurance.outcomes`` an answer
  is, and what the config's ``[insurance.outcomes]`` table says to do about it
  (``counter``: the reception desk, ``fee``: a fee-paying visit, ``insured``: go
  on as insured, ``check_later``: go on, the check queued).
- ``needs_recheck``: no answer about the card — none in time, the gateway's own
  trouble, or the kiosk's credentials refused. The check-in goes on, the
  ticket says "not checked yet" and the check is queued and made again later
  (``queues_recheck``: unless the patient chose a fee-paying visit).
- ``coverage_status``: the FHIR ``Coverage.status`` recorded in the HIS —
  ``active`` for a usable card, ``cancelled`` for an expired or withdrawn one —
  or None when nothing is written (no such card, a mismatch, no answer).
- ``bills_visit``: the visit uses the card: its Encounter references the Coverage.
- ``shown_status``: the one word the screens, the ticket and the voice use.
"""
from __future__ import annotations

from kiosk.domain import VisitCoverage
from kiosk.insurance import outcomes as oc
from kiosk.insurance.card_check import CoverageStatus, InsuranceCheck
from kiosk.insurance.outcomes import ACTIONS, OUTCOMES  # noqa: F401 - the declared lists, re-exported

ON_INVALID_COUNTER, ON_INVALID_FEE = oc.COUNTER, oc.FEE

# What the screens and the ticket say (ui.coverage.<status>, insurance.<status> on the ticket).
CHECKING = "checking"          # asked, no answer yet (screens only)
VALID = "valid"
NEW_CARD = "new_card"          # 003/004: a new card was issued; its number and dates are used
VALID_ELSEWHERE = "valid_elsewhere"  # usable, registered at another primary-care facility
EXPIRED = "expired"
NOT_YET_VALID = "not_yet_valid"  # a usable code, but the card's validity begins after today
NOT_FOUND = "not_found"
MISMATCH = "mismatch"
REFUSED = "refused"            # withdrawn or stopped card
UNCHECKED = "unchecked"        # no answer about the card: checked again later
FEE = "fee"                    # the patient chose a fee-paying visit ("Khám dịch vụ (không dùng BHYT)")

_INVALID_SHOWN = {CoverageStatus.EXPIRED: EXPIRED, CoverageStatus.NOT_YET_VALID: NOT_YET_VALID,
                  CoverageStatus.NOT_FOUND: NOT_FOUND,
                  CoverageStatus.MISMATCH: MISMATCH, CoverageStatus.REFUSED: REFUSED}


def is_invalid(check: InsuranceCheck | None) -> bool:
    """An answer about the card that says it cannot be used today."""
    return check is not None and check.about_card and not check.usable


def needs_recheck(check: InsuranceCheck | None) -> bool:
    """No answer about the card: ask again later (the patient does not wait)."""
    return check is None or not check.about_card


_OUTCOME_OF = {CoverageStatus.NOT_FOUND: oc.NO_CARD, CoverageStatus.EXPIRED: oc.EXPIRED,
               CoverageStatus.NOT_YET_VALID: oc.NOT_YET_VALID, CoverageStatus.MISMATCH: oc.WRONG_DETAILS,
               CoverageStatus.REFUSED: oc.WITHDRAWN}


def outcome(check: InsuranceCheck | None) -> str | None:
    """The outcome (``kiosk.insurance.outcomes.OUTCOMES``) of an answer; None for a card usable here."""
    if check is None or not check.about_card:
        return oc.REFUSED if check is not None and check.status is CoverageStatus.REFUSED else oc.UNAVAILABLE
    if check.usable:
        return oc.OTHER_FACILITY if check.facility_matches is False else None
    return _OUTCOME_OF.get(check.status, oc.UNAVAILABLE)


def action(settings, check: InsuranceCheck | None) -> str:
    """What the kiosk does about ``check`` under the journey's ``settings``
    (``insurance_outcomes``: the table's (outcome, action) pairs; ``insurance_on_invalid``: the old key)."""
    found = outcome(check)
    if found is None:
        return oc.INSURED
    table = oc.policy(dict(getattr(settings, "insurance_outcomes", ()) or ()),
                      getattr(settings, "insurance_on_invalid", "") or "")
    return table[found]


def stops_journey(settings, check: InsuranceCheck | None) -> bool:
    """The insurance screen is shown: the desk, or the offer of a fee-paying visit."""
    return action(settings, check) in (oc.COUNTER, oc.FEE)


def queues_recheck(coverage: VisitCoverage | None) -> bool:
    """The check-in leaves the card to be checked later (not for a fee-paying visit)."""
    return coverage is not None and needs_recheck(coverage.check) and not coverage.fee_paying


def coverage_status(check: InsuranceCheck | None) -> str | None:
    """The ``Coverage.status`` to record in the HIS, or None: nothing is written."""
    if check is None or not check.about_card:
        return None
    if check.usable:
        return "active"
    if check.status in (CoverageStatus.EXPIRED, CoverageStatus.REFUSED):
        return "cancelled"
    return None  # not found, mismatch: no card to record; not yet valid: nothing that counts today


def writes_coverage(check: InsuranceCheck | None) -> bool:
    return coverage_status(check) is not None


def bills_visit(coverage: VisitCoverage | None) -> bool:
    """The visit uses the card: the Encounter references the Coverage."""
    return coverage is not None and coverage.check is not None and coverage.check.usable and not coverage.fee_paying


def shown_status(check: InsuranceCheck | None, *, pending: bool = False, fee_paying: bool = False) -> str:
    """The word for the screens and the ticket (see the constants above)."""
    if fee_paying:
        return FEE
    if check is None:
        return CHECKING if pending else UNCHECKED
    if needs_recheck(check):
        return UNCHECKED
    if check.usable:
        if check.new_card:
            return NEW_CARD
        return VALID_ELSEWHERE if check.facility_matches is False else VALID
    return _INVALID_SHOWN.get(check.status, UNCHECKED)


def ticket_status(coverage: VisitCoverage | None) -> str | None:
    """What the ticket prints on its BHYT line; None when the kiosk checks no cards."""
    if coverage is None:
        return None
    return shown_status(coverage.check, fee_paying=coverage.fee_paying)
