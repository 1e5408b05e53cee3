"""Offline-first check-in: the offline stage of the check-in pipeline.

``OutboxCheckIn`` is the stage of ``kiosk.checkin.pipeline.CheckInPipeline``
that keeps the kiosk issuing tickets when the HIS does not answer (the SQLite
side lives in ``offline_cache``):

- Online mode: the pipeline runs the online check-in on its executor with a
  deadline (``offline.go_offline_after_s``). ``HisUnavailable`` (timeouts,
  connection errors, 5xx) or no answer before the deadline switches the kiosk
  to offline mode and the same check-in is queued locally at once. Other
  errors (patient ambiguous, department unknown, 4xx) are the patient's answer
  and propagate.
- Offline mode: no HIS call at all. Department from the cached reference
  data, a queue number from this kiosk's reserved range, the local record and
  its outbox entry written in one transaction, a ticket marked offline.

An online attempt that outlives the deadline is not abandoned: it goes on and
may still reach the HIS. It carries the same check-in id, so the outbox sender
finds that visit instead of creating a second one (its entry is marked
``online_attempted``: it asks the HIS first, and every write is a conditional
create keyed by the check-in id), and puts the offline label on it (the paper
ticket the patient holds stays valid).

Offline queue numbers (the rule IT needs to know)
-------------------------------------------------
Every kiosk has a *slot* ``k`` (1–999): the number at the end of ``kiosk.id``
("KIOSK-01" → 1, "kiosk-12" → 12), or, when ``kiosk.offline_number_base`` is
set, ``k = (base − 1,000,000) / 10,000``. Its offline tickets of a day are
numbered ``1,000,000 + k × 10,000 + n`` (n = 1, 2, … per kiosk per day, at most
9,999) and labelled ``K{k}-{n:03d}`` ("K1-005"). Online numbers come from the
HIS's per-department daily counter and stay far below 1,000,000, and two
kiosks with different slots have disjoint ranges and different labels — so an
offline number never collides with an online one or another kiosk's. Two
kiosks must not share a slot: give them ids ending in different numbers, or
set ``offline_number_base`` explicitly.
"""
from __future__ import annotations

import logging
import re
import time
from datetime import date
from typing import Callable, Protocol

from kiosk.checkin.visit_rules import departments_by_code, make_ticket, pick_room, place, visit_priority
from kiosk.config.loader import Config, KioskSection
from kiosk.domain import CheckInRequest, CheckInResult, Department, Ticket
from kiosk.errors import (
    ConfigError,
    DepartmentRequired,
    KioskError,
    UnknownDepartment,
)
from kiosk.operations import metrics
from kiosk.ports import MODE_ONLINE, Clock, ConnectivityMonitor

log = logging.getLogger(__name__)

OFFLINE_FLOOR = 1_000_000
SLOT_SIZE = 10_000
MAX_SLOT = 999


class OfflineUnavailable(KioskError):
    """The HIS is unreachable and the kiosk cannot check in offline either
    (no cached reference data yet, or no offline number slot configured)."""

    patient_message_key = "error.offline_unavailable"


# --- the numbering rule --------------------------------------------------------


def offline_slot(kiosk: KioskSection) -> int:
    """This kiosk's slot k (see the module docstring); ConfigError when none."""
    base = kiosk.offline_number_base
    if base:
        k, rest = divmod(base - OFFLINE_FLOOR, SLOT_SIZE)
        if base < OFFLINE_FLOOR + SLOT_SIZE or rest or k > MAX_SLOT:
            raise ConfigError(f"kiosk.offline_number_base: expected 1,000,000 + k × 10,000 with k = 1–{MAX_SLOT} "
                              f"(e.g. 1010000 for slot 1), got {base}")
        return k
    m = re.search(r"(\d+)$", kiosk.id)
    k = int(m.group(1)) if m else 0
    if not 1 <= k <= MAX_SLOT:
        raise ConfigError(f"kiosk.id {kiosk.id!r} does not end in a number 1–{MAX_SLOT}: set "
                          "kiosk.offline_number_base (1,000,000 + k × 10,000) to give this kiosk an offline slot")
    return k


def offline_number(slot: int, seq: int) -> int:
    if not 1 <= seq < SLOT_SIZE:
        raise OfflineUnavailable(f"offline numbers of slot {slot} exhausted for today ({seq})")
    return OFFLINE_FLOOR + slot * SLOT_SIZE + seq


