"""The ward board's side of the HIS: reading the rooms' visits efficiently,
and calling / recalling / skipping patients.

Reading (``WardPoller``, one thread per board): the sandbox and most FHIR
servers give no ETag on searches and no Subscription, so the poller asks only
for what changed: ``Encounter?location=…&_lastUpdated=ge{last seen − 2 s}``
(one request for all the board's rooms every ``display.poll_interval_s``), and
re-reads the whole day every ``display.full_refresh_s`` (visits moved to
another room, day change, after an outage). When the HIS cannot be read the
board keeps its last state, marked stale ("not updated since HH:MM"), and
retries with a short back-off until it answers again.

Writing (``RoomCaller``): the next visit in the room's queue order becomes
``in-progress`` with PUT + If-Match; a 412 (someone else called first) means
re-read and call whoever is next now, so two quick clicks call two patients.
"""
from __future__ import annotations

import dataclasses
import logging
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Callable

from .clock import SystemClock
from .config import Config, ConfigError
from .domain import ClinicRoom
from .errors import HisConflict, HisError, KioskError
from .fhir.client import FhirClient
from .fhir.his import FhirHis
from .ward import BoardSnapshot, Call, Visit, WardModel, with_call, with_status

log = logging.getLogger("kiosk.ward")

CHANGE_MARGIN = timedelta(seconds=2)  # late-committed writes with an earlier lastUpdated
POLL_READ_TIMEOUT_S = 5.0  # a hanging HIS shows the banner within seconds; the next poll is the retry
MAX_BACKOFF_S = 5.0
CALL_ATTEMPTS = 5


class NothingToRecall(KioskError):
    """recall/skip in a room where nobody is being served."""

    patient_message_key = "board.nothing_called"


def resolve_rooms(config: Config, *, department: str = "", rooms: list[str] | tuple = (),
                  client: FhirClient | None = None) -> tuple[str, list[ClinicRoom]]:
    """The board's title and clinic rooms: a department's rooms or the listed
    ones, with their FHIR Location ids (read from the HIS)."""
    departments = FhirHis(config, client).list_departments()
    if department:
        dept = next((d for d in departments if d.code == department), None)
        if dept is None:
            raise ConfigError(f"display.department: {department!r} is not a department in the HIS")
        return dept.name, list(dept.rooms)
    if not rooms:
        raise ConfigError("display.department or display.rooms: expected a department code or room codes")
    by_code = {r.code: (d, r) for d in departments for r in d.rooms}
    missing = [code for code in rooms if code not in by_code]
    if missing:
        raise ConfigError(f"display.rooms: {missing[0]!r} is not a clinic room in the HIS")
    names = list(dict.fromkeys(by_code[code][0].name for code in rooms))
    title = " · ".join(names) if len(names) <= 2 else ""  # "" → the board's generic title
    return title, [by_code[code][1] for code in rooms]


def poll_client(config: Config) -> FhirClient:
    """The poller's own HIS client: no retries inside a poll (the next poll
    retries) and a short read timeout, so an outage shows at once."""
    his = dataclasses.replace(config.his, retries=0,
                              read_timeout_s=min(config.his.read_timeout_s, POLL_READ_TIMEOUT_S))
    return FhirClient(his)


def _location_param(rooms: list[ClinicRoom]) -> str:
    return ",".join(f"Location/{r.location_id}" for r in rooms if r.location_id)


def _day_params(now: datetime) -> list[tuple[str, str]]:
    start = now.replace(hour=0, minute=0, second=0, microsecond=0)
    return [("date", f"ge{start.isoformat()}"), ("date", f"lt{(start + timedelta(days=1)).isoformat()}")]


