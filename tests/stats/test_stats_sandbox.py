"""kiosk stats against the sandbox HIS (a real FHIR engine, started here) after
check-ins made through the real check-in service — several channels,
departments and priorities, booked and walk-in, two made offline and
delivered by the outbox — and calls, starts, finishes and a no-show made
through the RoomCaller: every count comes out exactly."""
from __future__ import annotations

import csv
import io
import json
import statistics
import subprocess
import sys
import uuid
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest

from app.compose import build_room_caller
from app.sandbox import SandboxHis
from fhir_his.his import FhirHis
from fhir_his.history import visit_record
from fhir_his.mapping import extensions
from kiosk.checkin.online import CheckInService
from kiosk.clock import SystemClock
from kiosk.demo_data import demo_people, person_identity
from kiosk.domain import CheckInRequest, IdentitySource, Priority, mask_name
from tests.offline.helpers import Parts, offline_config

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
S = IdentitySource

# (person, source, walk-in department or None when booked today, declared priority)
ONLINE = [
    ("an", S.CHIP, None, None),  # booked NOI
    ("hung", S.APPOINTMENT_QR, None, None),  # booked TIM, 78: elderly_75 from the date of birth
    ("nhung", S.CCCD_QR, None, None),  # booked SAN: skipped later (no-show)
    ("ngoc", S.TYPED, "NOI", None),
    ("minh", S.CHIP, "NOI", Priority.DISABILITY),
    ("linh", S.CCCD_QR, "NHI", None),  # child: child_under_6
    ("huong", S.TYPED, "MAT", None),  # not in the HIS yet: created at check-in
    ("ngoc", S.CHIP, "MAT", Priority.PREGNANT),
]
OFFLINE = [("minh", S.CCCD_QR, "MAT"), ("ngoc", S.CHIP, "NOI")]
BOOKED_DEPT = {"an": "NOI", "hung": "TIM", "nhung": "SAN"}


def person(key):
    return next(p for p in demo_people() if p["key"] == key)


@pytest.fixture(scope="module")
def day(tmp_path_factory):
    """A sandbox of this module's own, its check-ins and board actions."""
    tmp = tmp_path_factory.mktemp("stats")
    with SandboxHis(port=0) as sandbox:
        config = offline_config(tmp, sandbox.base_url)
        config.kiosk.repeat_visits = "allow"  # ngoc checks in to NOI online, then offline: two visits counted
        his = FhirHis(config)
        service = CheckInService(his, SystemClock(config.kiosk.timezone), config)
        results = []
        for key, source, dept, prio in ONLINE:
            r = service.check_in(CheckInRequest(checkin_id=str(uuid.uuid4()), identity=person_identity(person(key), source=source),
                                                department_code=dept, declared_priority=prio))
            results.append((key, source, r))
        parts = Parts(config)
        parts.prober.refresh_reference(force=True)
        parts.monitor.report_unavailable("test: the HIS is down")
        offline_ids = []
        for key, source, dept in OFFLINE:
            r = parts.handler.check_in(CheckInRequest(checkin_id=str(uuid.uuid4()),
                                                      identity=person_identity(person(key), source=source),
                                                      department_code=dept))
            assert r.mode == "offline"
            offline_ids.append((key, source, dept, r.ticket.reference))
        parts.monitor.report_ok("test: the HIS is back")
        assert parts.sender.sync_now().delivered == 2
        parts.close()
        # The rooms: SAN calls its patient, who does not come; the NOI rooms call, start, call next.
        actions = {"called": set(), "started": set(), "finished": set(), "no_show": set()}
        caller, close = build_room_caller(config, "P301")
        out = caller.call_next("P301")
        actions["called"].add(out.visit_id)
        caller.skip("P301", then_call_next=False)
        actions["no_show"].add(out.visit_id)
        close()
        for room in ("P101", "P102"):
            caller, close = build_room_caller(config, room)
            first = caller.call_next(room)
            if first.visit_id:
                actions["called"].add(first.visit_id)
                caller.start(room)
                actions["started"].add(first.visit_id)
                second = caller.call_next(room)  # finishes the first
                actions["finished"].add(first.visit_id)
                if second.visit_id:
                    actions["called"].add(second.visit_id)
            close()
        # BHYT recorded on one visit (as the insurance check will): Encounter extension coverage -> Coverage.
        ext = extensions(config.his)
        coverage = his.client.create({"resourceType": "Coverage", "status": "active",
                                      "beneficiary": {"reference": f"Patient/{results[0][2].patient_id}"},
                                      "payor": [{"display": "BHXH Việt Nam"}]}).body
        enc = his.client.read("Encounter", results[0][2].encounter_id).body
        enc["extension"].append({"url": ext.coverage, "valueReference": {"reference": f"Coverage/{coverage['id']}"}})
        his.client.update(enc, if_match=enc["meta"]["versionId"])
        cfg_file = tmp / "kiosk.toml"
        cfg_file.write_text(f'[kiosk]\ndata_dir = "{tmp}"\n[his]\nbase_url = "{sandbox.base_url}"\n', encoding="utf-8")
        yield {"config": config, "file": cfg_file, "results": results, "offline": offline_ids, "actions": actions,
               "his": his, "tmp": tmp}
        his.close()


