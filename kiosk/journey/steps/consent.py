"""Consent: where the hospital wants an explicit tap (``privacy.consent = "tap"``), the
patient who has laid the card or shown a code first sees the notice (what is read, why,
who keeps it, for how long, their rights) and taps "Đồng ý" (``Confirm``) or
"Không đồng ý — đến quầy" (``RefuseConsent``). Law 91/2025/QH15: the chip — its face
photo is biometric, sensitive data — is read only after agreement.

The first row of the table, skipped when ``privacy.consent = "notice"`` (the notice on
the welcome screen is then enough) and once this patient has agreed. While it is not
skipped it takes, on any screen, the events by which a patient presents themselves
(the card laid, a code shown, a number typed) — before the identify step sees them —
and keeps only that one event, unread, while the notice is shown: agreeing hands it on
(the journey's next taker is the identify step), refusing drops it and sends the patient
to the reception desk; going home or a timeout drops it too (``Journey.reset``).

Entry: the presenting event (``needs`` nothing). Exit: ``consented``; it never calls
``exit``: the event it held is handled again, by the step that owns it.
"""
from __future__ import annotations

from kiosk.journey.events import (
    CONSENT_TAP,
    HOME,
    CardInserted,
    CardRemoved,
    Confirm,
    IdTyped,
    PatientCodeTyped,
    QrScanned,
    RefuseConsent,
    Step,
)
from kiosk.journey.steps import JourneyStep

PRESENTING = (CardInserted, QrScanned, IdTyped, PatientCodeTyped)
ASKED_ON = (Step.WELCOME, Step.KEYPAD, Step.ERROR)  # where a patient who has not agreed can present themselves


class ConsentStep(JourneyStep):
    name = "consent"
    screens = (Step.CONSENT,)
    on = {Confirm: "agreed", RefuseConsent: "refused", CardRemoved: "card_removed"}
    anywhere = {kind: "presented" for kind in PRESENTING}
    gives = ("consented",)

    def skip(self, j) -> bool:
        return j.settings.consent != CONSENT_TAP or j.consented

    def presented(self, j, ev) -> list | None:
        if isinstance(ev, CardInserted):
            j.card_present = True
        if j.out_of_service or j.step not in ASKED_ON:
            return None  # on the consent screen itself: one thing at a time, the notice first
        j.presented = (j.step, j.keypad_field, ev)
        j.go(Step.CONSENT)
        return []

    def agreed(self, j, ev) -> list:
        step, field, held = j.presented
        j.consented, j.presented = True, None
        j.keypad_field = field
        j.go(step)  # the screen it was shown on, so that its step takes it as if nothing came between
        return j.handle(held)

    def refused(self, j, ev) -> list:
        j.presented = None  # nothing read, nothing kept
        return j.fail("ui.error.consent_refused", (HOME,))

    def card_removed(self, j, ev) -> None:
        j.card_present = False
        if isinstance(j.presented[2], CardInserted):
            j.reset()  # the patient took the card away before answering


STEP = ConsentStep()
