"""The BHYT outcome policy: what the kiosk does on each answer of the card check.

One table, ``[insurance.outcomes]`` in the config, gives an action for each
outcome that needs a decision; an outcome missing from it keeps its default.

Outcomes (``OUTCOMES``, in this order):

- ``no_card``: the gateway knows no card for this person (code 050, or a wrong card code)
- ``expired``: the card's validity ended
- ``not_yet_valid``: the card's validity begins after today
- ``wrong_details``: a card exists, but the name or date of birth differs
- ``withdrawn``: the card was withdrawn or stopped
- ``other_facility``: a usable card registered at another primary-care facility
  (it may still be valid for some visits: emergencies, referrals, the same level)
- ``unavailable``: no answer about the card — none in time, the gateway down or in trouble
- ``refused``: the gateway refused the kiosk's own account (credentials, staff identity)

Actions (not each is allowed for each outcome, see ``ALLOWED``):

- ``counter``: the patient is sent to the reception desk; nothing is registered
- ``fee``: one tap offers a fee-paying visit ("Khám dịch vụ (không dùng BHYT)")
- ``insured``: the patient goes on as insured (the visit uses the card)
- ``check_later``: the patient goes on; the ticket says "not checked yet" and the
  check is queued and made again later (the recheck queue)

The old key ``insurance.on_invalid = "counter" | "fee"`` sets every invalid-card
outcome (``INVALID_OUTCOMES``) at once; the table wins where both are given.
This module imports nothing: the config schema checks the table with it.
"""
from __future__ import annotations

from collections.abc import Mapping

COUNTER, FEE, INSURED, CHECK_LATER = "counter", "fee", "insured", "check_later"
ACTIONS = (COUNTER, FEE, INSURED, CHECK_LATER)

NO_CARD, EXPIRED, NOT_YET_VALID, WRONG_DETAILS = "no_card", "expired", "not_yet_valid", "wrong_details"
WITHDRAWN, OTHER_FACILITY, UNAVAILABLE, REFUSED = "withdrawn", "other_facility", "unavailable", "refused"

# outcome -> (its default action, the actions allowed): the declared list.
OUTCOMES: dict[str, tuple[str, tuple[str, ...]]] = {
    NO_CARD: (FEE, (FEE, COUNTER)),
    EXPIRED: (FEE, (FEE, COUNTER)),
    NOT_YET_VALID: (FEE, (FEE, COUNTER)),
    WRONG_DETAILS: (COUNTER, (COUNTER, FEE)),
    WITHDRAWN: (COUNTER, (COUNTER, FEE)),
    OTHER_FACILITY: (INSURED, (INSURED, FEE, COUNTER)),
    UNAVAILABLE: (CHECK_LATER, (CHECK_LATER, FEE, COUNTER)),
    REFUSED: (CHECK_LATER, (CHECK_LATER, FEE, COUNTER)),
}
ALLOWED = {outcome: allowed for outcome, (_, allowed) in OUTCOMES.items()}
DEFAULT_POLICY = {outcome: default for outcome, (default, _) in OUTCOMES.items()}
INVALID_OUTCOMES = (NO_CARD, EXPIRED, NOT_YET_VALID, WRONG_DETAILS, WITHDRAWN)  # what on_invalid sets
ON_INVALID_CHOICES = (COUNTER, FEE)


def policy(outcomes: Mapping | None = None, on_invalid: str = "") -> dict[str, str]:
    """The whole table: the defaults, then the old ``on_invalid``, then the table's own entries."""
    table = dict(DEFAULT_POLICY)
    if on_invalid:
        table.update({outcome: on_invalid for outcome in INVALID_OUTCOMES})
    table.update(outcomes or {})
    return table


def table_problem(outcomes: Mapping) -> str | bool:
    """True for a good ``[insurance.outcomes]`` table, else what was expected (names the entry)."""
    for outcome, action in outcomes.items():
        if outcome not in OUTCOMES:
            return f"outcomes among {', '.join(OUTCOMES)} ({outcome!r} is none of them)"
        if action not in ALLOWED[outcome]:
            return f"{outcome} = one of {', '.join(ALLOWED[outcome])}"
    return True


def describe(table: Mapping) -> str:
    """One line for people (the demo panel, ``kiosk doctor``): outcome → action."""
    return "; ".join(f"{outcome} → {table[outcome]}" for outcome in OUTCOMES if outcome in table)
