"""The local database and the outbox store, without a HIS."""
from __future__ import annotations

import json
import stat
from datetime import date, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kiosk.checkin.offline_first import (
    OFFLINE_FLOOR,
    is_offline_number,
    offline_label,
    offline_number,
    offline_slot,
)
from kiosk.config.loader import KioskSection
from kiosk.domain import ClinicRoom, Department, Ticket
from kiosk.errors import ConfigError
from offline_cache.db import SCHEMA_VERSION, LocalDatabase
from offline_cache.outbox import OutboxStore
from offline_cache.reference import ReferenceCache
from tests.helpers import request_for
from tests.offline.helpers import identity

VN = timezone(timedelta(hours=7))
DAY = date(2026, 3, 2)


def ticket_for(request, seq, dept="NOI"):
    return Ticket(reference=request.checkin_id, number=offline_number(1, seq), label=offline_label(1, seq),
                  department_code=dept, department_name="Nội", room_code="P101", room_name="Phòng 101",
                  room_where="Tầng 1", issued_at=datetime(2026, 3, 2, 8, 0, tzinfo=VN), booked=False,
                  masked_name="NGUYỄN V** AN", offline=True)


@pytest.fixture
def db(tmp_path):
    database = LocalDatabase(tmp_path / "kiosk.sqlite3")
    yield database
    database.close()


def test_database_is_wal_full_sync_owner_only_and_versioned(db):
    assert db.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    assert db.version() == SCHEMA_VERSION
    assert [r["version"] for r in db.read("SELECT version FROM schema_migrations ORDER BY version")] == \
        list(range(1, SCHEMA_VERSION + 1))
    assert stat.S_IMODE(db.path.stat().st_mode) == 0o600


def test_migration_from_version_1_keeps_queued_check_ins(tmp_path):
    path = tmp_path / "old.sqlite3"
    old = LocalDatabase(path, target_version=1)
    assert old.version() == 1 and "ref_departments" not in old.db.table_names()
    req = request_for(identity(1), "NOI")
    OutboxStore(old).enqueue_offline(req, DAY, lambda seq: ticket_for(req, seq))
    old.close()

    new = LocalDatabase(path)  # the next start migrates
    assert new.version() == SCHEMA_VERSION
    assert {"ref_departments", "ref_rooms", "mode_changes"} <= set(new.db.table_names())
    store = OutboxStore(new)
    assert store.backlog() == 1
    assert store.entries()[0]["queue_label"] == "K1-001"
    new.close()


def test_local_record_and_outbox_entry_are_one_transaction(db):
    store = OutboxStore(db, "KIOSK-01")
    req = request_for(identity(2), "NOI")

    def broken_ticket(seq):
        raise RuntimeError("printer layout failed")

    with pytest.raises(RuntimeError):
        store.enqueue_offline(req, DAY, broken_ticket)
    assert db.read("SELECT count(*) AS n FROM checkins")[0]["n"] == 0
    assert db.read("SELECT count(*) AS n FROM outbox")[0]["n"] == 0
    assert db.read("SELECT count(*) AS n FROM offline_numbers")[0]["n"] == 0  # the number was not consumed

    t = store.enqueue_offline(req, DAY, lambda seq: ticket_for(req, seq))
    assert t.label == "K1-001"
    row = db.read("SELECT * FROM outbox")[0]
    assert row["checkin_id"] == req.checkin_id and row["state"] == "pending" and row["attempts"] == 0
    # the patient key is a salted hash: the citizen id is not stored in plain text outside the payload
    assert req.identity.citizen_id not in row["patient_key"]
    assert json.loads(row["payload"])["identity"]["citizen_id"] == req.identity.citizen_id


def test_same_check_in_retried_keeps_its_ticket(db):
    store = OutboxStore(db, "KIOSK-01")
    req = request_for(identity(3), "NOI")
    first = store.enqueue_offline(req, DAY, lambda seq: ticket_for(req, seq))
    again = store.enqueue_offline(req, DAY, lambda seq: ticket_for(req, seq))
    assert again == first and store.backlog() == 1
    other = request_for(identity(4), "NOI")
    assert store.enqueue_offline(other, DAY, lambda seq: ticket_for(other, seq)).label == "K1-002"
    assert store.enqueue_offline(other, DAY + timedelta(days=1),
                                 lambda seq: ticket_for(request_for(identity(5)), seq)).label == "K1-002"


def test_claim_keeps_each_patients_entries_in_order(db):
    store = OutboxStore(db, "KIOSK-01")
    a1, b1, a2 = (request_for(identity(i), "NOI") for i in (10, 11, 10))
    for r in (a1, b1, a2):
        store.enqueue_offline(r, DAY, lambda seq, r=r: ticket_for(r, seq))
    first = store.claim(10, lease_s=30)
    assert [e.checkin_id for e in first] == [a1.checkin_id, b1.checkin_id]  # a2 waits for a1
    assert not store.claim(10, lease_s=30)  # nothing else due while a1 is being sent
    store.mark_failed(first[0].id, "HisUnavailable: test", retry_at=0, dead=False)
    store.mark_delivered(first[1].id, encounter_id="e-b1", his_label="K1-002")
    again = store.claim(10, lease_s=30)
    assert [e.checkin_id for e in again] == [a1.checkin_id]
    assert again[0].verify_first and again[0].attempts == 2
    store.mark_delivered(again[0].id, encounter_id="e-a1", his_label="K1-001")
    assert [e.checkin_id for e in store.claim(10, lease_s=30)] == [a2.checkin_id]