class WardPoller:
    """Keeps a ``WardModel`` in step with the HIS on its own thread and hands
    each new ``BoardSnapshot`` (and the new calls) to ``on_update``."""

    def __init__(self, config: Config, rooms: list[ClinicRoom], *, client: FhirClient | None = None,
                 clock=None, on_update: Callable[[BoardSnapshot, list[Call]], None] | None = None,
                 announcer=None):
        d = config.display
        self.config = config
        self.rooms = rooms
        self.client = client or poll_client(config)
        self.clock = clock or SystemClock(config.kiosk.timezone)
        self.on_update = on_update
        self.announcer = announcer
        self.interval = d.poll_interval_s
        self.full_every = d.full_refresh_s
        self.model = WardModel(rooms, interleave=d.priority_interleave, booking_grace_min=d.booking_grace_min,
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
            locations = _location_param(self.rooms)
            try:
                full = (self.model.day != now.date() or self.failures > 0
                        or time.monotonic() - self._last_full >= self.full_every
                        or self.model.max_last_updated is None)
                if full:
                    encs, _ = self.client.search("Encounter", [
                        ("location", locations), *_day_params(now), ("_count", "1000")])
                    calls = self.model.replace_all(encs, now.date(), now)
                    self._last_full = time.monotonic()
                else:
                    since = (self.model.max_last_updated - CHANGE_MARGIN).astimezone(timezone.utc)
                    encs, _ = self.client.search("Encounter", [
                        ("location", locations), ("_lastUpdated", f"ge{since.isoformat(timespec='milliseconds')}"),
                        ("_count", "1000")])
                    calls = self.model.merge(encs, now)
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
                if self.announcer is not None:  # devices.voice announcer (or anything with .call)
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
    action: str  # call-next / recall / skip
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
    """call-next / recall / skip for one board or the CLI."""

    def __init__(self, config: Config, rooms: list[ClinicRoom], *, client: FhirClient | None = None, clock=None):
        self.config = config
        self.rooms = {r.code: r for r in rooms}
        self.client = client or FhirClient(config.his)
        self.clock = clock or SystemClock(config.kiosk.timezone)

    def _read_room(self, code: str) -> tuple[WardModel, dict[str, dict]]:
        room = self.rooms.get(code)
        if room is None:
            raise ConfigError(f"--room: {code!r} is not one of this board's rooms")
        d = self.config.display
        model = WardModel([room], interleave=d.priority_interleave, booking_grace_min=d.booking_grace_min,
                          timezone=self.config.kiosk.timezone)
        now = self.clock.now()
        encs, _ = self.client.search("Encounter", [("location", _location_param([room])), *_day_params(now),
                                                    ("_count", "1000")])
        model.replace_all(encs, now.date())
        return model, {e["id"]: e for e in encs}

    def _put(self, enc: dict) -> None:
        self.client.update(enc, if_match=(enc.get("meta") or {}).get("versionId"))

    def call_next(self, room: str, *, finish_previous: bool = True, action: str = "call-next") -> CallOutcome:
        prev_label = prev_status = None
        for attempt in range(CALL_ATTEMPTS):
            model, raw = self._read_room(room)
            now = self.clock.now()
            try:
                serving = model.serving(room)
                if finish_previous and serving is not None:
                    self._put(with_status(raw[serving.id], "finished", now))
                    prev_label, prev_status = serving.label, "finished"
                order = model.waiting_order(room)
                if not order:
                    return CallOutcome(action, room, None, None, prev_label, prev_status, 0)
                head = order[0]
                self._put(with_call(raw[head.visit_id], now))
            except HisConflict:
                log.info("board: room %s changed while calling (attempt %d); re-reading", room, attempt + 1)
                continue
            log.info("board: %s called %s to room %s", action, head.label, room)
            return CallOutcome(action, room, head.label, head.visit_id, prev_label, prev_status, len(order) - 1)
        raise HisConflict(f"room {room}: the queue kept changing during {CALL_ATTEMPTS} attempts")

    def _change_serving(self, room: str, change) -> tuple[Visit, WardModel]:
        """Apply ``change`` to the Encounter of the patient being served in
        ``room`` (If-Match, re-read and retried when it changed meanwhile)."""
        for _ in range(CALL_ATTEMPTS):
            model, raw = self._read_room(room)
            serving = model.serving(room)
            if serving is None:
                raise NothingToRecall(f"room {room}: nobody has been called yet")
            try:
                self._put(change(raw[serving.id]))
            except HisConflict:
                continue
            return serving, model
        raise HisConflict(f"room {room}: the visit kept changing during {CALL_ATTEMPTS} attempts")

    def recall(self, room: str) -> CallOutcome:
        serving, model = self._change_serving(room, lambda enc: with_call(enc, self.clock.now(), recall=True))
        return CallOutcome("recall", room, serving.label, serving.id, waiting_after=len(model.waiting_order(room)))

    def skip(self, room: str, *, then_call_next: bool = True) -> CallOutcome:
        """The patient called last did not come: their Encounter becomes
        ``cancelled`` with a ``urn:kiosk:no-show`` time, then (by default) the
        next visit is called."""
        skipped, _ = self._change_serving(
            room, lambda enc: with_status(enc, "cancelled", self.clock.now(), no_show=True))
        if not then_call_next:
            return CallOutcome("skip", room, None, None, skipped.label, "cancelled")
        nxt = self.call_next(room, finish_previous=False, action="skip")
        return CallOutcome("skip", room, nxt.label, nxt.visit_id, skipped.label, "cancelled", nxt.waiting_after)

