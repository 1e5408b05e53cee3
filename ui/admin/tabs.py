"""The four tabs of the admin screen: status (doctor), devices, outbox, settings.

Tabs never do I/O themselves: they call ``AdminActions`` through the task
runner and update their widgets when the result comes back on the GUI thread.
"""
from __future__ import annotations

from typing import Callable

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QIntValidator
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from kiosk.operations.diagnostics import FAIL, OK, WARN
from ui.admin.style import STATUS_COLOURS
from ui.admin.texts import tr


def _button(text: str, kind: str = "", on_click: Callable[[], None] | None = None) -> QPushButton:
    btn = QPushButton(text)
    if kind:
        btn.setProperty("kind", kind)
    btn.setFocusPolicy(Qt.FocusPolicy.NoFocus)
    if on_click:
        btn.clicked.connect(lambda _=False: on_click())
    return btn


def _message_label() -> QLabel:
    lab = QLabel()
    lab.setProperty("role", "message")
    lab.setWordWrap(True)
    lab.setTextFormat(Qt.TextFormat.PlainText)
    return lab


def show_message(lab: QLabel, text: str, ok: bool) -> None:
    lab.setProperty("ok", "true" if ok else "false")
    lab.style().unpolish(lab)
    lab.style().polish(lab)
    lab.setText(text)


class StatusTab(QWidget):
    """`kiosk doctor` results: status, check, what was found, what to do."""

    def __init__(self, host, parent=None):
        super().__init__(parent)
        self.host, lang = host, host.lang
        layout = QVBoxLayout(self)
        top = QHBoxLayout()
        self.summary = QLabel()
        self.summary.setProperty("role", "summary")
        self.run_button = _button(tr("admin.status.run", lang), on_click=self.run)
        top.addWidget(self.summary, 1)
        top.addWidget(self.run_button)
        layout.addLayout(top)
        self.table = QTableWidget(0, 3)
        self.table.setHorizontalHeaderLabels(["", tr("admin.status.check", lang), tr("admin.status.detail", lang)])
        self.table.verticalHeader().hide()
        self.table.setWordWrap(True)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        layout.addWidget(self.table, 1)
        self.checks = []

    def run(self) -> None:
        self.run_button.setEnabled(False)
        self.summary.setText(tr("admin.status.running", self.host.lang))
        self.host.runner.run(self.host.actions.doctor, self.show_checks)

    def show_checks(self, checks) -> None:
        self.checks = list(checks)
        self.run_button.setEnabled(True)
        self.table.setRowCount(len(self.checks))
        for row, c in enumerate(self.checks):
            status = QTableWidgetItem(c.status)
            status.setForeground(QColor(STATUS_COLOURS.get(c.status, "#000")))
            font = status.font()
            font.setBold(True)
            status.setFont(font)
            self.table.setItem(row, 0, status)
            self.table.setItem(row, 1, QTableWidgetItem(c.name))
            text = c.detail if c.status == OK or not c.fix else f"{c.detail}\n→ {c.fix}"
            self.table.setItem(row, 2, QTableWidgetItem(text))
        self.table.resizeRowsToContents()
        counts = {s: sum(c.status == s for c in self.checks) for s in (OK, WARN, FAIL)}
        self.summary.setText(tr("admin.status.summary", self.host.lang, ok=counts[OK], warn=counts[WARN],
                                fail=counts[FAIL]))


