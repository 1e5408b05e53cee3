"""The middle of the journey: who you are, your appointment, and whether you
need priority (the department screen is in ``departments.py``). In the short
flow the appointment and department screens also show who the patient is and
the priority buttons, so one touch checks in."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import QBoxLayout, QFrame, QGridLayout, QHBoxLayout, QVBoxLayout, QWidget

from kiosk.domain import Assurance, IdentitySource, mask_name
from kiosk.journey import machine as j
from ui.screens.base import Screen, button, label, set_direction
from ui.screens.insurance import coverage_text, show_coverage

METHOD_KEYS = {Assurance.CHIP_VERIFIED: "ui.method.chip_verified", Assurance.CHIP_UNVERIFIED: "ui.method.chip_unverified",
               Assurance.QR: "ui.method.qr", Assurance.TYPED: "ui.method.typed"}


def method_text(ident, t) -> str:
    if ident.source is IdentitySource.PATIENT_CODE:
        return t("ui.method.patient_code")
    return t(METHOD_KEYS.get(ident.assurance, "ui.method.typed"))


def shown_name(ident) -> str | None:
    """The name as the screen shows it: masked when it came from a patient code
    (anyone holding a slip could read it), as on the card otherwise."""
    if ident.source is IdentitySource.PATIENT_CODE:
        return mask_name(ident.full_name) or None
    return ident.full_name


def identity_summary(ident, t, narrow: bool = False) -> str:
    """One or two lines: name, date of birth, masked ID and how the kiosk knows.
    ``narrow`` (a column of its own, landscape with large text): the name on a
    line of its own, then date of birth and masked ID — how the kiosk knows is
    left out there, to keep every department button on screen."""
    name = shown_name(ident) or t("ui.field.unknown_name")
    rest = [ident.birth_date.strftime("%d/%m/%Y") if ident.birth_date else None, ident.masked_id]
    if narrow:
        return name + "\n" + " · ".join(p for p in rest if p)
    return " · ".join(p for p in [name, *rest] if p) + "\n" + method_text(ident, t)


class PriorityToggles(QWidget):
    """Short flow: the self-declared priorities as buttons that stay chosen."""

    def __init__(self, send, parent=None):
        super().__init__(parent)
        self.send = send
        self.row = QBoxLayout(QBoxLayout.Direction.LeftToRight, self)
        self.row.setContentsMargins(0, 0, 0, 0)
        self.row.setSpacing(12)
        self.caption = label("hint")
        self.row.addWidget(self.caption, 1)
        buttons = QHBoxLayout()
        buttons.setSpacing(24)
        self.buttons = {}
        for p in j.DECLARABLE_PRIORITIES:
            btn = button("toggle", lambda p=p: self.send(j.TogglePriority(p)))
            btn.setCheckable(True)
            buttons.addWidget(btn, 1)
            self.buttons[p] = btn
        self.row.addLayout(buttons, 2)

    def show_journey(self, journey, t, large: bool, landscape: bool, narrow: bool = False) -> None:
        """``narrow``: a column of its own (landscape with large text): the caption
        above, each button's text on two lines."""
        offered = journey.declarable_priorities() if journey.short_flow and journey.age_priority is None else ()
        self.setVisible(bool(offered))
        # large text in portrait: the caption on a line of its own, the buttons side by side below it
        self.row.setDirection(QBoxLayout.Direction.LeftToRight if (landscape or not large) and not narrow
                              else QBoxLayout.Direction.TopToBottom)
        self.caption.setText(t("ui.priority.toggle_caption"))
        for p, btn in self.buttons.items():
            btn.setVisible(p in offered)
            btn.setChecked(journey.priority is p)
            text = t(f"ui.priority.{p.value}")
            btn.setText(("✓ " if journey.priority is p else "") + (two_lines(text) if narrow else text))


def two_lines(text: str) -> str:
    """The text broken at the space nearest its middle ("Người khuyết tật" -> "Người\nkhuyết tật")."""
    spaces = [i for i, ch in enumerate(text) if ch == " "]
    if not spaces:
        return text
    cut = min(spaces, key=lambda i: abs(i - len(text) / 2))
    return text[:cut] + "\n" + text[cut + 1:]


