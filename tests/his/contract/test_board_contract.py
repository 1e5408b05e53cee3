"""The calling board's contract against every sandbox profile and queue-number
strategy: call / recall / start / skip / finish write exactly what the HIS
must hold (over a version or a compare-and-set), and a board poll shows the
numbers the tickets carry."""
from __future__ import annotations

from fhir_his.mapping import extension_value, extensions
from kiosk.board.service import BoardPoller, RoomCaller
from tests.his.contract.env import WITHOUT_VERSIONS, new_identity

DEPT, ROOM = "TMH", "P110"  # one clinic room: every visit of the department queues there


def _ext(env, enc: dict, name: str, kind: str):
    return extension_value(enc, getattr(extensions(env.config.his), name), kind)


def test_call_recall_start_skip_and_board_poll(env):
    room = env.departments[DEPT].room(ROOM)
    booked = new_identity()
    appt_id = env.book(booked, DEPT, in_minutes=-10)  # its slot is before the walk-ins arrive: first in line
    tickets = [env.check_in(booked).ticket] + [env.check_in(new_identity(), DEPT).ticket for _ in range(2)]
    visits = [env.the_visit(t.reference, t).resource for t in tickets]
    first, second, third = (v["id"] for v in visits)

    board_his = env.board_his()
    poller = BoardPoller(env.config, [room], board_his, clock=env.clock)
    snapshot, _ = poller.poll_once()
    view = snapshot.room(ROOM)
    assert view.serving is None and [n.label for n in view.waiting] == [t.label for t in tickets]

    caller = RoomCaller(env.config, [room], board_his, clock=env.clock)
    called = caller.call_next(ROOM)
    assert called.visit_id == first and called.label == tickets[0].label
    enc = env.get(f"Encounter/{first}")
    assert enc["status"] == "arrived" and _ext(env, enc, "called_at", "valueDateTime")
    snapshot, calls = poller.poll_once()
    assert snapshot.room(ROOM).serving.label == tickets[0].label and [c.label for c in calls] == [tickets[0].label]

    caller.recall(ROOM)
    assert _ext(env, env.get(f"Encounter/{first}"), "call_count", "valueInteger") == 2
    caller.start(ROOM)
    enc = env.get(f"Encounter/{first}")
    assert enc["status"] == "in-progress" and enc["statusHistory"][0]["status"] == "arrived"

    nxt = caller.call_next(ROOM)  # the visit being seen is finished, the next one called
    assert nxt.visit_id == second and nxt.previous_status == "finished"
    assert env.get(f"Encounter/{first}")["status"] == "finished"
    assert env.get(f"Appointment/{appt_id}")["status"] == "fulfilled"

    skipped = caller.skip(ROOM)  # the second did not come: a no-show, the third is called
    assert skipped.previous_label == tickets[1].label and skipped.visit_id == third
    enc = env.get(f"Encounter/{second}")
    assert enc["status"] == "arrived" and _ext(env, enc, "no_show", "valueDateTime")
    assert _ext(env, env.get(f"Encounter/{third}"), "called_at", "valueDateTime")

    snapshot, calls = poller.poll_once()  # the board follows what changed
    view = snapshot.room(ROOM)
    assert view.serving.label == tickets[2].label and view.waiting == ()
    assert tickets[2].label in [c.label for c in calls]
    assert env.his.waiting_counts(env.clock.now().date()).get(DEPT, 0) == 0
    board_his.close()
    stats = env.sandbox.stats()
    if env.profile in WITHOUT_VERSIONS:  # compare-and-set by JSON Patch, never a blind PUT
        assert stats["byMethod"].get("PATCH", 0) >= 6 and stats["byMethod"].get("PUT", 0) == 0
    else:
        assert stats["byKind"].get("if-match", 0) >= 6 and stats["byMethod"].get("PATCH", 0) == 0