class DevicesTab(QWidget):
    """Choose reader, camera and printer among what is attached; test them."""

    def __init__(self, host, parent=None):
        super().__init__(parent)
        self.host, lang = host, host.lang
        layout = QVBoxLayout(self)
        form = QFormLayout()
        form.setVerticalSpacing(14)
        self.reader = QComboBox()
        self.camera = QComboBox()
        self.printer = QComboBox()
        self.printer.setEditable(True)  # a network printer can be typed: network:10.0.0.5:9100
        self.printer.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        form.addRow(tr("admin.devices.reader", lang), self.reader)
        form.addRow(tr("admin.devices.camera", lang), self.camera)
        form.addRow(tr("admin.devices.printer", lang), self.printer)
        layout.addLayout(form)
        row = QHBoxLayout()
        self.detect_button = _button(tr("admin.devices.detect", lang), "secondary", self.detect)
        self.save_button = _button(tr("admin.devices.save", lang), on_click=self.save)
        row.addWidget(self.detect_button)
        row.addStretch(1)
        row.addWidget(self.save_button)
        layout.addLayout(row)
        tests = QHBoxLayout()
        self.print_button = _button(tr("admin.devices.test_print", lang), "secondary", self.test_print)
        self.can = QLineEdit()
        self.can.setPlaceholderText(tr("admin.devices.can_hint", lang))
        self.can.setMaxLength(6)
        self.can.setMinimumWidth(320)
        self.can.setValidator(QIntValidator(0, 999999, self))
        self.card_button = _button(tr("admin.devices.test_card", lang), "secondary", self.test_card)
        tests.addWidget(self.print_button)
        tests.addStretch(1)
        tests.addWidget(self.can)
        tests.addWidget(self.card_button)
        layout.addLayout(tests)
        self.message = _message_label()
        layout.addWidget(self.message)
        layout.addStretch(1)
        self.fill({"reader": [], "camera": [], "printer": []})

    # choices ------------------------------------------------------------------
    def _current(self) -> dict[str, tuple[str, dict]]:
        c, lang = self.host.actions.config, self.host.lang
        reader = c.card_reader.driver + (f": {c.card_reader.reader}" if c.card_reader.reader else "")
        camera = c.camera.driver + (f": {c.camera.source}" if c.camera.driver == "opencv" else "")
        printer = c.printer.driver + (f": {c.printer.connection}" if c.printer.connection else "")
        cur = lambda v: tr("admin.devices.current", lang, v=v)  # noqa: E731
        return {"reader": (cur(reader), {}), "camera": (cur(camera), {}), "printer": (cur(printer), {})}

    def fill(self, detected: dict[str, list]) -> None:
        lang = self.host.lang
        current = self._current()
        for kind, combo, section in (("reader", self.reader, "card_reader"), ("camera", self.camera, "camera"),
                                     ("printer", self.printer, "printer")):
            combo.clear()
            options = [current[kind],
                       (tr("admin.devices.none", lang), {f"{section}.driver": "none"}),
                       (tr("admin.devices.simulator", lang), {f"{section}.driver": "simulator"}),
                       *detected.get(kind, [])]
            for text, changes in options:
                combo.addItem(text, changes)
            combo.setCurrentIndex(0)

    def detect(self) -> None:
        self.detect_button.setEnabled(False)
        self.host.runner.run(self.host.actions.detect_devices, self._detected)

    def _detected(self, found: dict) -> None:
        self.detect_button.setEnabled(True)
        self.fill(found)

    def pending_changes(self) -> dict:
        changes = {}
        for combo in (self.reader, self.camera):
            changes.update(combo.currentData() or {})
        typed = self.printer.currentText().strip()
        index = self.printer.findText(typed)
        if index >= 0:
            changes.update(self.printer.itemData(index) or {})
        elif typed:
            changes.update({"printer.driver": "escpos", "printer.connection": typed})
        return changes

    def save(self) -> None:
        changes = self.pending_changes()
        if not changes:
            return
        self.host.save(changes, self.message, on_saved=lambda: self.fill({}))

    # tests --------------------------------------------------------------------
    def test_print(self) -> None:
        self.print_button.setEnabled(False)
        show_message(self.message, tr("admin.busy", self.host.lang), True)
        self.host.runner.run(self.host.actions.test_print, self._tested_print)

    def _tested_print(self, outcome) -> None:
        self.print_button.setEnabled(True)
        show_message(self.message, outcome.text, outcome.ok)

    def test_card(self) -> None:
        can = self.can.text()
        self.can.clear()  # the CAN is part of the ID number: do not leave it on screen
        self.card_button.setEnabled(False)
        show_message(self.message, tr("admin.busy", self.host.lang), True)
        self.host.runner.run(lambda: self.host.actions.test_card_read(can), self._tested_card)

    def _tested_card(self, outcome) -> None:
        self.card_button.setEnabled(True)
        show_message(self.message, outcome.text, outcome.ok)


