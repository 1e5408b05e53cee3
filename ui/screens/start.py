"""The first screens: welcome (card or QR, or type a number), card-without-key
(with its own keypad: one action less), the keypad for the ID number or the
patient code, and the "please wait" screen shared by the slow steps."""
from __future__ import annotations

from typing import Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QBoxLayout,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QScrollArea,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from kiosk.domain import is_valid_citizen_id
from kiosk.identity.patient_code import DIGITS_MAX
from kiosk.journey import machine as j
from kiosk.ports import DEVICE_ERROR, DEVICE_MISSING, PRINTER_OFFLINE, PRINTER_PAPER_OUT
from ui.pictures import CardOnReaderPicture, QrToCameraPicture, Spinner
from ui.screens.base import MoreBelow, Screen, button, label, repolish, set_direction
from ui.screens.privacy import PrivacyNotice

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
        self.qr_hint = label("notice", center=True)  # a code seen but not read for a while
        self.qr_hint.hide()
        self.body.addWidget(self.qr_hint)
        self.device_hint = label("hint", center=True)
        self.body.addWidget(self.device_hint)
        self.privacy = PrivacyNotice()  # before the card is read: what, why, who, how long, rights (Law 91/2025)
        self.body.addWidget(self.privacy)
        self.printer_warning = label("notice", center=True)
        self.outer.insertWidget(1, self.printer_warning)
        self.type_id = button("secondary", lambda: self.send(j.OpenKeypad(j.CITIZEN_ID)))
        self.patient_code = button("secondary", lambda: self.send(j.OpenKeypad(j.PATIENT_CODE)))
        self.footer.addWidget(self.patient_code)  # stacked bottom to top in portrait: the ID number first
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
        self.patient_code.setText(self.t("ui.welcome.patient_code"))
        self.card_box.setVisible(ctx.reader_state not in UNAVAILABLE)
        self.qr_box.setVisible(ctx.camera_state not in UNAVAILABLE)
        hints = [key for key, state in (("ui.welcome.reader_missing", ctx.reader_state),
                                        ("ui.welcome.camera_missing", ctx.camera_state))
                 if state in UNAVAILABLE]
        self.qr_hint.setText(self.t("ui.welcome.qr_unreadable"))
        self.qr_hint.setVisible(getattr(ctx, "qr_unreadable", False) and self.qr_box.isVisibleTo(self))
        self.device_hint.setText("\n".join(self.t(k) for k in hints))
        self.device_hint.setVisible(bool(hints))
        # Say it before the patient starts, not after.
        self.printer_warning.setText(self.t("ui.printer.cannot_print"))
        # (an unknown status while the printer is starting up is not yet a warning)
        self.printer_warning.setVisible(journey.printer_status in CANNOT_PRINT)
        self.privacy.show_notice(journey.settings, self.lang, self.u, brief=journey.large_text)

    @property
    def stacked_footer(self) -> bool:  # two long button texts: one under the other in portrait
        return not self.is_landscape()

    def relayout(self) -> None:
        # Large text in portrait: the two pictures side by side too, so that the privacy notice and both
        # buttons stay on screen under the large captions.
        set_direction(self.pictures, self.is_landscape() or self.large)


