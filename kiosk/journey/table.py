"""The order of the journey's steps: one row each (``kiosk.journey.steps``).

The journey starts on the first row; when a step exits, the next row that does not
skip this patient is entered; after the last row comes the check-in and the ticket
(``kiosk.journey.finish``). A new step (e.g. payment, skipped when the visit is
insured) is one module under ``kiosk/journey/steps/`` and one row here.
"""
from __future__ import annotations

from kiosk.journey.steps import confirm, consent, department, identify, insurance, priority

STEPS = (
    consent.STEP,      # privacy.consent = "tap": the notice, agree or go to the desk, before the card is read
    identify.STEP,     # card / QR / keypad / patient code → an identity
    confirm.STEP,      # "is this you?" (step by step) and the lookup, the BHYT check beside it
    insurance.STEP,    # the BHYT outcome screen (skipped when the card is usable)
    department.STEP,   # the appointment to confirm, or the walk-in's department
    priority.STEP,     # the priority screen (skipped in the short flow, or when entitled by age)
)
