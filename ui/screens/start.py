"""The first screens: welcome (card or QR), card-without-key, keypad, and the
"please wait" screen shared by reading, looking up, checking in and printing."""
from __future__ import annotations

from PySide6.QtWidgets import QBoxLayout, QGridLayout, QVBoxLayout, QWidget

from kiosk import journey as j
from kiosk.domain import is_valid_citizen_id
from kiosk.ports import DEVICE_ERROR, DEVICE_MISSING, PRINTER_OFFLINE, PRINTER_PAPER_OUT

from ..pictures import CardOnReaderPicture, QrToCameraPicture, Spinner
from .base import Screen, button, label, set_direction

UNAVAILABLE = (DEVICE_MISSING, DEVICE_ERROR, "none")
CANNOT_PRINT = (PRINTER_PAPER_OUT, PRINTER_OFFLINE, "none")


class WelcomeScreen(Screen):
    """Attract screen: the kiosk listens to the reader and the camera at once."""

    def __init__(self, send, parent=None):
        super().__init__(send, parent)
        self.pictures = QBoxLayout(QBoxLayout.Direction.LeftToRight)
        self.pictures.setSpacing(40)
        self.card_caption = label("body", center=True)
        self.qr_caption = label("body", center=True)
        self.card_box = self._picture_box(CardOnReaderPicture(), self.card_caption)
        self.qr_box = self._picture_box(QrToCameraPicture(), self.qr_caption)
        self.pictures.addWidget(self.card_box, 1)
        self.pictures.addWidget(self.qr_box, 1)
        self.body.addLayout(self.pictures, 1)
        self.device_hint = label("hint", center=True)
        self.body.addWidget(self.device_hint)
        self.printer_warning = label("notice", center=True)
        self.outer.insertWidget(1, self.printer_warning)
        self.type_id = button("secondary", lambda: self.send(j.OpenKeypad()))
        self.footer.addWidget(self.type_id)

    @staticmethod
    def _picture_box(picture, caption) -> QWidget:
        box = QWidget()
        lay = QVBoxLayout(box)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(picture, 1)
        lay.addWidget(caption)
        return box

    def render(self, journey, ctx) -> None:
        self.title.setText(self.t("ui.welcome.title"))
        self.card_caption.setText(self.t("ui.welcome.card"))
        self.qr_caption.setText(self.t("ui.welcome.qr"))
        self.type_id.setText(self.t("ui.welcome.type_id"))
        self.card_box.setVisible(ctx.reader_state not in UNAVAILABLE)
        self.qr_box.setVisible(ctx.camera_state not in UNAVAILABLE)
        hints = [key for key, state in (("ui.welcome.reader_missing", ctx.reader_state),
                                        ("ui.welcome.camera_missing", ctx.camera_state))
                 if state in UNAVAILABLE]
        self.device_hint.setText("\n".join(self.t(k) for k in hints))
        self.device_hint.setVisible(bool(hints))
        # Say it before the patient starts, not after.
        self.printer_warning.setText(self.t("ui.printer.cannot_print"))
        # (an unknown status while the printer is starting up is not yet a warning)
        self.printer_warning.setVisible(journey.printer_status in CANNOT_PRINT)

    def resizeEvent(self, event):  # noqa: N802
        set_direction(self.pictures, self.is_landscape())
        super().resizeEvent(event)


class NeedKeyScreen(Screen):
    """A card is on the reader but the chip needs the ID number (CAN) first."""

    def __init__(self, send, parent=None):
        super().__init__(send, parent)
        self.text = label("body", center=True)
        self.body.addWidget(self.text)
        self.body.addWidget(QrToCameraPicture(), 1)
        self.cancel = button("secondary", lambda: self.send(j.GoHome()))
        self.type_id = button("primary", lambda: self.send(j.OpenKeypad()))
        self.footer.addWidget(self.cancel)
        self.footer.addWidget(self.type_id)

    def render(self, journey, ctx) -> None:
        self.title.setText(self.t("ui.need_key.title"))
        self.text.setText(self.t("ui.need_key.body"))
        self.cancel.setText(self.t("ui.action.cancel"))
        self.type_id.setText(self.t("ui.welcome.type_id"))


