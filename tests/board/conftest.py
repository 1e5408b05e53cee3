"""Calling board tests: offscreen Qt, the real sandbox HIS, visits created through
the real check-in service with the demo people."""
from __future__ import annotations

import os

os.environ["QT_QPA_PLATFORM"] = "offscreen"

import itertools  # noqa: E402
import uuid  # noqa: E402

import pytest  # noqa: E402

from fhir_his.his import FhirHis  # noqa: E402
from kiosk.checkin.online import CheckInService  # noqa: E402
from kiosk.clock import SystemClock  # noqa: E402
from kiosk.demo_data import demo_people, person_identity  # noqa: E402
from kiosk.domain import CheckInRequest  # noqa: E402
from tests.helpers import make_config  # noqa: E402


def board_config(base_url: str, tmp_path=None, **board):
    board.setdefault("voice_driver", "simulator")
    board.setdefault("poll_interval_s", 0.2)
    # the reception checks the same demo adults in again and again: each a visit of its own
    kiosk = {"repeat_visits": "allow", **({"data_dir": str(tmp_path)} if tmp_path else {})}
    return make_config(base_url, board=board, kiosk=kiosk)


def board_his(config, *, polling: bool = False):
    """The board's HIS access as the composition root builds it."""
    from app.compose import build_board_his

    return build_board_his(config, polling=polling)


def rooms_of(config, **kwargs):
    from kiosk.board.service import resolve_rooms

    return resolve_rooms(board_his(config), **kwargs)


def poller_for(config, rooms, *, his=None, **kwargs):
    from kiosk.board.service import BoardPoller

    return BoardPoller(config, rooms, his or board_his(config, polling=True), **kwargs)


def caller_for(config, rooms):
    from kiosk.board.service import RoomCaller

    return RoomCaller(config, rooms, board_his(config))


class Reception:
    """Checks demo people in through the lead's CheckInService, as the kiosk does."""

    def __init__(self, config):
        self.his = FhirHis(config)
        self.service = CheckInService(self.his, SystemClock(config.kiosk.timezone), config)
        adults = [p for p in demo_people() if not p.get("appointment") and p["birth_date"] < "2010"]
        self._adults = itertools.cycle(adults)  # no age priority

    def walk_in(self, department: str, priority=None, person_key: str | None = None):
        person = next(p for p in demo_people() if p["key"] == person_key) if person_key else next(self._adults)
        return self.service.check_in(CheckInRequest(
            checkin_id=str(uuid.uuid4()), identity=person_identity(person), department_code=department,
            declared_priority=priority))

    def walk_in_room(self, department: str, room: str, priority=None, attempts: int = 12, person_key=None):
        """A walk-in that lands in ``room`` (rooms are assigned by number)."""
        for _ in range(attempts):
            result = self.walk_in(department, priority, person_key)
            if result.ticket.room_code == room:
                return result
        raise AssertionError(f"no ticket for room {room} after {attempts} check-ins")


def request_for_person(key: str) -> CheckInRequest:
    """A check-in of a demo person (their appointment today, if they have one)."""
    person = next(p for p in demo_people() if p["key"] == key)
    return CheckInRequest(checkin_id=str(uuid.uuid4()), identity=person_identity(person))


@pytest.fixture
def reception_for():
    return Reception