def offline_label(slot: int, seq: int) -> str:
    return f"K{slot}-{seq:03d}"


def is_offline_number(number: int) -> bool:
    return number >= OFFLINE_FLOOR


# --- ports this handler needs (implemented in offline_cache) ------------------------


class OfflineStore(Protocol):
    """The durable outbox plus the one call the
    offline check-in needs: reserve the next number of the day and write the
    local record and the outbox entry in one transaction."""

    def enqueue_offline(self, request: CheckInRequest, day: date,
                        make_ticket: Callable[[int], Ticket], *, online_attempted: bool) -> Ticket:
        """Returns the ticket (the earlier one if this check-in id was already queued)."""
        ...

    def backlog(self) -> int: ...

    def ticket_today(self, citizen_id: str, day: date, department_code: str, *,
                     other_than: str = "") -> Ticket | None:
        """The patient's earlier offline ticket of ``day`` for the department, if any."""
        ...


class ReferenceData(Protocol):
    def departments(self) -> list[Department]:
        """Departments with their clinic rooms and opening hours, as last cached."""
        ...


class OutboxCheckIn:
    """The offline stage of the check-in pipeline (``kiosk.checkin.pipeline``):
    the outbox, the cached reference data and the connectivity monitor, and the
    deadline ``offline.go_offline_after_s`` the online attempt gets before the
    patient is given an offline ticket. It starts no thread: the pipeline runs
    the online attempt on its executor and calls ``check_in_offline``."""

    def __init__(self, store: OfflineStore, reference: ReferenceData, monitor: ConnectivityMonitor,
                 clock: Clock, config: Config):
        self.store = store
        self.reference = reference
        self.monitor = monitor
        self.clock = clock
        self.config = config
        self.deadline_s = config.offline.go_offline_after_s

    def online(self) -> bool:
        """Whether an online attempt is made (the kiosk is not in offline mode)."""
        return self.monitor.mode() == MODE_ONLINE

    def check_in_offline(self, request: CheckInRequest, *, online_attempted: bool = False) -> CheckInResult:
        started = time.perf_counter()
        try:
            slot = offline_slot(self.config.kiosk)
        except ConfigError as exc:
            raise OfflineUnavailable(str(exc)) from None
        departments = departments_by_code(self.reference.departments())
        if not departments:
            raise OfflineUnavailable("no cached reference data yet: the kiosk has not been online since install")
        if not request.department_code:
            raise DepartmentRequired("offline: the patient must choose a department")
        try:
            department, _ = place(departments, None, request.department_code)
        except UnknownDepartment:
            raise UnknownDepartment(f"department {request.department_code!r} is not in the cached reference data "
                                    "or has no room") from None
        identity = request.identity
        now = self.clock.now()
        day = now.date()
        priority = visit_priority(request.declared_priority, identity.birth_date, day)
        if self.config.kiosk.repeat_visits != "allow":
            earlier = self.store.ticket_today(identity.citizen_id, day, department.code, other_than=request.checkin_id)
            if earlier is not None:  # the same ticket again: no second entry, no second visit
                metrics.CHECKIN_REPEATS.inc(mode="offline")
                log.info("patient already has a number today", extra={
                    "event": "checkin.repeat", "department": department.code, "mode": "offline"})
                return CheckInResult(ticket=earlier, mode="offline", patient_id=None, encounter_id=None,
                                     appointment_id=None, repeat=True)

        def make(seq: int) -> Ticket:
            return make_ticket(
                reference=request.checkin_id, number=offline_number(slot, seq), label=offline_label(slot, seq),
                department=department, room=pick_room(department, seq), issued_at=now, booked=False,
                priority=priority, full_name=identity.full_name, hospital_name=self.config.kiosk.hospital_name,
                offline=True)

        ticket = self.store.enqueue_offline(request, day, make, online_attempted=online_attempted)
        metrics.CHECKINS.inc(mode="offline")
        log.info("check-in queued offline", extra={
            "event": "checkin.offline", "duration_ms": round((time.perf_counter() - started) * 1000, 2),
            "department": department.code, "label": ticket.label, "online_attempted": online_attempted})
        return CheckInResult(ticket=ticket, mode="offline", patient_id=None, encounter_id=None,
                             appointment_id=None)