def kiosk_stats(day, *args) -> subprocess.CompletedProcess:
    today = day["results"][0][2].ticket.issued_at.date()
    dates = ["--from", (today - timedelta(days=1)).isoformat(), "--to", (today + timedelta(days=1)).isoformat()]
    return subprocess.run([sys.executable, "-m", "app", "stats", "--config", str(day["file"]), *dates, *args],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def report(day):
    r = kiosk_stats(day, "--json")
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def test_counts_per_department_and_channel_are_exact(day, report):
    expected = Counter()
    channels: dict[str, Counter] = {}
    for key, source, r in day["results"]:
        dept = r.ticket.department_code
        assert dept == (BOOKED_DEPT.get(key) or dept)
        expected[dept] += 1
        channels.setdefault(dept, Counter())[source.value] += 1
    for key, source, dept, _ in day["offline"]:
        expected[dept] += 1
        channels.setdefault(dept, Counter())[source.value] += 1
    assert {c: d["checkins"] for c, d in report["by_department"].items() if d["checkins"]} == dict(expected)
    assert expected == {"NOI": 4, "TIM": 1, "SAN": 1, "NHI": 1, "MAT": 3}
    for dept, counts in channels.items():
        got = report["by_department"][dept]["by_channel"]
        assert {k: v for k, v in got.items() if v} == dict(counts), dept
    t = report["total"]
    assert t["checkins"] == 10
    assert t["by_channel"] == {"chip": 4, "cccd_qr": 3, "appointment_qr": 1, "typed": 2, "patient_code": 0}
    assert t["by_mode"] == {"online": 8, "offline": 2}
    assert report["by_department"]["MAT"]["by_mode"] == {"online": 2, "offline": 1}
    assert t["booked"] == 3 and t["walk_in"] == 7
    assert t["by_priority"] == {"child_under_6": 1, "disability": 1, "elderly_75": 1, "pregnant": 1}
    assert t["priority"] == 4 and t["priority_share"] == round(4 / 10, 4)
    assert t["bhyt"] == 1 and report["by_department"]["NOI"]["bhyt"] == 1 and t["bhyt_share"] == round(1 / 10, 4)
    assert sum(t["by_hour"].values()) == 10
    hours = {f"{r.ticket.issued_at.hour:02d}" for _, _, r in day["results"]}
    assert hours <= set(t["by_hour"])


def test_calls_starts_finishes_and_no_shows_are_counted(day, report):
    acts = day["actions"]
    by_visit = {r.encounter_id: r.ticket.department_code for _, _, r in day["results"]}
    his = day["his"]
    for key, _, dept, checkin_id in day["offline"]:
        by_visit[his.find_visit(checkin_id).encounter_id] = dept
    for what, field in (("called", "called"), ("started", "started"), ("finished", "finished"),
                        ("no_show", "no_shows")):
        expected = Counter(by_visit[v] for v in acts[what])
        got = {c: d[field] for c, d in report["by_department"].items() if d[field]}
        assert got == dict(expected), what
    assert report["total"]["no_shows"] == 1 and report["by_department"]["SAN"]["no_shows"] == 1
    assert len(acts["called"]) >= 3 and len(acts["finished"]) >= 1


def test_appointments_and_their_no_show(day, report):
    appts = report["total"]["appointments"]
    assert appts["total"] == 3 and appts["noshow"] == 1
    assert report["by_department"]["SAN"]["appointments"]["by_status"] == {"noshow": 1}
    assert sum(appts["by_status"].values()) == 3


def test_waiting_times_match_the_encounters_the_his_holds(day, report):
    """The waits, recomputed here from a plain search of every Encounter."""
    config = day["config"]
    found, _ = day["his"].client.search("Encounter", [("_count", "500")])
    records = [visit_record(e, extensions(config.his), config.his.department_system) for e in found
               if e.get("resourceType") == "Encounter"]
    for dept in ("NOI", "SAN"):
        mine = [r for r in records if r and r.department == dept]
        to_call = [(r.called_at - r.arrived_at).total_seconds() / 60 for r in mine if r.called_at]
        to_start = [(r.started_at - r.arrived_at).total_seconds() / 60 for r in mine if r.started_at]
        got = report["by_department"][dept]
        assert got["wait_to_call_minutes"]["count"] == len(to_call) == got["called"]
        assert got["wait_to_call_minutes"]["median"] == round(statistics.median(to_call), 1)
        if to_start:
            assert got["wait_to_start_minutes"]["median"] == round(statistics.median(to_start), 1)


def test_one_department(day):
    r = kiosk_stats(day, "--department", "MAT", "--json")
    data = json.loads(r.stdout)
    assert list(data["by_department"]) == ["MAT"] and data["total"]["checkins"] == 3


def test_csv_markdown_and_html_files(day):
    out = day["tmp"]
    assert kiosk_stats(day, "--output", str(out / "r.csv")).returncode == 0
    raw = (out / "r.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # Excel reads it as UTF-8
    rows = {row["department"]: row for row in csv.DictReader(io.StringIO(raw.decode("utf-8-sig")))}
    assert rows["TOTAL"]["checkins"] == "10" and rows["NOI"]["department_name"] == "Nội khoa"
    assert rows["MAT"]["mode_offline"] == "1" and sum(int(rows["TOTAL"][f"h{h:02d}"]) for h in range(24)) == 10
    md = kiosk_stats(day, "--format", "md")
    assert md.returncode == 0 and "| Lượt đăng ký / check-ins | 10 |" in md.stdout
    assert kiosk_stats(day, "--output", str(out / "r.html")).returncode == 0
    assert (out / "r.html").read_text(encoding="utf-8").count("data:image/svg+xml;base64,") == 4


def test_reports_hold_no_personal_data(day):
    outputs = [kiosk_stats(day, *args).stdout for args in (["--json"], ["--format", "md"], ["--format", "csv"],
                                                           ["--format", "html"])]
    for p in demo_people():
        words = [p["citizen_id"], p["citizen_id"][-6:], p["full_name"], mask_name(p["full_name"]),
                 p["birth_date"], p["address"]]
        for text in outputs:
            for word in words:
                assert word not in text, (p["key"], word)


@pytest.mark.parametrize("args, message", [
    (["--department", "XYZ"], "kiosk stats: --department: 'XYZ' is not a department in the HIS (known: MAT, NGOAI, "
                              "NHI, NOI, RHM, SAN, TIM, TMH)\n"),
    (["--from", "hôm qua"], "kiosk stats: --from: expected a date YYYY-MM-DD, got 'hôm qua'\n"),
    (["--from", "2026-03-05", "--to", "2026-03-01"], "kiosk stats: --to: 2026-03-01 is before --from 2026-03-05\n"),
    (["--output", "/nonexistent/dir/r.html"], "kiosk stats: --output: folder '/nonexistent/dir' does not exist\n"),
])
def test_bad_input_is_one_line_naming_the_option(day, args, message):
    r = subprocess.run([sys.executable, "-m", "app", "stats", "--config", str(day["file"]), *args],
                       cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert (r.returncode, r.stdout, r.stderr) == (2, "", message)


def test_his_down_is_one_line(day, tmp_path):
    cfg = tmp_path / "down.toml"
    cfg.write_text('[his]\nbase_url = "http://127.0.0.1:9/fhir/R4"\nretries = 0\nconnect_timeout_s = 1.0\n')
    r = subprocess.run([sys.executable, "-m", "app", "stats", "--config", str(cfg)], cwd=ROOT, capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 1 and r.stderr.count("\n") == 1 and "Traceback" not in r.stderr
    assert r.stderr.startswith("kiosk stats: GET ") and "ConnectionError talking to his.base_url" in r.stderr
