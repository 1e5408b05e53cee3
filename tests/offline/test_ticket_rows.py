"""The ticket column of the outbox's check-in record (``checkins.ticket``): every
field of the ticket kept, rows written by the previous version still read, the
purge still blanks the masked name."""
from __future__ import annotations

import dataclasses
import json
import time
from datetime import date

import pytest

from offline_cache.db import LocalDatabase
from offline_cache.outbox import OutboxStore
from tests.helpers import request_for
from tests.offline.helpers import identity
from tests.ticket_records import FULL, OLD_OUTBOX_ROW

DAY = date(2026, 11, 25)
OLD_REF = "0b5c6c1e-6a51-4f7e-9a57-2f6d1c9e4a10"  # the reference in OLD_OUTBOX_ROW


@pytest.fixture
def db(tmp_path):
    database = LocalDatabase(tmp_path / "kiosk.sqlite3")
    yield database
    database.close()


def stored(db, checkin_id):
    return json.loads(db.read("SELECT ticket FROM checkins WHERE checkin_id = ?", (checkin_id,))[0]["ticket"])


def old_row(db, store):
    """A check-in queued by the previous version: its ticket column in the old 14-field shape."""
    req = request_for(identity(1), "TIM", checkin_id=OLD_REF)
    store.enqueue_offline(req, DAY, lambda seq: dataclasses.replace(FULL, reference=OLD_REF))
    db.conn.execute("UPDATE checkins SET ticket = ? WHERE checkin_id = ?", (OLD_OUTBOX_ROW, OLD_REF))
    return req


def test_every_field_of_the_ticket_survives_the_outbox(db):
    store = OutboxStore(db, "KIOSK-02")
    req = request_for(identity(2), "TIM")
    ticket = dataclasses.replace(FULL, reference=req.checkin_id)
    assert store.enqueue_offline(req, DAY, lambda seq: ticket) == ticket
    assert store.enqueue_offline(req, DAY, lambda seq: pytest.fail("numbered twice")) == ticket  # a retry
    entry = store.claim(1, lease_s=30)[0]
    assert entry.ticket == ticket and entry.arrived_at == ticket.issued_at and entry.day == DAY
    assert entry.arrived_at.utcoffset() == ticket.issued_at.utcoffset()
    assert {"follow_url", "insurance_status", "people_ahead", "estimated_wait_min"} <= set(stored(db, req.checkin_id))

    online = request_for(identity(3), "TIM")  # ports.Outbox.enqueue: a ticket numbered online
    numbered = dataclasses.replace(FULL, reference=online.checkin_id, number=12, label="012", offline=False)
    store.enqueue(online, numbered)
    store.mark_delivered(entry.id, encounter_id="enc-2", his_label="K2-005")
    assert store.claim(1, lease_s=30)[0].ticket == numbered


def test_a_row_of_the_previous_version_reads_into_the_same_ticket(db):
    store = OutboxStore(db, "KIOSK-02")
    req = old_row(db, store)
    expected = dataclasses.replace(FULL, reference=OLD_REF, number=2005, booked=False, insurance_status=None,
                                   people_ahead=None, estimated_wait_min=None, follow_url="",
                                   issued_at=FULL.issued_at.replace(second=0, microsecond=0))
    entry = store.claim(1, lease_s=30)[0]
    assert entry.ticket == expected and entry.arrived_at == expected.issued_at
    assert store.enqueue_offline(req, DAY, lambda seq: pytest.fail("numbered twice")) == expected


def test_a_row_without_the_offline_flag_was_an_offline_ticket(db):
    store = OutboxStore(db, "KIOSK-02")
    old_row(db, store)
    record = json.loads(OLD_OUTBOX_ROW)
    del record["offline"]
    db.conn.execute("UPDATE checkins SET ticket = ? WHERE checkin_id = ?", (json.dumps(record), OLD_REF))
    assert store.claim(1, lease_s=30)[0].ticket.offline is True


@pytest.mark.parametrize("old", [False, True])
def test_the_purge_blanks_the_masked_name_of_old_and_new_rows(db, old):
    store = OutboxStore(db, "KIOSK-02")
    if old:
        req = old_row(db, store)
    else:
        req = request_for(identity(4), "TIM")
        store.enqueue_offline(req, DAY, lambda seq: dataclasses.replace(FULL, reference=req.checkin_id))
    before = stored(db, req.checkin_id)
    assert before["masked_name"] == FULL.masked_name
    entry = store.claim(1, lease_s=30)[0]
    store.mark_delivered(entry.id, encounter_id="enc-4", his_label=entry.ticket.label)
    assert store.purge(24.0, now=time.time() + 25 * 3600) == 1
    after = stored(db, req.checkin_id)
    assert after == {**before, "masked_name": ""}  # nothing else changed, no key added or dropped
    assert store.enqueue_offline(req, DAY, lambda seq: pytest.fail("numbered twice")).masked_name == ""