class Keypad(QWidget):
    """The digits typed so far, big, and a 3×4 keypad. ``on_change()`` is called
    after each key; ``digits`` holds what is typed (never shown anywhere else)."""

    def __init__(self, on_change: Callable[[], None], parent=None):
        super().__init__(parent)
        self.digits = ""
        self.max_digits = 12
        self.on_change = on_change
        self.display = label("digits", wrap=False, center=True)
        self.keys: dict[str, object] = {}
        grid = QGridLayout()
        grid.setSpacing(18)
        for col in range(3):
            grid.setColumnStretch(col, 1)
        for i, d in enumerate("123456789"):
            self.keys[d] = button("key", lambda d=d: self.press(d))
            grid.addWidget(self.keys[d], i // 3, i % 3)
        self.keys["clear"] = button("key-text", self.clear_digits)
        self.keys["0"] = button("key", lambda: self.press("0"))
        self.keys["delete"] = button("key-text", self.delete)
        grid.addWidget(self.keys["clear"], 3, 0)
        grid.addWidget(self.keys["0"], 3, 1)
        grid.addWidget(self.keys["delete"], 3, 2)
        for d in "0123456789":
            self.keys[d].setText(d)
        self.grid = grid
        self.setLayout(grid)

    def press(self, digit: str) -> None:
        if len(self.digits) < self.max_digits:
            self.digits += digit
            self.on_change()

    def delete(self) -> None:
        self.digits = self.digits[:-1]
        self.on_change()

    def clear_digits(self) -> None:
        self.digits = ""
        self.on_change()

    def shown(self, prefix: str = "", group: bool = True) -> str:
        """What is typed, as the display shows it: the 12-digit ID in groups of three (easier to
        check against the card), a patient code exactly as printed on the slip ("BN-001122")."""
        text = " ".join(self.digits[i:i + 3] for i in range(0, len(self.digits), 3)) if group else self.digits
        return prefix + (text or "_")

    def set_compact(self, compact: bool) -> None:
        """Keys with less padding and smaller digits (still ≥ 15 mm): large text in landscape,
        where four rows of keys must fit under the title without scrolling."""
        if self.property("compact") == compact:
            return
        self.setProperty("compact", compact)
        self.grid.setSpacing(10 if compact else 18)
        for key in self.keys.values():
            key.setProperty("compact", compact)
            repolish(key)

    def set_texts(self, t) -> None:
        self.keys["clear"].setText(t("ui.keypad.clear"))
        self.keys["delete"].setText(t("ui.keypad.delete"))


class NeedKeyScreen(Screen):
    """A card is on the reader but the chip needs the ID number (CAN) first:
    show the card's QR code, or type the number right here."""

    tight_when_compact = True  # large landscape: instruction beside the keys
    short_footer = True  # "Cancel" and "Continue" side by side: the keys keep the height
    def __init__(self, send, parent=None):
        super().__init__(send, parent)
        self.text = label("body", center=True)
        self.body.addWidget(self.text)
        self.split = QBoxLayout(QBoxLayout.Direction.TopToBottom)
        self.split.setSpacing(30)
        self.picture = QrToCameraPicture()
        # Landscape: the instruction moves beside the keys (a twin label, so that neither loses
        # its wrapped height; a little smaller, and scrolling with a "more below" cue where it is
        # longer than the room), and the keys get the body's whole height.
        self.text_left = label("hint", center=True)
        self.text_scroll = QScrollArea()
        self.text_scroll.setObjectName("scroller")
        text_box = QWidget()
        text_box.setObjectName("body")  # transparent, as the body (ui.style)
        box = QVBoxLayout(text_box)
        box.setContentsMargins(0, 0, 0, 0)
        box.addWidget(self.text_left)
        self.text_scroll.setWidget(text_box)
        self.text_scroll.setWidgetResizable(True)
        self.text_scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.text_scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.text_scroll.hide()
        MoreBelow(self.text_scroll)
        left = QVBoxLayout()
        left.addWidget(self.text_scroll)
        left.addWidget(self.picture, 1)
        self.pad = Keypad(self._changed)
        self.pad.display.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)
        left.addWidget(self.pad.display)
        self.side_buttons = QHBoxLayout()  # landscape: "Cancel" and "Continue" under the display
        self.side_buttons.setSpacing(16)
        left.addLayout(self.side_buttons)
        self.split.addLayout(left, 1)
        self.split.addWidget(self.pad, 2)
        self.body.addLayout(self.split, 1)
        self.cancel = button("secondary", lambda: self.send(j.GoHome()))
        self.ok = button("primary", self._submit)
        self.footer.addWidget(self.cancel)
        self.footer.addWidget(self.ok)

    @property
    def keys(self):
        return self.pad.keys

    def _changed(self) -> None:
        self.pad.display.setText(self.pad.shown())
        self.ok.setEnabled(len(self.pad.digits) == 12)

    def _submit(self) -> None:
        digits = self.pad.digits
        if is_valid_citizen_id(digits):
            self.pad.digits = ""
        self.send(j.IdTyped(digits))

    def render(self, journey, ctx) -> None:
        self.title.setText(self.t("ui.need_key.title"))
        self.text.setText(self.t("ui.need_key.body"))
        self.text_left.setText(self.t("ui.need_key.body"))
        self.cancel.setText(self.t("ui.action.cancel"))
        self.ok.setText(self.t("ui.keypad.ok"))
        self.pad.set_texts(self.t)
        self._speech = journey.speech
        self.relayout()
        self._changed()

    def clear(self) -> None:
        self.pad.digits = ""
        self.pad.display.setText("_")

    def relayout(self) -> None:
        landscape = self.is_landscape()
        set_direction(self.split, landscape)
        # large text with the speech bar: the instruction is heard, the keys keep the room
        said = self.large and getattr(self, "_speech", False)
        # landscape: the instruction and the buttons beside the keys, which get the body's whole height
        self.text.setVisible(not landscape and not said)
        self.text_scroll.setVisible(landscape and not said)
        self.text_left.ensurePolished()  # at least two lines in view, the rest under the cue
        self.text_scroll.setMinimumHeight(2 * self.text_left.fontMetrics().height()
                                          + self.text_left.contentsMargins().top())
        self.picture.setVisible(not self.large)
        self.footer_into(self.side_buttons if landscape else None, (self.cancel, self.ok))
        self.pad.set_compact(landscape or self.large)  # keys ≥ 15 mm, digits a little smaller
        self.split.setStretch(1, 1 if landscape else 2)  # the instruction gets half the width: fewer lines


