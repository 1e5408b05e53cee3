"""The patient already has a number today for this department
(``kiosk.repeat_visits = "refuse"``): that number, large, where to go, a reprint
of the same ticket and "done" — the done screen's layout with its own words."""
from __future__ import annotations

from ui.screens.finish import DoneScreen


class AlreadyScreen(DoneScreen):
    def render(self, journey, ctx) -> None:
        super().render(journey, ctx)
        self.title.setText(self.t("ui.already.title"))
        result = journey.result
        if result is None:
            return
        t = result.ticket
        dept = journey.department(t.department_code)
        dept_name = (dept.name_en or dept.name) if (dept and self.lang == "en") else t.department_name
        self.caption.setText(self.t("ui.already.message", number=t.label, department=dept_name))
        self.again.setVisible(journey.printer_ready)  # the same ticket again, as often as asked
