"""The end of the journey: the queue number (large), where to go, and errors
that always say what to do next."""
from __future__ import annotations

from PySide6.QtWidgets import QBoxLayout, QVBoxLayout

from kiosk import journey as j

from .base import Screen, button, label, set_direction

ACTION_KEYS = {j.RETRY: "ui.action.retry", j.TYPE_ID: "ui.action.type_id", j.HOME: "ui.action.home"}


class DoneScreen(Screen):
    def __init__(self, send, parent=None):
        super().__init__(send, parent)
        self.caption = label("body", center=True)
        self.number = label("big-number", wrap=False, center=True)
        self.department = label("body", center=True)
        self.room = label("room", center=True)
        self.where = label("body", center=True)
        self.priority = label("body", center=True)
        self.take = label("body", center=True)
        self.offline = label("hint", center=True)
        self.take_card = label("notice", center=True)
        # Portrait: one column. Landscape: the number on the left, where to go on the right.
        self.split = QBoxLayout(QBoxLayout.Direction.TopToBottom)
        self.split.setSpacing(24)
        for group in ((self.caption, self.number, self.department),
                      (self.room, self.where, self.priority, self.take, self.offline, self.take_card)):
            # Centred by stretches, not by an alignment: an aligned layout gets its size-hint
            # height, which ignores how many lines its wrapped labels really need.
            column = QVBoxLayout()
            column.addStretch(1)
            for w in group:
                column.addWidget(w)
            column.addStretch(1)
            self.split.addLayout(column, 1)
        self.body.addStretch(1)
        self.body.addLayout(self.split)
        self.body.addStretch(1)
        self.again = button("secondary", lambda: self.send(j.Retry()))
        self.finish = button("primary", lambda: self.send(j.GoHome()))
        self.footer.addWidget(self.again)
        self.footer.addWidget(self.finish)

    def render(self, journey, ctx) -> None:
        self.title.setText(self.t("ui.done.title"))
        result = journey.result
        if result is None:
            return self.clear()
        t = result.ticket
        dept = journey.department(t.department_code)
        dept_name = (dept.name_en or dept.name) if (dept and self.lang == "en") else t.department_name
        self.caption.setText(self.t("ui.done.number"))
        self.number.setText(t.label)
        long_label = len(t.label) > 4  # offline labels such as "K1-012"
        if self.number.property("role") != ("big-number-long" if long_label else "big-number"):
            self.number.setProperty("role", "big-number-long" if long_label else "big-number")
            self.number.style().unpolish(self.number)
            self.number.style().polish(self.number)
        self.department.setText(dept_name)
        self.room.setText(self.t("ui.done.go_to", room=t.room_name or t.room_code))
        self.where.setText(t.room_where)
        self.where.setVisible(bool(t.room_where))
        self.priority.setText(self.t("ui.done.priority", what=self.t(f"ui.priority.{t.priority.value}"))
                              if t.priority else "")
        self.priority.setVisible(t.priority is not None)
        self.take.setText(self.t("ui.done.take"))
        self.take.setVisible(journey.printed)
        self.offline.setText(self.t("ui.done.offline"))
        self.offline.setVisible(journey.offline)
        self.take_card.setText(self.t("ui.done.take_card"))
        self.take_card.setVisible(journey.card_present)
        self.again.setText(self.t("ui.done.print_again"))
        self.again.setVisible(not journey.printed and journey.printer_ready)
        self.finish.setText(self.t("ui.done.finish"))

    def relayout(self) -> None:
        set_direction(self.split, self.is_landscape())

    def clear(self) -> None:
        for w in (self.number, self.department, self.room, self.where, self.priority):
            w.setText("")


class ErrorScreen(Screen):
    def __init__(self, send, parent=None):
        super().__init__(send, parent)
        self.message = label("error", center=True)
        self.use_qr = label("body", center=True)
        self.counter = label("body", center=True)
        self.body.addStretch(1)
        self.body.addWidget(self.message)
        self.body.addWidget(self.use_qr)
        self.body.addWidget(self.counter)
        self.body.addStretch(1)
        events = {j.RETRY: j.Retry, j.TYPE_ID: j.OpenKeypad, j.HOME: j.GoHome}
        self.actions = {a: button("primary" if a == j.RETRY else "secondary", lambda a=a: self.send(events[a]()))
                        for a in (j.HOME, j.TYPE_ID, j.RETRY)}
        self.stacked_footer = True  # up to three full-width choices
        for action in (j.HOME, j.TYPE_ID, j.RETRY):  # stacked bottom to top: "try again" first
            self.footer.addWidget(self.actions[action])

    def render(self, journey, ctx) -> None:
        self.title.setText(self.t("ui.error.title"))
        err = journey.error
        self.message.setText(self.t(err.key) if err else "")
        self.counter.setText(self.t("ui.error.counter"))
        wanted = err.actions if err else (j.HOME,)
        self.use_qr.setText(self.t("ui.error.use_qr"))
        self.use_qr.setVisible(j.USE_QR in wanted)
        for action, btn in self.actions.items():
            btn.setText(self.t(ACTION_KEYS[action]))
            btn.setVisible(action in wanted)