def _fields(rows: list[tuple[str, str]], parent_grid: QGridLayout, labels: list) -> None:
    """(Re)fill a two-column grid of field name / value labels."""
    while len(labels) < len(rows):
        name, value = label("field-label"), label("field-value")
        parent_grid.addWidget(name, len(labels), 0, Qt.AlignmentFlag.AlignTop)
        parent_grid.addWidget(value, len(labels), 1)
        labels.append((name, value))
    for i, (name, value) in enumerate(labels):
        shown = i < len(rows)
        name.setVisible(shown)
        value.setVisible(shown)
        name.setText(rows[i][0] if shown else "")
        value.setText(rows[i][1] if shown else "")


def photo_pixmap(data: bytes | None) -> QPixmap | None:
    """The chip's face image: JPEG directly, JPEG 2000 (which Qt 6 does not read) through Pillow."""
    if not data:
        return None
    pixmap = QPixmap()
    if pixmap.loadFromData(data):
        return pixmap
    try:
        import io

        from PIL import Image

        out = io.BytesIO()
        Image.open(io.BytesIO(data)).convert("RGB").save(out, "PNG")
    except Exception:  # noqa: BLE001 - no photo is better than no confirm screen
        return None
    return pixmap if pixmap.loadFromData(out.getvalue()) else None


class ConfirmScreen(Screen):
    """Name, date of birth, masked ID, photo when read, and how the kiosk knows."""

    def __init__(self, send, parent=None):
        super().__init__(send, parent)
        self.split = QBoxLayout(QBoxLayout.Direction.TopToBottom)
        self.split.setSpacing(40)
        self.photo = label("photo", center=True)
        self.photo.setFixedSize(300, 400)
        self._photo_of: bytes | None = None  # the chip photo shown (decoded once, not at every render)
        self._photo_decoded: QPixmap | None = None
        self.split.addWidget(self.photo, 0, Qt.AlignmentFlag.AlignHCenter)
        box = QWidget()
        self.grid = QGridLayout(box)
        self.grid.setHorizontalSpacing(30)
        self.grid.setVerticalSpacing(18)
        self.grid.setColumnStretch(1, 1)
        self.rows: list = []
        self.split.addWidget(box, 1)
        self.body.addStretch(1)
        self.body.addLayout(self.split)
        self.upgrade = label("hint", center=True)
        self.body.addWidget(self.upgrade)
        self.body.addStretch(1)
        self.no = button("secondary", lambda: self.send(j.GoHome()))
        self.yes = button("primary", lambda: self.send(j.Confirm()))
        self.footer.addWidget(self.no)
        self.footer.addWidget(self.yes)

    def render(self, journey, ctx) -> None:
        ident = journey.identity
        self.title.setText(self.t("ui.confirm.title"))
        if ident is None:
            return self.clear()
        unknown = self.t("ui.field.unknown")
        rows = [(self.t("ui.field.name"), shown_name(ident) or unknown),
                (self.t("ui.field.birth_date"), ident.birth_date.strftime("%d/%m/%Y") if ident.birth_date else unknown),
                (self.t("ui.field.id"), ident.masked_id),
                (self.t("ui.field.method"), method_text(ident, self.t))]
        coverage = coverage_text(journey, self.t)
        if coverage is not None:  # the BHYT check runs while the patient reads this screen
            rows.append((self.t("ui.coverage.label"), coverage[0]))
        _fields(rows, self.grid, self.rows)
        self._show_photo(ident.photo)
        chip = ident.assurance in (Assurance.CHIP_VERIFIED, Assurance.CHIP_UNVERIFIED)
        self.upgrade.setText(self.t("ui.confirm.upgrade"))
        self.upgrade.setVisible(not chip and ctx.reader_state not in ("none", "missing", "error"))
        self.no.setText(self.t("ui.confirm.no"))
        self.yes.setText(self.t("ui.confirm.yes"))

    def _show_photo(self, data: bytes | None) -> None:
        """The chip photo, decoded when it changes (a JPEG 2000 takes Pillow tens of
        milliseconds; the screen renders again at each answer), scaled to the frame's
        size now (large text changes it)."""
        if data is not self._photo_of:
            self._photo_of, self._photo_decoded = data, photo_pixmap(data)
        if self._photo_decoded is None:
            self.photo.clear()
        else:
            self.photo.setPixmap(self._photo_decoded.scaled(self.photo.size(), Qt.AspectRatioMode.KeepAspectRatio,
                                                            Qt.TransformationMode.SmoothTransformation))
        self.photo.setVisible(self._photo_decoded is not None)

    def clear(self) -> None:
        _fields([], self.grid, self.rows)
        self._photo_of = self._photo_decoded = None  # no personal data kept after the patient leaves
        self.photo.clear()

    def relayout(self) -> None:
        set_direction(self.split, self.is_landscape())