class KeypadScreen(Screen):
    """On-screen keypad for the 12-digit ID, or the digits of the patient code;
    checked before anything is sent."""

    tight_when_compact = True  # large landscape: every key on screen
    short_footer = True  # "Back" and "Continue" side by side: the keys keep the height
    def __init__(self, send, parent=None):
        super().__init__(send, parent)
        self.field = j.CITIZEN_ID
        self.prefix = ""
        self.hint = label("hint", center=True)
        self.pad = Keypad(self._show_digits)
        self.display = self.pad.display
        self.count = label("hint", center=True)
        left = QWidget()
        col = QVBoxLayout(left)
        col.setContentsMargins(0, 0, 0, 0)
        col.addStretch(1)
        for w in (self.hint, self.display, self.count):
            col.addWidget(w)
        col.addStretch(1)
        self.side_buttons = QHBoxLayout()  # landscape: "Back" and "Continue" under the digits
        self.side_buttons.setSpacing(16)
        col.addLayout(self.side_buttons)
        self.split = QBoxLayout(QBoxLayout.Direction.TopToBottom)
        self.split.setSpacing(30)
        self.split.addWidget(left, 1)
        self.split.addWidget(self.pad, 1)
        self.body.addLayout(self.split, 1)
        self.back = button("secondary", lambda: self.send(j.GoHome()))
        self.ok = button("primary", self._submit)
        self.footer.addWidget(self.back)
        self.footer.addWidget(self.ok)

    @property
    def keys(self):
        return self.pad.keys

    @property
    def digits(self) -> str:
        return self.pad.digits

    def _ready(self) -> bool:
        n = len(self.pad.digits)
        return n == 12 if self.field == j.CITIZEN_ID else n >= 4

    def _submit(self) -> None:
        digits = self.pad.digits
        if self.field == j.PATIENT_CODE:
            self.pad.digits = ""
            self.send(j.PatientCodeTyped(digits))
            return
        if is_valid_citizen_id(digits):
            self.pad.digits = ""
        self.send(j.IdTyped(digits))

    def _show_digits(self) -> None:
        self.display.setText(self.pad.shown(self.prefix, group=self.field == j.CITIZEN_ID))
        n = len(self.pad.digits)
        self.count.setText(self.t("ui.keypad.count", n=n) if self.field == j.CITIZEN_ID
                           else self.t("ui.keypad.code_count", n=n))
        self.ok.setEnabled(self._ready())

    def render(self, journey, ctx) -> None:
        code = journey.keypad_field == j.PATIENT_CODE
        if journey.keypad_field != self.field:
            self.field, self.pad.digits = journey.keypad_field, ""
        self.pad.max_digits = DIGITS_MAX if code else 12
        self.prefix = journey.settings.patient_code_prefix if code else ""
        self.title.setText(self.t("ui.keypad.code_title" if code else "ui.keypad.title"))
        self.hint.setText(self.t("ui.keypad.code_hint" if code else "ui.keypad.hint"))
        self.pad.set_texts(self.t)
        self.back.setText(self.t("ui.action.back"))
        self.ok.setText(self.t("ui.keypad.ok"))
        self._speech = journey.speech
        self.relayout()
        self._show_digits()

    def clear(self) -> None:
        self.pad.digits = ""
        self.display.setText("_")

    def relayout(self) -> None:
        landscape = self.is_landscape()
        compact = self.is_compact()  # height is scarce: every key on screen without scrolling
        set_direction(self.split, landscape)
        self.footer_into(self.side_buttons if landscape else None, (self.back, self.ok))
        self.pad.set_compact(landscape or self.large)  # keys ≥ 15 mm, digits a little smaller
        # large text in portrait with the speech bar: the hint and the count are heard, the keys keep the room
        said = self.large and not landscape and getattr(self, "_speech", False)
        self.hint.setVisible(not said)
        self.count.setVisible(not said)
        self.split.setSpacing(16 if compact or self.large else 30)


class BusyScreen(Screen):
    """Please wait: a spinner, what is happening, and always a way back."""

    CHECKING_IN = ("ui.checking_in.title", "ui.checking_in.body")
    LOOKING_UP = ("ui.looking_up.title", "ui.looking_up.body")
    TEXTS = {j.Step.READING: ("ui.reading.title", "ui.reading.body"), j.Step.LOOKING_UP: LOOKING_UP,
             j.Step.FINDING_BOOKING: LOOKING_UP,
             j.Step.FINDING_PATIENT: ("ui.finding_patient.title", "ui.finding_patient.body"),
             j.Step.CHECKING_IN: CHECKING_IN, j.Step.PRINTING: ("ui.printing.title", "ui.printing.body")}

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
        title, body = self.TEXTS.get(journey.step, self.CHECKING_IN)
        self.title.setText(self.t(title))
        self.text.setText(self.t(body))
        self.picture.setVisible(journey.step is j.Step.READING)
        self.cancel.setText(self.t("ui.action.cancel"))
        self.cancel.setVisible(journey.step is not j.Step.PRINTING)

