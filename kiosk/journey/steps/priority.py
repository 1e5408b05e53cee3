"""Priority: the self-declared priority (pregnant, disability) on a screen of its own
(the step-by-step flow; the short flow offers it on the visit screen instead).

Skipped in the short flow and for a patient entitled by age (``Journey.age_priority``).
Entry: ``identity`` (its sex: a man is not offered "pregnant").
Exit: ``priority`` (None: no priority declared).
"""
from __future__ import annotations

from kiosk.journey.events import DECLARABLE_PRIORITIES, Confirm, DeclarePriority, Step
from kiosk.journey.steps import JourneyStep


class PriorityStep(JourneyStep):
    name = "priority"
    screens = (Step.PRIORITY,)
    on = {Confirm: "confirmed", DeclarePriority: "declared"}
    needs = ("identity",)
    gives = ("priority",)

    def skip(self, j) -> bool:
        return j.short_flow or j.age_priority is not None

    def confirmed(self, j, ev) -> list | None:
        return j.exit(self) if j.step is Step.PRIORITY else None

    def declared(self, j, ev: DeclarePriority) -> list | None:
        if j.step is Step.PRIORITY and (ev.priority is None or ev.priority in DECLARABLE_PRIORITIES):
            j.priority = ev.priority
            return j.exit(self)
        return None


STEP = PriorityStep()
