"""The demo's operator panel: what a tester does with the hardware — lay a
sample card on the reader, hold a sample CCCD QR code, a booked patient's
appointment QR or an old slip's patient-code barcode to the camera, run the printer out of paper, take the HIS offline —
and the printed ticket image."""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from PySide6.QtCore import Qt
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import (
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from kiosk.demo_data import demo_booking_code, demo_patient_code, demo_people, load_demo
from kiosk.insurance import outcomes as oc
from kiosk.ports import PRINTER_OFFLINE, PRINTER_OK, PRINTER_PAPER_LOW, PRINTER_PAPER_OUT, DemoControls
from ui.tour import cccd_qr

# What the gateway simulator answers about each demo person's card (assets/demo/hospital.json, bhyt.result).
BHYT_NOTES = {"000": "BHYT valid", "003": "BHYT new card (old expired)", "004": "BHYT new card",
              "010": "BHYT expired", "050": "no BHYT card"}
BHYT_OUTCOMES = {"010": oc.EXPIRED, "050": oc.NO_CARD}  # the rest: usable (other_facility when registered elsewhere)
# What the kiosk does on each action of [insurance.outcomes] (kiosk.insurance.outcomes), for the tester.
ACTION_NOTES = {oc.COUNTER: "sent to the desk", oc.FEE: "offered a fee-paying visit",
                oc.INSURED: "goes on as insured", oc.CHECK_LATER: "checked in, card checked later"}


class OperatorPanel(QWidget):
    def __init__(self, controller, controls: DemoControls, parent=None):
        super().__init__(parent)
        self.setWindowTitle("Kiosk demo — operator panel")
        self.controller, self.controls = controller, controls
        lay = QHBoxLayout(self)
        left = QVBoxLayout()
        lay.addLayout(left, 3)  # the sample people's lines need the width; the ticket image is narrow
        left.addWidget(self._people())
        left.addWidget(self._devices())
        left.addStretch(1)
        ticket_box = QGroupBox("Printed ticket (printer simulator)")
        tlay = QVBoxLayout(ticket_box)
        self.ticket = QLabel("No ticket printed yet.")
        self.ticket.setAlignment(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop)
        scroll = QScrollArea()
        scroll.setWidget(self.ticket)
        scroll.setWidgetResizable(True)
        tlay.addWidget(scroll)
        lay.addWidget(ticket_box, 1)
        controller.printed.connect(self._show_ticket)
        controller.status_changed.connect(self._status)
        self.state = QLabel()
        left.addWidget(self.state)
        self._status()

    def _people(self) -> QGroupBox:
        box = QGroupBox("Sample people (fictional)")
        grid = QGridLayout(box)
        grid.setColumnStretch(0, 1)
        c = self.controls
        reader, camera = c.simulates("card_reader"), c.simulates("camera")
        facility = load_demo()["hospital"]["facility_code"]
        policy = self._policy()
        for row, person in enumerate(demo_people()):
            key = person["key"]
            notes = []
            if person.get("appointment"):
                notes.append(f"booked {person['appointment']['time']} {person['appointment']['department']}")
            if not person.get("in_his"):
                notes.append("not in HIS")
            if person.get("duplicate_record_birth_date"):
                notes.append("duplicate record")
            bhyt = person.get("bhyt") or {}
            elsewhere = bhyt.get("facility", facility) != facility
            notes.append(BHYT_NOTES.get(bhyt.get("result", "050"), "BHYT card")
                         + (", registered elsewhere" if elsewhere else ""))
            outcome = BHYT_OUTCOMES.get(bhyt.get("result", "050"), oc.OTHER_FACILITY if elsewhere else None)
            if policy and outcome:
                notes[-1] += f" → {ACTION_NOTES[policy[outcome]]}"
            who = QLabel(f"{key} ({person['birth_date'][:4]}): {'; '.join(notes)}")
            who.setWordWrap(True)  # the panel fits beside (or under) the kiosk preview
            grid.addWidget(who, row, 0)
            if reader:
                grid.addWidget(self._button("Insert card", lambda k=key: c.insert_card(k)), row, 1)
            if camera:
                grid.addWidget(self._button("Show QR", lambda k=key: c.show_qr(cccd_qr(k), seconds=1.0)), row, 2)
                if person.get("in_his"):
                    code = demo_patient_code(person)
                    grid.addWidget(self._button(f"Old slip {code}", lambda code=code: c.show_slip(code, 1.0)),
                                   row, 3)
                if person.get("in_his") and person.get("appointment"):
                    grid.addWidget(self._button("Appointment QR", lambda p=person: c.show_qr(
                        self.booking_code(p), seconds=1.0)), row, 4)
        if reader:
            grid.addWidget(self._button("Remove card", c.remove_card), len(demo_people()), 1)
        if camera:
            grid.addWidget(self._button("Blurred QR", c.show_unreadable_qr), len(demo_people()), 2)
        return box

    def _devices(self) -> QGroupBox:
        box = QGroupBox("Devices and network")
        row = QGridLayout(box)
        if self.controls.simulates("printer"):
            for i, state in enumerate((PRINTER_OK, PRINTER_PAPER_LOW, PRINTER_PAPER_OUT, PRINTER_OFFLINE)):
                row.addWidget(self._button(f"Printer: {state}", lambda s=state: self._printer(s)), 0, i)
        if self.controls.simulates("his"):
            row.addWidget(self._button("HIS down (503)", self.controls.his_down), 1, 0, 1, 2)
            row.addWidget(self._button("HIS back", self.controls.his_up), 1, 2, 1, 2)
        if self.controls.simulates("gateway"):  # the BHXH gateway simulator (BHYT card checks)
            for i, (text, mode) in enumerate((("BHXH gateway down", "down"), ("BHXH gateway slow", "slow"),
                                              ("BHXH gateway back", "up"))):
                row.addWidget(self._button(text, lambda m=mode: self.controls.set_gateway(m)), 2, i, 1, 1)
            policy = self._policy()
            if policy:  # what each answer leads to: [insurance.outcomes] of the config
                shown = QLabel(f"BHYT policy — gateway down or slow → {ACTION_NOTES[policy[oc.UNAVAILABLE]]}; "
                               f"{oc.describe(policy)}")
                shown.setObjectName("bhyt_policy")
                shown.setWordWrap(True)
                row.addWidget(shown, 3, 0, 1, 4)
        return box

    def booking_code(self, person: dict) -> str:
        """Today's booking code of a booked demo person (the sandbox HIS seeds
        today's appointments, today in the hospital's time zone)."""
        today = datetime.now(ZoneInfo(self.controller.config.kiosk.timezone)).date()
        return demo_booking_code(person, today)

    def _policy(self) -> dict | None:
        """The BHYT outcome table the kiosk runs with (None: it checks no cards)."""
        policy = getattr(self.controls, "insurance_policy", None)
        return policy() if policy else None

    @staticmethod
    def _button(text: str, action) -> QPushButton:
        btn = QPushButton(text)
        btn.clicked.connect(lambda _c=False: action())
        return btn

    def _printer(self, state: str) -> None:
        self.controls.set_printer_state(state)
        self.controller.bridge.refresh_printer()

    def _show_ticket(self, ticket) -> None:
        png = self.controls.last_ticket_png() if self.controls.simulates("printer") else None
        if png:
            pixmap = QPixmap()
            pixmap.loadFromData(png)
            self.ticket.setPixmap(pixmap)

    def _status(self) -> None:
        c = self.controller
        self.state.setText(f"HIS: {c.connectivity} · printer: {c.printer_status} · "
                           f"reader: {c.reader_state} · camera: {c.camera_state}")