def test_backoff_dead_letter_retry_and_purge(db):
    store = OutboxStore(db, "KIOSK-01")
    req = request_for(identity(20), "NOI")
    store.enqueue_offline(req, DAY, lambda seq: ticket_for(req, seq))
    e = store.claim(1, lease_s=30)[0]
    store.mark_failed(e.id, "HisRefused: POST Encounter: HIS answered 400 (invalid)", retry_at=9e12, dead=False)
    assert store.claim(1, lease_s=30) == []  # backing off
    assert len(store.claim(1, lease_s=30, ignore_backoff=True)) == 1
    store.mark_failed(e.id, "HisRefused: 400", retry_at=0, dead=True)
    assert store.counts()["dead"] == 1 and store.backlog() == 0
    assert store.claim(1, lease_s=30, ignore_backoff=True) == []  # dead letters are not retried by themselves
    assert store.retry(e.id)
    e2 = store.claim(1, lease_s=30)[0]
    assert e2.attempts == 1 and e2.verify_first  # fresh budget, but the HIS is asked first
    store.mark_delivered(e2.id, encounter_id="enc-1", his_label="K1-001")
    assert store.purge(24.0) == 0  # delivered just now: kept for the retention period
    assert store.purge(24.0, now=__import__("time").time() + 25 * 3600) == 1
    row = db.read("SELECT payload, patient_key, purged_at FROM outbox")[0]
    assert row["payload"] is None and row["patient_key"] is None and row["purged_at"]
    ticket = json.loads(db.read("SELECT ticket FROM checkins")[0]["ticket"])
    assert ticket["masked_name"] == "" and ticket["label"] == "K1-001"


def test_stale_claims_of_dead_processes_are_released(db):
    store = OutboxStore(db, "KIOSK-01")
    req = request_for(identity(30), "NOI")
    store.enqueue_offline(req, DAY, lambda seq: ticket_for(req, seq))
    store.claim(1, lease_s=3600)
    db.conn.execute("UPDATE outbox SET lease_owner = '999999999'")  # a pid that does not run
    assert store.release_stale() == 1
    assert store.claim(1, lease_s=30)[0].verify_first


def test_reference_cache_round_trip_and_age(db):
    cache = ReferenceCache(db)
    assert cache.departments() == [] and cache.age_s() is None
    depts = [Department(code="NOI", name="Khoa Nội", opening_hours="Mon-Sat 07:00-16:30", name_en="Internal",
                        rooms=(ClinicRoom("P101", "Phòng 101", "Tầng 1", "loc-1"),
                               ClinicRoom("P102", "Phòng 102", "Tầng 1", "loc-2"))),
             Department(code="MAT", name="Khoa Mắt", rooms=(ClinicRoom("P201", "Phòng 201", "Tầng 2", "loc-3"),))]
    cache.store(depts, now=1000.0)
    assert cache.departments() == depts
    assert cache.age_s(now=1060.0) == 60.0


# --- the offline numbering rule ----------------------------------------------------


def test_offline_slot_from_kiosk_id_or_base():
    assert offline_slot(KioskSection(id="KIOSK-01")) == 1
    assert offline_slot(KioskSection(id="kiosk-12")) == 12
    assert offline_slot(KioskSection(id="LOBBY", offline_number_base=1_030_000)) == 3
    with pytest.raises(ConfigError, match="kiosk.offline_number_base"):
        offline_slot(KioskSection(id="LOBBY"))
    with pytest.raises(ConfigError, match="kiosk.offline_number_base"):
        offline_slot(KioskSection(id="KIOSK-01", offline_number_base=1_030_005))
    assert offline_label(1, 5) == "K1-005" and offline_number(1, 5) == 1_010_005


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 999), st.integers(1, 999), st.integers(1, 9999), st.integers(1, 9999))
def test_offline_numbers_never_collide(k1, k2, n1, n2):
    a, b = offline_number(k1, n1), offline_number(k2, n2)
    assert is_offline_number(a) and a >= OFFLINE_FLOOR  # online counter numbers stay below the floor
    if (k1, n1) != (k2, n2):
        assert a != b and offline_label(k1, n1) != offline_label(k2, n2)


def test_an_entry_given_back_untried_keeps_its_attempt_budget(db):
    store = OutboxStore(db, "KIOSK-01")
    req = request_for(identity(40), "NOI")
    store.enqueue_offline(req, DAY, lambda seq: ticket_for(req, seq))
    for _ in range(5):  # e.g. the HIS vanished before this entry's turn in the batch, five times
        e = store.claim(1, lease_s=30)[0]
        store.release(e.id)
    e = store.claim(1, lease_s=30)[0]
    assert e.attempts == 1 and not e.verify_first
