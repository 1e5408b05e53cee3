"""A damaged local database never stops online check-ins and never loses
queued ones silently. Real `kiosk` processes, the sandbox HIS, and SQLite
files damaged in each way: garbage header, truncated mid-page, 0 bytes,
deleted, replaced by another kiosk's database, rows deleted."""
from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pytest

from fhir_his.his import FhirHis
from tests.helpers import free_port, make_config
from tests.offline.helpers import encounters_by_checkin
from tests.robustness.cli import assert_no_traceback, kiosk

pytestmark = pytest.mark.integration

QUEUED = 12


def write_configs(tmp_path, base_url: str, kiosk_id: str = "KIOSK-03", name: str = "k"):
    data = tmp_path / f"{name}-data"
    text = (f'[kiosk]\nid = "{kiosk_id}"\ndata_dir = "{data}"\nrepeat_visits = "allow"\n[offline]\ngo_offline_after_s = 2.0\n'
            f'[his]\nconnect_timeout_s = 1.0\nretries = 0\nbase_url = ')
    online, offline = tmp_path / f"{name}-online.toml", tmp_path / f"{name}-offline.toml"
    online.write_text(text + f'"{base_url}"\n', encoding="utf-8")
    offline.write_text(text + f'"http://127.0.0.1:{free_port()}/fhir/R4"\n', encoding="utf-8")
    return online, offline, data / "kiosk.sqlite3"


def queue_offline(online, offline, first: int, count: int = QUEUED) -> list[str]:
    """Cache the reference data while online, then queue ``count`` check-ins with the HIS unreachable."""
    r = kiosk("sync", "--json", config=online)
    assert r.returncode == 0, r.stderr
    refs = []
    for i in range(count):
        r = kiosk("checkin", "--json", "--id", f"0790991{first + i:05d}", "--name", "TRẦN VĂN BÌNH",
                  "--address", "Số " + "1" * 40 + ", Phường Hàng Bài, Hà Nội", "--department", "NOI", config=offline)
        assert_no_traceback(r)
        result = json.loads(r.stdout)
        assert result["mode"] == "offline", r.stderr
        refs.append(result["ticket"]["reference"])
    return refs


def doctor(config) -> dict:
    r = kiosk("doctor", "--json", "--only", "outbox,database", config=config)
    assert_no_traceback(r)
    return {c["name"]: c for c in json.loads(r.stdout)["checks"]}


def check_online_checkin_works(online, citizen_id: str) -> None:
    r = kiosk("checkin", "--json", "--id", citizen_id, "--department", "NOI", config=online)
    assert_no_traceback(r)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["mode"] == "online"


def list_says_what_happened(online) -> dict:
    r = kiosk("outbox", "list", config=online)
    assert_no_traceback(r)
    assert r.returncode == 0, r.stderr
    assert "WARNING: incident" in r.stdout and "may need recovery" in r.stdout
    assert "waiting in this database (see the warning above)" in r.stdout  # never a bare "0 waiting"
    listing = json.loads(kiosk("outbox", "list", "--json", config=online).stdout)
    assert listing["summary"]["incidents"]
    return listing["summary"]["incidents"][0]


def sync_and_count(online, his_sandbox, refs) -> dict[str, int]:
    r = kiosk("sync", "--json", config=online)
    assert_no_traceback(r)
    his = FhirHis(make_config(his_sandbox.base_url))
    try:
        return encounters_by_checkin(his, refs)
    finally:
        his.client.close()


