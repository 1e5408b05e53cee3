"""Insurance: the BHYT outcome screen, for a card the kiosk does not go on with.

What follows the card check is decided by ``kiosk.insurance.rules.action`` from the
config's ``[insurance.outcomes]`` table (``kiosk.insurance.outcomes``): ``insured``
and ``check_later`` go on — the step is skipped (for ``check_later`` the check-in
queues the check); ``counter`` stops the journey on a screen that sends the patient
to the reception desk, keeping nothing personal; ``fee`` offers a fee-paying visit,
one tap (``AcceptFee``) goes on.

Entry: ``coverage`` (the gateway's answer, None when none came) and ``found`` (the visit it leads to).
Exit (fee only): ``fee_paying``.
"""
from __future__ import annotations

from kiosk.insurance.rules import ON_INVALID_FEE, action, stops_journey
from kiosk.journey.events import AcceptFee, Step
from kiosk.journey.steps import JourneyStep

NO_ANSWER_KEY = "coverage.unavailable"


class InsuranceStep(JourneyStep):
    name = "insurance"
    screens = (Step.INSURANCE,)
    on = {AcceptFee: "accept_fee"}
    needs = ("coverage", "found")
    gives = ("fee_paying",)

    def skip(self, j) -> bool:
        """The table says go on, the patient goes on without BHYT, or the kiosk checks no cards."""
        return not (j.settings.check_insurance and not j.fee_paying and stops_journey(j.settings, j.coverage))

    def enter(self, j, notice: str | None = None) -> list:
        key = j.coverage.message_key if j.coverage is not None else NO_ANSWER_KEY
        what = action(j.settings, j.coverage)
        if what != ON_INVALID_FEE:
            # counter: no visit is registered and nothing personal is kept
            language, speech, large = j.language, j.speech, j.large_text
            j.reset()
            j.language, j.speech, j.large_text = language, speech, large
        j.insurance_message = key
        j.insurance_action = what
        j.go(Step.INSURANCE)
        return []

    def accept_fee(self, j, ev: AcceptFee) -> list | None:
        if j.step is not Step.INSURANCE or j.found is None:
            return None  # at the desk (counter): nothing to go on with
        j.fee_paying = True
        return j.exit(self)


STEP = InsuranceStep()
