"""The journey's patient-facing steps, one module each; their order is the table in
``kiosk.journey.table``.

A step is a stateless object: the state is the journey's (``kiosk.journey.machine.Journey``),
which the step reads and changes through the journey's small API (``go``, ``fail``,
``next_op``, ``exit`` …). What a step declares:

- ``name``, and the ``screens`` it owns (``kiosk.journey.events.Step`` members, or a
  new step's own str-valued enum): while one of them is shown, the step gets the
  events it lists in ``on`` (event class → method name), the timer (``timed_out``)
  and the answer to the effect it asked for (``done`` / ``failed``);
- ``anywhere``: events it takes whatever the screen (the identify step: a card laid
  on the reader, a code shown to the camera);
- ``timeouts``: how long each of its screens may last (a ``Settings`` attribute name,
  or None for no limit; a screen not listed waits ``idle_timeout_s``) and ``busy``, the
  screens where the kiosk works and the patient only waits;
- its entry — ``needs``, the journey attributes set when it is entered; ``skip(j)``,
  True when this patient does not need it; ``enter(j, notice)``, which shows its
  screen (or decides at once) and returns the effects to run;
- its exit — ``gives``, the journey attributes it has set when it calls
  ``j.exit(self, notice)``: the journey then enters the table's next row that is not
  skipped (after the last one, the check-in). A step never names the step after it.
"""
from __future__ import annotations

from typing import Any, Callable


class JourneyStep:
    """The defaults: no screens, no events, never skipped, entered by showing its first screen."""

    name: str = ""
    screens: tuple = ()
    on: dict[type, str] = {}
    anywhere: dict[type, str] = {}
    timeouts: dict[Any, str | None] = {}
    busy: frozenset = frozenset()
    needs: tuple[str, ...] = ()
    gives: tuple[str, ...] = ()

    def skip(self, j) -> bool:
        return False

    def enter(self, j, notice: str | None = None) -> list:
        j.go(self.screens[0], notice)
        return []

    def timed_out(self, j) -> list | None:
        """The current screen's time is up (default: back to the welcome screen)."""
        j.reset()
        return None

    def done(self, j, value) -> list | None:
        """The effect asked on this step's screen is done."""
        return None

    def failed(self, j, err: BaseException, key: str) -> list | None:
        """The effect asked on this step's screen failed (``key``: the patient's message)."""
        return None

    def side_ops(self, j) -> dict[int | None, tuple[Callable, Callable]]:
        """Work running beside the screen (op number → (done, failed) callables)."""
        return {}

    def handler(self, event_type: type, *, anywhere: bool = False) -> Callable | None:
        name = (self.anywhere if anywhere else self.on).get(event_type)
        return getattr(self, name) if name else None

    def __repr__(self) -> str:
        return f"<journey step {self.name}>"