def room_text(department, room_code: str | None) -> tuple[str, str]:
    room = department.room(room_code) if department and room_code else None
    return (room.name, room.where) if room else (room_code or "", "")


class WhoBox(QFrame):
    """Who the kiosk thinks the patient is (short flow), and the BHYT card
    check's result (both flows), above the choices."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setProperty("role", "who")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        lay = QVBoxLayout(self)
        self.text = label("who-text")
        self.coverage = label("coverage")
        self.upgrade = label("hint")
        lay.addWidget(self.text)
        lay.addWidget(self.coverage)
        lay.addWidget(self.upgrade)

    def show_journey(self, journey, ctx, t, narrow: bool = False) -> None:
        ident = journey.identity
        who = journey.short_flow and ident is not None
        show_coverage(self.coverage, journey, t)
        self.setVisible(who or not self.coverage.isHidden())
        self.text.setVisible(who)
        if ident is None:
            return self.clear()
        self.text.setText(identity_summary(ident, t, narrow))
        chip = ident.assurance in (Assurance.CHIP_VERIFIED, Assurance.CHIP_UNVERIFIED)
        self.upgrade.setText(t("ui.confirm.upgrade"))
        self.upgrade.setVisible(who and not chip and ctx.reader_state not in ("none", "missing", "error"))

    def clear(self) -> None:
        self.text.setText("")
        self.coverage.setText("")


class AppointmentScreen(Screen):
    """Today's appointment was found: one touch to check in."""

    def __init__(self, send, parent=None):
        super().__init__(send, parent)
        self.who = WhoBox()
        self.body.addWidget(self.who)
        box = QWidget()
        self.grid = QGridLayout(box)
        self.grid.setHorizontalSpacing(30)
        self.grid.setVerticalSpacing(22)
        self.grid.setColumnStretch(1, 1)
        self.rows: list = []
        self.body.addWidget(box)
        self.body.addStretch(1)
        self.priority = PriorityToggles(send)
        self.body.addWidget(self.priority)
        self.cancel = button("secondary", lambda: self.send(j.GoHome()))
        self.confirm = button("primary", lambda: self.send(j.Confirm()))
        self.footer.addWidget(self.cancel)
        self.footer.addWidget(self.confirm)

    def render(self, journey, ctx) -> None:
        appt = journey.appointment
        self.title.setText(self.t("ui.appointment.title"))
        self.who.show_journey(journey, ctx, self.t)
        self.priority.show_journey(journey, self.t, self.large, self.is_landscape())
        if appt is None:
            return self.clear()
        dept = journey.department(appt.department_code)
        name = (dept.name_en or dept.name if self.lang == "en" else dept.name) if dept else (appt.department_code or "")
        room, where = room_text(dept, appt.room_code)
        rows = [(self.t("ui.appointment.time"), ctx.local_time(appt.start)),
                (self.t("ui.appointment.department"), name)]
        if room:
            rows.append((self.t("ui.appointment.room"), f"{room}\n{where}".strip()))
        _fields(rows, self.grid, self.rows)
        self.cancel.setText(self.t("ui.confirm.no" if journey.short_flow else "ui.action.cancel"))
        self.confirm.setText(self.t("ui.appointment.confirm"))

    def clear(self) -> None:
        _fields([], self.grid, self.rows)
        self.who.clear()


class PriorityScreen(Screen):
    """Self-declared priority (pregnancy, disability), asked only when the age rule does not apply."""

    def __init__(self, send, parent=None):
        super().__init__(send, parent)
        self.note = label("hint", center=True)
        self.body.addWidget(self.note)
        self.choices = {p: button("choice", lambda p=p: self.send(j.DeclarePriority(p)))
                        for p in j.DECLARABLE_PRIORITIES}
        self.body.addStretch(1)
        for btn in self.choices.values():
            self.body.addWidget(btn)
        self.none = button("primary", lambda: self.send(j.DeclarePriority(None)))
        self.body.addWidget(self.none)
        self.body.addStretch(1)
        self.home = button("secondary", lambda: self.send(j.GoHome()))
        self.footer.addWidget(self.home)

    def render(self, journey, ctx) -> None:
        self.title.setText(self.t("ui.priority.title"))
        self.note.setText(self.t("ui.priority.note"))
        offered = journey.declarable_priorities()
        for p, btn in self.choices.items():
            btn.setText(self.t(f"ui.priority.{p.value}"))
            btn.setVisible(p in offered)
        self.none.setText(self.t("ui.priority.none"))
        self.home.setText(self.t("ui.action.cancel"))