class OutboxTab(QWidget):
    def __init__(self, host, parent=None):
        super().__init__(parent)
        self.host, lang = host, host.lang
        layout = QVBoxLayout(self)
        top = QHBoxLayout()
        self.summary = QLabel()
        self.summary.setProperty("role", "summary")
        self.summary.setWordWrap(True)
        top.addWidget(self.summary, 1)
        self.refresh_button = _button(tr("admin.outbox.refresh", lang), "secondary", self.refresh)
        self.retry_button = _button(tr("admin.outbox.retry", lang), on_click=self.retry)
        top.addWidget(self.refresh_button)
        top.addWidget(self.retry_button)
        layout.addLayout(top)
        self.rows = QListWidget()
        self.rows.setWordWrap(True)
        self.rows.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        layout.addWidget(self.rows, 1)
        self.message = _message_label()
        layout.addWidget(self.message)

    def refresh(self) -> None:
        self.host.runner.run(self.host.actions.outbox_view, self.show_view)

    def show_view(self, view) -> None:
        lang = self.host.lang
        self.retry_button.setEnabled(view.available)
        if not view.available:
            self.summary.setText(tr("admin.outbox.unavailable", lang))
            self.rows.clear()
            return
        age = "-" if view.oldest_age_s is None else f"{view.oldest_age_s / 60:.0f} min"
        summary = tr("admin.outbox.summary", lang, n=view.backlog, age=age) + "\n" + tr(
            "admin.outbox.insurance", lang, n=view.insurance_backlog)
        if view.incidents:  # a damaged/emptied/replaced database: "0 waiting" is not the whole truth
            summary = "\n".join(["⚠ " + text for text in view.incidents] + [summary])
        self.summary.setText(summary)
        self.summary.setProperty("alert", bool(view.incidents))
        self.rows.clear()
        self.rows.addItems(view.rows or [])

    def retry(self) -> None:
        self.retry_button.setEnabled(False)
        self.host.runner.run(self.host.actions.retry_outbox, self._retried)

    def _retried(self, outcome) -> None:
        show_message(self.message, outcome.text, outcome.ok)
        self.refresh()


class SettingsTab(QWidget):
    exit_requested = Signal()

    def __init__(self, host, parent=None):
        super().__init__(parent)
        self.host, lang = host, host.lang
        layout = QVBoxLayout(self)
        form = QFormLayout()
        self.language = QComboBox()
        self.language.addItem("Tiếng Việt", "vi")
        self.language.addItem("English", "en")
        self.language.setCurrentIndex(max(0, self.language.findData(host.actions.config.kiosk.language)))
        form.addRow(tr("admin.settings.language", lang), self.language)
        layout.addLayout(form)
        row = QHBoxLayout()
        row.addStretch(1)
        self.save_button = _button(tr("admin.devices.save", lang), on_click=self.save)
        row.addWidget(self.save_button)
        layout.addLayout(row)
        self.message = _message_label()
        layout.addWidget(self.message)
        layout.addStretch(1)
        hint = QLabel(tr("admin.settings.exit_hint", lang))
        hint.setWordWrap(True)
        layout.addWidget(hint)
        self.exit_button = _button(tr("admin.settings.exit", lang), "danger", self.exit_requested.emit)
        layout.addWidget(self.exit_button)

    def save(self) -> None:
        self.host.save({"kiosk.language": self.language.currentData()}, self.message)


__all__ = ["StatusTab", "DevicesTab", "OutboxTab", "SettingsTab"]
