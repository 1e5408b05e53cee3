"""Department: the visit screen — today's appointment to confirm, or (a walk-in,
or the HIS out of reach) the departments to choose from. In the short flow the
same screen offers the self-declared priority (``TogglePriority``).

Entry: ``identity``, ``found`` — (the appointment or None, offline).
Exit: ``department_code`` (the appointment's, or the one chosen), ``appointment``
(None for a walk-in), ``priority`` when toggled here.
"""
from __future__ import annotations

from kiosk.journey.events import VISIT_STEPS, ChooseDepartment, Confirm, LoadDepartments, Retry, Step, TogglePriority
from kiosk.journey.steps import JourneyStep


class DepartmentStep(JourneyStep):
    name = "department"
    screens = (Step.APPOINTMENT, Step.DEPARTMENT)
    on = {Confirm: "confirmed", ChooseDepartment: "chosen", TogglePriority: "toggle_priority", Retry: "reload"}
    needs = ("identity", "found")
    gives = ("department_code",)

    def enter(self, j, notice: str | None = None) -> list:
        appointment, offline = j.found
        if appointment is not None:
            j.appointment = appointment
            j.go(Step.APPOINTMENT, notice)
            return [] if j.departments else [LoadDepartments()]
        j.offline = j.offline or offline
        j.go(Step.DEPARTMENT, notice="ui.notice.offline" if j.offline else notice)
        return [LoadDepartments()]  # fresh waiting counts (the cached list shows meanwhile)

    def confirmed(self, j, ev) -> list | None:
        if j.step is not Step.APPOINTMENT:
            return None
        j.department_code = j.appointment.department_code if j.appointment else None
        return j.exit(self)

    def chosen(self, j, ev: ChooseDepartment) -> list | None:
        if j.step is not Step.DEPARTMENT or j.department(ev.code) is None:
            return None
        j.department_code = ev.code
        j.appointment = None
        return j.exit(self)

    def toggle_priority(self, j, ev: TogglePriority) -> None:
        if j.step in VISIT_STEPS and j.age_priority is None and ev.priority in j.declarable_priorities():
            j.priority = None if j.priority is ev.priority else ev.priority

    def reload(self, j, ev) -> list | None:
        if j.step is Step.DEPARTMENT and j.departments_failed:
            j.departments_failed = False
            return [LoadDepartments()]
        return None


STEP = DepartmentStep()
