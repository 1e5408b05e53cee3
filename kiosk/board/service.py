"""The calling board's work: keeping up with the rooms' visits, and calling /
recalling / skipping patients — through the ``kiosk.board.model.BoardHis`` port.

Reading (``BoardPoller``, one thread per board): the sandbox and most FHIR
servers give no ETag on searches and no Subscription, so the poller asks only
for what changed: ``Encounter?location=…&_lastUpdated=ge{last seen − 2 s}``
(one request for all the board's rooms every ``board.poll_interval_s``), and
re-reads the whole day every ``board.full_refresh_s`` (visits moved to
another room, day change, after an outage). When the HIS cannot be read the
board keeps its last state, marked stale ("not updated since HH:MM"), and
retries with a short back-off until it answers again.

Writing (``RoomCaller``): the next visit in the room's queue order is called
(the adapter writes it with If-Match); a conflict (someone else called first)
means re-read and call whoever is next now, so two quick clicks call two patients.
"""
from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Callable

from kiosk.board.model import ARRIVED, IN_PROGRESS, BoardHis, BoardModel, BoardSnapshot, Call, Visit
from kiosk.clock import SystemClock
from kiosk.config.loader import Config, ConfigError
from kiosk.domain import ClinicRoom
from kiosk.errors import HisConflict, HisError, KioskError
from kiosk.ports import Announcer

log = logging.getLogger("kiosk.board")

CHANGE_MARGIN = timedelta(seconds=2)  # late-committed writes with an earlier lastUpdated
MAX_BACKOFF_S = 5.0
CALL_ATTEMPTS = 5


class NothingToRecall(KioskError):
    """recall/start/skip in a room where nobody has been called."""

    patient_message_key = "board.nothing_called"


class AlreadyWithTheDoctor(KioskError):
    """skip of a patient whose visit has started (they came)."""

    patient_message_key = "board.already_started"


def resolve_rooms(his: BoardHis, *, department: str = "", rooms: list[str] | tuple = ()) -> tuple[str, list[ClinicRoom]]:
    """The board's title and clinic rooms: a department's rooms or the listed
    ones, with their HIS location ids (read from the HIS)."""
    departments = his.departments()
    if department:
        dept = next((d for d in departments if d.code == department), None)
        if dept is None:
            raise ConfigError(f"board.department: {department!r} is not a department in the HIS")
        return dept.name, list(dept.rooms)
    if not rooms:
        raise ConfigError("board.department or board.rooms: expected a department code or room codes")
    by_code = {r.code: (d, r) for d in departments for r in d.rooms}
    missing = [code for code in rooms if code not in by_code]
    if missing:
        raise ConfigError(f"board.rooms: {missing[0]!r} is not a clinic room in the HIS")
    names = list(dict.fromkeys(by_code[code][0].name for code in rooms))
    title = " · ".join(names) if len(names) <= 2 else ""  # "" → the board's generic title
    return title, [by_code[code][1] for code in rooms]


class BoardPoller:
    """Keeps a ``BoardModel`` in step with the HIS on its own thread and hands
    each new ``BoardSnapshot`` (and the new calls) to ``on_update``."""

    def __init__(self, config: Config, rooms: list[ClinicRoom], his: BoardHis, *, clock=None,
                 on_update: Callable[[BoardSnapshot, list[Call]], None] | None = None,
                 announcer: Announcer | None = None):
        d = config.board
        self.config = config
        self.rooms = rooms
        self.his = his
        self.clock = clock or SystemClock(config.kiosk.timezone)
        self.on_update = on_update
        self.announcer = announcer
        self.interval = d.poll_interval_s
        self.full_every = d.full_refresh_s
        self.model = BoardModel(rooms, interleave=d.priority_interleave, booking_grace_min=d.booking_grace_min,
                               next_count=d.next_count, recent_count=d.recent_count,
                               show_names=d.names == "masked", timezone=config.kiosk.timezone)
        self.updated_at: datetime | None = None
        self.failures = 0
        self.snapshot: BoardSnapshot = self.model.snapshot(None, stale=False)
        self._last_full = float("-inf")
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # --- one round ---
    def poll_once(self) -> tuple[BoardSnapshot, list[Call]]:
        with self._lock:
            now = self.clock.now()
            try:
                full = (self.model.day != now.date() or self.failures > 0
                        or time.monotonic() - self._last_full >= self.full_every
                        or self.model.max_last_updated is None)
                if full:
                    calls = self.model.replace_all(self.his.read_day(self.rooms, now), now.date(), now)
                    self._last_full = time.monotonic()
                else:
                    since = (self.model.max_last_updated - CHANGE_MARGIN).astimezone(timezone.utc)
                    calls = self.model.merge(self.his.read_changes(self.rooms, since), now)
            except HisError as exc:
                if self.failures == 0:
                    log.warning("board: HIS not readable, keeping the last state (%s)", exc)
                self.failures += 1
                self.snapshot = self.model.snapshot(self.updated_at, stale=True, problem=str(exc))
                return self.snapshot, []
            if self.failures:
                log.info("board: HIS readable again after %d failed reads", self.failures)
            self.failures = 0
            self.updated_at = now
            self.snapshot = self.model.snapshot(now)
            return self.snapshot, calls

    # --- thread ---
    def start(self) -> None:
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="board-poller", daemon=True)
            self._thread.start()

    def refresh_now(self) -> None:
        """Poll at once (after this board called someone)."""
        self._wake.set()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _run(self) -> None:
        while not self._stop.is_set():
            snapshot, calls = self.poll_once()
            for call in calls:
                log.info("board: calling %s to room %s", call.label, call.room_code)
                if self.announcer is not None:
                    self.announcer.call(call.room_code, call.room_name, call.label)
            if self.on_update is not None:
                try:
                    self.on_update(snapshot, calls)
                except Exception:
                    log.exception("board: update handler failed")
            delay = self.interval if not self.failures else min(self.interval * 2 ** self.failures, MAX_BACKOFF_S)
            self._wake.wait(delay)
            self._wake.clear()


