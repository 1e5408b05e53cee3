"""The end of the journey: the queue number (large), where to go, and errors
that always say what to do next."""
from __future__ import annotations

from PySide6.QtWidgets import QBoxLayout, QVBoxLayout

from kiosk.journey import machine as j
from ui.screens.base import Screen, button, label, repolish, set_direction

ACTION_KEYS = {j.RETRY: "ui.action.retry", j.TYPE_ID: "ui.action.type_id", j.HOME: "ui.action.home"}


class DoneScreen(Screen):
    """The number, large, and where to go. Portrait: one column. Landscape: the
    number on the left, where to go on the right; with large text the number's
    column also takes the priority and the offline note (each has a twin label
    there, shown instead), and the screen's notice sits beside the buttons, so
    that everything is on screen without scrolling."""

    tight_when_compact = True  # number and directions side by side in large landscape
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
        self.priority_left = label("body", center=True)  # landscape with large text: under the number
        self.offline_left = label("hint", center=True)
        self.take_card_beside = label("notice", center=True)  # landscape with large text: beside the buttons
        self.take_card_beside.setProperty("compact", True)
        self.take_card_beside.hide()
        self.compact = False
        self._shown_flags = (False, False, False, False)  # (priority, offline, card on the reader, a notice)
        self.split = QBoxLayout(QBoxLayout.Direction.TopToBottom)
        self.split.setSpacing(24)
        for group in ((self.caption, self.number, self.department, self.priority_left, self.offline_left),
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
        self.footer.addWidget(self.take_card_beside, 3)
        self.footer.addWidget(self.again, 2)
        self.footer.addWidget(self.finish, 2)

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
        priority = self.t("ui.done.priority", what=self.t(f"ui.priority.{t.priority.value}")) if t.priority else ""
        self.priority.setText(priority)
        self.priority_left.setText(priority)
        self.take.setText(self.t("ui.done.take"))
        self.take.setVisible(journey.printed)
        self.offline.setText(self.t("ui.done.offline"))
        self.offline_left.setText(self.t("ui.done.offline"))
        self._shown_flags = (t.priority is not None, journey.offline, journey.card_present, bool(journey.notice))
        self._place_twins()
        self.take_card.setText(self.t("ui.done.take_card"))
        self.take_card_beside.setText(self.t("ui.done.take_card"))
        self.again.setText(self.t("ui.done.print_again"))
        self.again.setVisible(not journey.printed and journey.printer_ready)
        self.finish.setText(self.t("ui.done.finish"))

    def _place_twins(self) -> None:
        """Show each twin label where the layout wants it (moving a label between
        layouts would lose its wrapped height)."""
        priority, offline, card, notice = self._shown_flags
        c = self.compact
        self.priority.setVisible(priority and not c)
        self.priority_left.setVisible(priority and c)
        self.offline.setVisible(offline and not c)
        self.offline_left.setVisible(offline and c)
        beside = card and c and not notice  # the footer row holds the screen's notice, if any, else this
        self.take_card_beside.setVisible(beside)
        self.take_card.setVisible(card and not beside)

    def relayout(self) -> None:
        landscape = self.is_landscape()
        compact = self.is_compact()
        set_direction(self.split, landscape)
        self.notice_beside_buttons(compact)
        if compact != self.compact:
            self.compact = compact
            self.split.setSpacing(12 if compact else 24)
            self.take_card.setProperty("compact", compact)
            repolish(self.take_card)
            self._place_twins()

    def clear(self) -> None:
        for w in (self.number, self.department, self.room, self.where, self.priority, self.priority_left):
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