class KeypadScreen(Screen):
    """On-screen keypad for the 12-digit ID; checked before anything is sent."""

    def __init__(self, send, parent=None):
        super().__init__(send, parent)
        self.digits = ""
        self.hint = label("hint", center=True)
        self.display = label("digits", wrap=False, center=True)
        self.count = label("hint", center=True)
        left = QWidget()
        col = QVBoxLayout(left)
        col.setContentsMargins(0, 0, 0, 0)
        col.addStretch(1)
        for w in (self.hint, self.display, self.count):
            col.addWidget(w)
        col.addStretch(1)
        self.split = QBoxLayout(QBoxLayout.Direction.TopToBottom)
        self.split.setSpacing(30)
        self.split.addWidget(left, 1)
        self.body.addLayout(self.split, 1)
        grid = QGridLayout()
        grid.setSpacing(18)
        for col in range(3):
            grid.setColumnStretch(col, 1)
        self.keys: dict[str, object] = {}
        for i, d in enumerate("123456789"):
            self.keys[d] = button("key", lambda d=d: self._press(d))
            grid.addWidget(self.keys[d], i // 3, i % 3)
        self.keys["clear"] = button("key-text", self._clear_digits)
        self.keys["0"] = button("key", lambda: self._press("0"))
        self.keys["delete"] = button("key-text", self._delete)
        grid.addWidget(self.keys["clear"], 3, 0)
        grid.addWidget(self.keys["0"], 3, 1)
        grid.addWidget(self.keys["delete"], 3, 2)
        for d in "0123456789":
            self.keys[d].setText(d)
        self.grid_box = QWidget()
        self.grid_box.setLayout(grid)
        self.split.addWidget(self.grid_box, 1)
        self.back = button("secondary", lambda: self.send(j.GoHome()))
        self.ok = button("primary", self._submit)
        self.footer.addWidget(self.back)
        self.footer.addWidget(self.ok)

    def _press(self, digit: str) -> None:
        if len(self.digits) < 12:
            self.digits += digit
            self._show_digits()

    def _delete(self) -> None:
        self.digits = self.digits[:-1]
        self._show_digits()

    def _clear_digits(self) -> None:
        self.digits = ""
        self._show_digits()

    def _submit(self) -> None:
        digits = self.digits
        if is_valid_citizen_id(digits):
            self.digits = ""
        self.send(j.IdTyped(digits))

    def _show_digits(self) -> None:
        shown = " ".join(self.digits[i:i + 3] for i in range(0, len(self.digits), 3))
        self.display.setText(shown or "_")
        self.count.setText(self.t("ui.keypad.count", n=len(self.digits)))
        self.ok.setEnabled(len(self.digits) == 12)

    def render(self, journey, ctx) -> None:
        self.title.setText(self.t("ui.keypad.title"))
        self.hint.setText(self.t("ui.keypad.hint"))
        self.keys["clear"].setText(self.t("ui.keypad.clear"))
        self.keys["delete"].setText(self.t("ui.keypad.delete"))
        self.back.setText(self.t("ui.action.back"))
        self.ok.setText(self.t("ui.keypad.ok"))
        self._show_digits()

    def clear(self) -> None:
        self.digits = ""
        self.display.setText("_")

    def resizeEvent(self, event):  # noqa: N802
        set_direction(self.split, self.is_landscape())
        super().resizeEvent(event)


class BusyScreen(Screen):
    """Please wait: a spinner, what is happening, and always a way back."""

    TEXTS = {j.Step.READING: "ui.reading", j.Step.LOOKING_UP: "ui.looking_up", j.Step.FINDING_BOOKING: "ui.looking_up",
             j.Step.CHECKING_IN: "ui.checking_in", j.Step.PRINTING: "ui.printing"}

    def __init__(self, send, parent=None):
        super().__init__(send, parent)
        self.picture = CardOnReaderPicture()
        self.spinner = Spinner()
        self.text = label("body", center=True)
        self.body.addWidget(self.picture, 2)
        self.body.addWidget(self.spinner, 1)
        self.body.addWidget(self.text)
        self.cancel = button("secondary", lambda: self.send(j.GoHome()))
        self.footer.addWidget(self.cancel)

    def render(self, journey, ctx) -> None:
        prefix = self.TEXTS.get(journey.step, "ui.checking_in")
        self.title.setText(self.t(prefix + ".title"))
        self.text.setText(self.t(prefix + ".body"))
        self.picture.setVisible(journey.step is j.Step.READING)
        self.cancel.setText(self.t("ui.action.cancel"))
        self.cancel.setVisible(journey.step is not j.Step.PRINTING)