@dataclass(frozen=True)
class CallOutcome:
    action: str  # call-next / recall / start / skip
    room: str
    label: str | None  # the number called now (None: nobody)
    visit_id: str | None
    previous_label: str | None = None
    previous_status: str | None = None
    waiting_after: int = 0

    def to_json(self) -> dict:
        return {"action": self.action, "room": self.room, "called": self.label, "encounter": self.visit_id,
                "previous": self.previous_label, "previous_status": self.previous_status,
                "waiting": self.waiting_after}


class RoomCaller:
    """call-next / recall / start / skip for one board or the CLI."""

    def __init__(self, config: Config, rooms: list[ClinicRoom], his: BoardHis, *, clock=None):
        self.config = config
        self.rooms = {r.code: r for r in rooms}
        self.his = his
        self.clock = clock or SystemClock(config.kiosk.timezone)

    def _read_room(self, code: str) -> BoardModel:
        room = self.rooms.get(code)
        if room is None:
            raise ConfigError(f"--room: {code!r} is not one of this board's rooms")
        d = self.config.board
        model = BoardModel([room], interleave=d.priority_interleave, booking_grace_min=d.booking_grace_min,
                           timezone=self.config.kiosk.timezone)
        now = self.clock.now()
        model.replace_all(self.his.read_day([room], now), now.date())
        return model

    def call_next(self, room: str, *, finish_previous: bool = True, action: str = "call-next") -> CallOutcome:
        """Call the head of the room's queue. The visit being seen (in-progress)
        is finished first unless ``finish_previous`` is False; a patient called
        before and not started yet keeps their call (start or skip them)."""
        prev_label = prev_status = None
        for attempt in range(CALL_ATTEMPTS):
            model = self._read_room(room)
            now = self.clock.now()
            try:
                serving = model.serving(room)
                if finish_previous and serving is not None and serving.status == IN_PROGRESS:
                    self.his.finish(serving.id, now)
                    prev_label, prev_status = serving.label, "finished"
                order = model.waiting_order(room)
                if not order:
                    return CallOutcome(action, room, None, None, prev_label, prev_status, 0)
                head = order[0]
                self.his.call(head.visit_id, now)
            except HisConflict:
                log.info("board: room %s changed while calling (attempt %d); re-reading", room, attempt + 1)
                continue
            log.info("board: %s called %s to room %s", action, head.label, room)
            return CallOutcome(action, room, head.label, head.visit_id, prev_label, prev_status, len(order) - 1)
        raise HisConflict(f"room {room}: the queue kept changing during {CALL_ATTEMPTS} attempts")

    def _change_serving(self, room: str, change: Callable[[Visit], None]) -> tuple[Visit, BoardModel]:
        """Apply ``change`` to the visit being served in ``room`` (re-read and
        retried when it changed meanwhile)."""
        for _ in range(CALL_ATTEMPTS):
            model = self._read_room(room)
            serving = model.serving(room)
            if serving is None:
                raise NothingToRecall(f"room {room}: nobody has been called yet")
            try:
                change(serving)
            except HisConflict:
                continue
            return serving, model
        raise HisConflict(f"room {room}: the visit kept changing during {CALL_ATTEMPTS} attempts")

    def recall(self, room: str) -> CallOutcome:
        serving, model = self._change_serving(room, lambda v: self.his.call(v.id, self.clock.now(), recall=True))
        return CallOutcome("recall", room, serving.label, serving.id, waiting_after=len(model.waiting_order(room)))

    def start(self, room: str) -> CallOutcome:
        """The patient called last came in: their visit starts (in-progress)."""
        def begin(v: Visit) -> None:
            if v.status == ARRIVED:
                self.his.start(v.id, self.clock.now())

        serving, model = self._change_serving(room, begin)
        return CallOutcome("start", room, serving.label, serving.id, waiting_after=len(model.waiting_order(room)))

    def skip(self, room: str, *, then_call_next: bool = True) -> CallOutcome:
        """The patient called last did not come: their visit is marked a no-show
        (out of the queue), then (by default) the next visit is called."""
        def no_show(v: Visit) -> None:
            if v.status != ARRIVED:
                raise AlreadyWithTheDoctor(f"room {room}: number {v.label} is already with the doctor ({v.status})")
            self.his.mark_no_show(v.id, self.clock.now())

        skipped, _ = self._change_serving(room, no_show)
        if not then_call_next:
            return CallOutcome("skip", room, None, None, skipped.label, "noshow")
        nxt = self.call_next(room, finish_previous=False, action="skip")
        return CallOutcome("skip", room, nxt.label, nxt.visit_id, skipped.label, "noshow", nxt.waiting_after)
