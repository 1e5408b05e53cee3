"""Insurance: the BHYT outcome screen, for a card that cannot be used.

What follows the card check is decided by ``kiosk.insurance.rules``: a usable card
(or no check at all) goes on — the step is skipped; an invalid one leads to the
insurance screen. With ``insurance.on_invalid = "counter"`` the journey stops there
and sends the patient to the reception desk, keeping nothing personal; with
``"fee"`` one tap (``AcceptFee``) goes on as a fee-paying patient.

Entry: ``coverage`` (the gateway's answer) and ``found`` (the visit it leads to).
Exit (fee only): ``fee_paying``.
"""
from __future__ import annotations

from kiosk.insurance.rules import ON_INVALID_FEE, is_invalid
from kiosk.journey.events import AcceptFee, Step
from kiosk.journey.steps import JourneyStep


class InsuranceStep(JourneyStep):
    name = "insurance"
    screens = (Step.INSURANCE,)
    on = {AcceptFee: "accept_fee"}
    needs = ("coverage", "found")
    gives = ("fee_paying",)

    def skip(self, j) -> bool:
        """The card can be used, the patient goes on without BHYT, or the kiosk checks no cards."""
        return not (j.settings.check_insurance and is_invalid(j.coverage) and not j.fee_paying)

    def enter(self, j, notice: str | None = None) -> list:
        key = j.coverage.message_key
        if j.settings.insurance_on_invalid != ON_INVALID_FEE:
            # counter: no visit is registered and nothing personal is kept
            language, speech, large = j.language, j.speech, j.large_text
            j.reset()
            j.language, j.speech, j.large_text = language, speech, large
        j.insurance_message = key
        j.go(Step.INSURANCE)
        return []

    def accept_fee(self, j, ev: AcceptFee) -> list | None:
        if j.step is not Step.INSURANCE or j.found is None:
            return None  # at the desk (counter): nothing to go on with
        j.fee_paying = True
        return j.exit(self)


STEP = InsuranceStep()
