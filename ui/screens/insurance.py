"""The BHYT card check on screen: the one-line result on the visit and confirm
screens (``coverage_text``), and the insurance screen shown when the card
cannot be used — it sends the patient to the reception desk
(``"counter"`` in ``[insurance.outcomes]``) or offers a fee-paying visit (``"fee"``)."""
from __future__ import annotations

from kiosk.insurance.rules import (
    CHECKING,
    EXPIRED,
    FEE,
    MISMATCH,
    NEW_CARD,
    NOT_FOUND,
    NOT_YET_VALID,
    ON_INVALID_FEE,
    REFUSED,
    UNCHECKED,
    VALID,
    VALID_ELSEWHERE,
)
from kiosk.journey import machine as j
from ui.screens.base import Screen, button, label

STATES = {VALID: "ok", NEW_CARD: "ok", VALID_ELSEWHERE: "warn", CHECKING: "warn", UNCHECKED: "warn", FEE: "warn",
          EXPIRED: "bad", NOT_YET_VALID: "bad", NOT_FOUND: "bad", MISMATCH: "bad", REFUSED: "bad"}
MARKS = {"ok": "✓ ", "warn": "", "bad": "✗ "}


def coverage_text(journey, t) -> tuple[str, str] | None:
    """(the line, its state ok/warn/bad) for the card check, or None when the kiosk checks no cards."""
    shown = journey.insurance_shown
    if shown is None:
        return None
    check = journey.coverage
    to = check.valid_to.strftime("%d/%m/%Y") if check is not None and check.valid_to else ""
    state = STATES.get(shown, "warn")
    return MARKS[state] + t(f"ui.coverage.{shown}", to=to), state


def show_coverage(lab, journey, t) -> None:
    """Fill a label (role "coverage") with the card check's line, coloured by its state."""
    found = coverage_text(journey, t)
    lab.setVisible(found is not None)
    if found is None:
        lab.setText("")
        return
    text, state = found
    lab.setText(text)
    if lab.property("state") != state:
        lab.setProperty("state", state)
        lab.style().unpolish(lab)
        lab.style().polish(lab)


class InsuranceScreen(Screen):
    """The card cannot be used: what it is, and what to do next."""

    def __init__(self, send, parent=None):
        super().__init__(send, parent)
        self.message = label("error", center=True)
        self.next = label("body", center=True)
        self.body.addStretch(1)
        self.body.addWidget(self.message)
        self.body.addWidget(self.next)
        self.body.addStretch(1)
        self.stacked_footer = True  # two long choices, full width, the fee-paying visit on top
        self.desk = button("secondary", lambda: self.send(j.GoHome()))  # fee: "go to the desk" instead
        self.accept = button("primary", lambda: self.send(j.AcceptFee()))  # fee: the one extra tap
        self.finish = button("primary", lambda: self.send(j.GoHome()))  # counter: the only way on
        for btn in (self.desk, self.accept, self.finish):
            self.footer.addWidget(btn)

    def render(self, journey, ctx) -> None:
        fee = journey.insurance_action == ON_INVALID_FEE
        self.title.setText(self.t("ui.insurance.title_fee" if fee else "ui.insurance.title_counter"))
        self.message.setText(self.t(journey.insurance_message) if journey.insurance_message else "")
        self.next.setText(self.t("ui.insurance.fee_offer" if fee else "ui.insurance.counter"))
        self.desk.setText(self.t("ui.insurance.desk"))
        self.accept.setText(self.t("ui.insurance.accept"))
        self.finish.setText(self.t("ui.insurance.finish"))
        self.desk.setVisible(fee)
        self.accept.setVisible(fee)
        self.finish.setVisible(not fee)

    def clear(self) -> None:
        self.message.setText("")