def last_row_page(data: bytes, page: int) -> int:
    """The number of the last page holding check-in or outbox rows (13, 16 or 17 values)."""
    from offline_cache.page_scan import scan

    def rows(upto: int) -> int:
        return sum(len(values) in (13, 16, 17) for _, values in scan(data[:upto * page], page).records)

    last = 0
    for number in range(1, len(data) // page + 1):
        if rows(number) > rows(number - 1):
            last = number
    assert last > 1
    return last


def damage(path, how: str, other=None) -> None:
    data = path.read_bytes()
    for suffix in ("-wal", "-shm"):  # the CLI closed it cleanly: everything is in the main file
        assert not path.with_name(path.name + suffix).exists()
    if how == "garbage_header":
        path.write_bytes(b"\x13\x37 not sqlite \x00\xff" + data[16:100].replace(b"\x00", b"\xee") + data[100:])
    elif how == "truncated_mid_page":  # cut in the middle of the last page that holds check-in rows
        page = 4096
        path.write_bytes(data[:(last_row_page(data, page) - 1) * page + page // 2])
    elif how == "zero_bytes":
        path.write_bytes(b"")
    elif how == "deleted":
        path.unlink()
    elif how == "other_kiosk":
        shutil.copyfile(other, path)


@pytest.mark.parametrize("how", ["garbage_header", "truncated_mid_page"])
def test_damaged_file_is_kept_aside_and_its_checkins_recovered_exactly_once(tmp_path, his_sandbox, how):
    online, offline, db = write_configs(tmp_path, his_sandbox.base_url)
    refs = queue_offline(online, offline, first={"garbage_header": 0, "truncated_mid_page": 100}[how])
    damage(db, how)

    check_online_checkin_works(online, "079099100001" if how == "garbage_header" else "079099100002")
    incident = list_says_what_happened(online)
    kept = incident["kept_file"]
    assert kept and ".damaged-" in kept and incident["waiting_estimate"] == QUEUED
    checks = doctor(online)
    assert checks["outbox.recovery"]["status"] == "FAIL"
    assert kept in checks["outbox.recovery"]["detail"] and f"up to {QUEUED} queued" in checks["outbox.recovery"]["detail"]

    r = kiosk("outbox", "recover", kept, config=online)
    assert_no_traceback(r)
    assert r.returncode == 0 and "recovered" in r.stdout
    report = json.loads(kiosk("outbox", "recover", kept, "--json", config=online).stdout)  # a second run: nothing new
    assert report["imported"] == 0
    recovered_now = report["already_present"]
    if how == "garbage_header":
        assert recovered_now == QUEUED and report["complete"]
        assert doctor(online)["outbox.recovery"]["status"] == "OK"  # closed by the complete recovery
    else:  # the rows on the cut pages are lost: reported, never guessed; the incident stays open
        assert 1 <= recovered_now < QUEUED and report["missing"] == QUEUED - recovered_now
        assert "NOT recovered" in r.stdout and f"of the {QUEUED} check-in(s) that were waiting" in r.stdout
        assert doctor(online)["outbox.recovery"]["status"] == "FAIL"
        assert kiosk("outbox", "acknowledge", str(incident["id"]), config=online).returncode == 0
        assert doctor(online)["outbox.recovery"]["status"] == "OK"

    counts = sync_and_count(online, his_sandbox, refs)
    assert all(n <= 1 for n in counts.values())  # never a second visit
    assert sum(counts.values()) == recovered_now  # every recovered check-in delivered once
    r = kiosk("outbox", "recover", kept, "--json", config=online)
    assert json.loads(r.stdout)["imported"] == 0
    assert sync_and_count(online, his_sandbox, refs) == counts


@pytest.mark.parametrize("how", ["zero_bytes", "deleted", "other_kiosk"])
def test_a_database_that_lost_its_rows_is_never_reported_as_zero_waiting(tmp_path, his_sandbox, how):
    online, offline, db = write_configs(tmp_path, his_sandbox.base_url)
    queue_offline(online, offline, first={"zero_bytes": 200, "deleted": 300, "other_kiosk": 400}[how], count=3)
    other = None
    if how == "other_kiosk":
        o_online, o_offline, other = write_configs(tmp_path, his_sandbox.base_url, "KIOSK-04", "other")
        queue_offline(o_online, o_offline, first=500, count=2)
    damage(db, how, other)

    before = doctor(online)  # read-only: sees the loss before any kiosk process starts
    assert any(c["status"] == "FAIL" for name, c in before.items() if name.startswith("outbox"))

    check_online_checkin_works(online, {"zero_bytes": "079099100003", "deleted": "079099100004",
                                        "other_kiosk": "079099100005"}[how])
    incident = list_says_what_happened(online)
    assert incident["waiting_estimate"] == 3
    checks = doctor(online)
    assert checks["outbox.recovery"]["status"] == "FAIL" and "up to 3 queued" in checks["outbox.recovery"]["detail"]
    if how == "deleted":
        assert incident["kept_file"] is None
    else:
        assert incident["kept_file"] and (".emptied-" in incident["kept_file"] or ".other-database-" in incident["kept_file"])
    if how == "other_kiosk":  # the other kiosk's file is kept; its check-ins can be taken over, verified first
        report = json.loads(kiosk("outbox", "recover", incident["kept_file"], "--json", config=online).stdout)
        assert report["imported_waiting"] == 2 and not report["complete"]  # this kiosk's own 3 are still lost
        assert doctor(online)["outbox.recovery"]["status"] == "FAIL"
    r = kiosk("outbox", "acknowledge", str(incident["id"]), config=online)
    assert r.returncode == 0 and "closed" in r.stdout
    assert doctor(online)["outbox.recovery"]["status"] == "OK"

    # offline numbers continue after the lost ones: no two paper tickets share a label today
    assert kiosk("sync", config=online).returncode == 0  # the fresh database caches the reference data online
    r = kiosk("checkin", "--json", "--id", "079099100099", "--department", "NOI", config=tmp_path / "k-offline.toml")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["ticket"]["label"] == "K3-004"


def test_rows_deleted_from_a_live_database_are_detected(tmp_path, his_sandbox):
    online, offline, db = write_configs(tmp_path, his_sandbox.base_url)
    queue_offline(online, offline, first=600, count=4)
    conn = sqlite3.connect(db)
    with conn:
        conn.execute("DELETE FROM outbox")
        conn.execute("DELETE FROM checkins")
    conn.close()
    assert doctor(online)["outbox.generation"]["status"] == "FAIL"
    check_online_checkin_works(online, "079099100006")
    incident = list_says_what_happened(online)
    assert incident["kind"] == "rows_lost" and incident["waiting_estimate"] == 4
    assert doctor(online)["outbox.recovery"]["status"] == "FAIL"


def test_admin_outbox_tab_and_metric_say_what_happened(tmp_path):
    """The admin screen's outbox view and kiosk_outbox_recovery_needed, in process."""
    from datetime import date, datetime, timezone

    from app.compose import build_his
    from kiosk.domain import Ticket
    from kiosk.operations import metrics
    from offline_cache.integrity import open_database
    from offline_cache.outbox import OutboxStore
    from offline_cache.wiring import build_parts
    from tests.helpers import request_for
    from tests.offline.helpers import identity
    from ui.admin.actions import AdminActions

    config = make_config(kiosk={"data_dir": str(tmp_path / "data")})
    database = open_database(config)
    store = OutboxStore(database, "KIOSK-01")
    for i in range(2):
        req = request_for(identity(800 + i), "NOI")
        store.enqueue_offline(req, date(2026, 3, 2), lambda seq, req=req: Ticket(
            reference=req.checkin_id, number=1_010_000 + seq, label=f"K1-{seq:03d}", department_code="NOI",
            department_name="Nội", room_code="P101", room_name="P101", room_where="", booked=False, offline=True,
            issued_at=datetime(2026, 3, 2, 8, 0, tzinfo=timezone.utc)))
    database.close()
    damage(config.database_path(), "garbage_header")

    his = build_his(config)
    parts = build_parts(config, his)
    try:
        assert metrics.REGISTRY.value("kiosk_outbox_recovery_needed") == 1
        services = type("Services", (), {"outbox": parts, "card_reader": None, "printer": None})()
        view = AdminActions(None, config, services, None).outbox_view()
        assert view.available and view.backlog == 0
        assert len(view.incidents) == 1 and "damaged" in view.incidents[0]
        assert "up to 2 queued check-in(s) may need recovery" in view.incidents[0]
        assert "kiosk outbox recover" in view.incidents[0]
    finally:
        parts.close()
        his.close()


def _queued_database(tmp_path, count: int):
    """An open outbox database (as the kiosk opens it) holding ``count`` offline check-ins."""
    from datetime import date, datetime, timezone

    from kiosk.domain import Ticket
    from offline_cache.integrity import open_database
    from offline_cache.outbox import OutboxStore
    from tests.helpers import request_for
    from tests.offline.helpers import identity

    config = make_config(kiosk={"data_dir": str(tmp_path / "data")})
    database = open_database(config)
    store = OutboxStore(database, "KIOSK-01")
    for i in range(count):
        req = request_for(identity(900 + i), "NOI")
        store.enqueue_offline(req, date(2026, 3, 2), lambda seq, req=req: Ticket(
            reference=req.checkin_id, number=1_010_000 + seq, label=f"K1-{seq:03d}", department_code="NOI",
            department_name="Nội", room_code="P101", room_name="P101", room_where="", booked=False, offline=True,
            issued_at=datetime(2026, 3, 2, 8, 0, tzinfo=timezone.utc)))
    return config, database


@pytest.mark.parametrize("how", ["rows_deleted", "file_replaced"])
def test_a_database_spoiled_while_the_kiosk_runs_raises_the_alarm_once(tmp_path, how):
    """The running kiosk looks at its open database (the sender, every few minutes):
    the loss is an incident at once — the log, the metric, the doctor — not at the next start."""
    from kiosk.operations import metrics
    from offline_cache.integrity import check_live, open_incidents

    config, database = _queued_database(tmp_path, 3)
    path = config.database_path()
    try:
        assert check_live(database) is None  # sound: nothing to say
        if how == "rows_deleted":
            other = sqlite3.connect(path)
            with other:
                other.execute("DELETE FROM outbox")
                other.execute("DELETE FROM checkins")
            other.close()
        else:
            shutil.copyfile(path, tmp_path / "copy.sqlite3")
            path.unlink()
            shutil.copyfile(tmp_path / "copy.sqlite3", path)
        incident = check_live(database)
        assert incident is not None
        assert incident.kind == {"rows_deleted": "rows_lost", "file_replaced": "other_database"}[how]
        assert incident.waiting_estimate == 3 and "while the kiosk ran" in incident.detail
        assert metrics.REGISTRY.value("kiosk_outbox_recovery_needed") == 1
        assert check_live(database) is None  # said once, not every few minutes
        assert [i.id for i in open_incidents(database.generation)] == [incident.id]
        if how == "file_replaced":  # what the kiosk holds is copied beside it, for `kiosk outbox recover`
            kept = Path(incident.kept_file)
            assert kept.name.startswith(path.name + ".open-copy-")
            copy = sqlite3.connect(kept)
            assert copy.execute("SELECT count(*) FROM outbox WHERE state = 'pending'").fetchone()[0] == 3
            copy.close()
    finally:
        database.close()


@pytest.mark.parametrize("what", ["database", "database and its generation record"])
def test_a_database_file_deleted_while_the_kiosk_runs_is_restored_in_place(tmp_path, what):
    """The open connection still holds every row: the kiosk writes it back to its path and goes
    on there — nothing is lost, even if it restarts — and IT is told in the log."""
    from kiosk.operations import metrics
    from offline_cache.integrity import check_live, open_database, open_incidents
    from offline_cache.outbox import OutboxStore

    config, database = _queued_database(tmp_path, 3)
    path = config.database_path()
    try:
        for name in (path.name, path.name + "-wal", path.name + "-shm"):
            path.with_name(name).unlink(missing_ok=True)
        if what != "database":  # rm kiosk.sqlite3*
            for record in path.parent.glob(path.name + ".generation.*"):
                record.unlink()
        incident = check_live(database)
        assert incident is not None and incident.kind == "missing" and not incident.open
        assert "nothing lost" in incident.detail and incident.waiting_estimate == 0
        assert metrics.REGISTRY.value("kiosk_outbox_recovery_needed") == 0
        assert path.exists() and database.inode == path.stat().st_ino
        assert check_live(database) is None
        store = OutboxStore(database, "KIOSK-01")
        assert store.backlog() == 3
    finally:
        database.close()
    again = open_database(config)  # a restart finds everything where it belongs
    try:
        assert OutboxStore(again, "KIOSK-01").backlog() == 3 and open_incidents(again.generation) == []
    finally:
        again.close()


def test_a_database_damaged_while_the_kiosk_runs_is_reported(tmp_path):
    from offline_cache.integrity import check_live

    config, database = _queued_database(tmp_path, 2)
    try:
        database.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        data = bytearray(config.database_path().read_bytes())
        for page in range(1, len(data) // 4096):  # scribble over every page after the first
            data[page * 4096 + 8: page * 4096 + 64] = b"\xa5" * 56
        with open(config.database_path(), "r+b") as f:
            f.write(data)
        incident = check_live(database)
        assert incident is not None and incident.kind == "damaged", incident
    finally:
        database.close()


def test_the_running_sender_looks_at_its_database(tmp_path, monkeypatch):
    import offline_cache.sender
    from app.compose import build_his
    from offline_cache.integrity import open_incidents
    from offline_cache.wiring import build_parts
    from tests.queue_web.conftest import wait_for

    monkeypatch.setattr(offline_cache.sender, "LIVE_CHECK_EVERY_S", 0.05)  # every few minutes in the kiosk
    config, database = _queued_database(tmp_path, 2)
    database.close()
    his = build_his(config)
    parts = build_parts(config, his)
    try:
        parts.sender.start()
        other = sqlite3.connect(config.database_path())
        with other:
            other.execute("DELETE FROM outbox")
            other.execute("DELETE FROM checkins")
        other.close()
        [incident] = wait_for(lambda: open_incidents(parts.database.generation))
        assert incident.kind == "rows_lost" and incident.waiting_estimate == 2
    finally:
        parts.close()
        his.close()


def test_doctor_and_start_up_agree_on_an_emptied_database_that_never_held_a_checkin(tmp_path):
    """Doctor and the kiosk make the same comparison with the generation record: a 0-byte
    file with nothing ever queued in it lost nothing (no FAIL, no incident)."""
    from offline_cache.integrity import open_database

    online, _, db = write_configs(tmp_path, f"http://127.0.0.1:{free_port()}/fhir/R4")
    open_database(db).close()  # a fresh database and its generation record
    db.write_bytes(b"")
    for suffix in ("-wal", "-shm"):
        db.with_name(db.name + suffix).unlink(missing_ok=True)
    checks = doctor(online)
    assert not [c for name, c in checks.items() if name.startswith("outbox") and c["status"] == "FAIL"], checks
    r = kiosk("outbox", "list", "--json", config=online)
    assert r.returncode == 0 and not json.loads(r.stdout)["summary"]["incidents"], r.stdout
