"""The consent screen (``privacy.consent = "tap"``): the card was laid or a code shown, and
nothing has been read yet. The notice, the question, and two answers: agree (the chip is
read now) or refuse (the reception desk; the kiosk keeps nothing)."""
from __future__ import annotations

from kiosk.journey import machine as j
from ui.screens.base import Screen, button
from ui.screens.privacy import PrivacyNotice


class ConsentScreen(Screen):
    stacked_footer = True  # two long answers: full width, one under the other

    def __init__(self, send, parent=None):
        super().__init__(send, parent)
        self.privacy = PrivacyNotice()
        self.body.addWidget(self.privacy)
        self.body.addStretch(1)
        self.agree = button("primary", lambda: self.send(j.Confirm()))
        self.refuse = button("secondary", lambda: self.send(j.RefuseConsent()))
        self.footer.addWidget(self.refuse)  # stacked bottom to top: "agree" on top
        self.footer.addWidget(self.agree)

    def render(self, journey, ctx) -> None:
        self.title.setText(self.t("ui.consent.question"))
        self.privacy.show_notice(journey.settings, self.lang, self.u)
        self.agree.setText(self.t("ui.consent.agree"))
        self.refuse.setText(self.t("ui.consent.refuse"))
