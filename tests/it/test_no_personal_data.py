"""No personal data in the logs or in the outbox's error texts.

Full check-ins of the demo people run through the kiosk's real services
(``build_kiosk``: CheckInService on the sandbox HIS, wrapped by the
offline-aware handler with its outbox and sender), online first, then with the
HIS stopped (offline tickets, failed deliveries), then with the HIS back
(deliveries). Everything is logged at DEBUG in JSON. Afterwards none of the
people's names, ID numbers (also the last 9 and last 6 digits), birth dates
(several formats) or addresses may appear in the log or the outbox errors.
"""
from __future__ import annotations

import io
import logging
import time
from datetime import date

import pytest
from helpers import make_config, request_for

from app.sandbox import SandboxHis
from kiosk.demo_data import demo_people, demo_person, person_identity
from kiosk.domain import Assurance, Identity, IdentitySource
from kiosk.errors import KioskError
from kiosk.operations.logs import setup_logging

pytestmark = pytest.mark.integration

# (person, department, typed?) — a typed ID has no birth date: two records of
# "minh" share his ID, so that check-in is refused as ambiguous.
ONLINE = [("an", None, False), ("ngoc", "NOI", False), ("linh", "NHI", False), ("huong", "TMH", False),
          ("minh", "NOI", False), ("minh", "NOI", True)]
OFFLINE = [("hung", "TIM", False), ("nhung", "SAN", False), ("ngoc", "MAT", True)]


def forbidden_strings(person: dict) -> dict[str, str]:
    cid, name = person["citizen_id"], person["full_name"]
    born = date.fromisoformat(person["birth_date"])
    out = {
        "name": name, "name (title case)": name.title(), "name (lower case)": name.lower(),
        "name without family name": " ".join(name.split()[1:]),
        "ID number": cid, "last 9 digits": cid[-9:], "last 6 digits (CAN)": cid[-6:],
        "birth date ISO": born.isoformat(), "birth date dd/mm/yyyy": born.strftime("%d/%m/%Y"),
        "birth date dd-mm-yyyy": born.strftime("%d-%m-%Y"), "birth date ddmmyyyy": born.strftime("%d%m%Y"),
        "birth date yyyymmdd": born.strftime("%Y%m%d"),
        "address": person["address"], "street": person["address"].split(",")[0],
    }
    if person.get("old_id"):
        out["old ID number"] = person["old_id"]
    return out


def test_full_check_ins_leave_no_personal_data_in_logs_or_outbox_errors(tmp_path):
    from app.compose import build_kiosk

    stream = io.StringIO()
    sandbox = SandboxHis(port=0).start()
    port = sandbox.port
    config = make_config(sandbox.base_url, kiosk={"id": "K-PII-1", "data_dir": str(tmp_path / "data")},
                         logging={"level": "DEBUG", "format": "json"},
                         offline={"go_offline_after_s": 2.0, "probe_interval_s": 0.5})
    handler = setup_logging(config, stream=stream)
    services = build_kiosk(config, with_devices=False)
    parts = services.outbox
    outcomes = []
    try:
        assert parts.prober.refresh_reference(force=True)  # departments cached for offline mode

        def check_in(key: str, department: str | None, typed: bool):
            person = demo_person(key)
            identity = (Identity(person["citizen_id"], IdentitySource.TYPED, Assurance.TYPED) if typed
                        else person_identity(person))
            try:
                result = services.checkin.check_in(request_for(identity, department))
                outcomes.append((key, result.mode))
            except KioskError as exc:  # e.g. ambiguous records: the patient goes to the desk
                logging.getLogger("tests.it").warning("check-in refused", exc_info=True,
                                                      extra={"event": "test.refused", "error": str(exc)})
                outcomes.append((key, type(exc).__name__))

        for key, dept, typed in ONLINE:
            check_in(key, dept, typed)
        sandbox.stop()
        for key, dept, typed in OFFLINE:
            check_in(key, dept, typed)
        parts.sender.deliver_due(ignore_backoff=True)  # fails: the HIS is down
        errors_while_down = [e["last_error"] for e in parts.store.entries() if e["last_error"]]
        sandbox = SandboxHis(port=port).start()  # the HIS is back on the same address
        parts.monitor.report_ok("test: HIS back")
        for _ in range(50):  # the background sender may be delivering at the same time
            parts.sender.deliver_due(ignore_backoff=True)
            if parts.store.counts()["delivered"] == 3:
                break
            time.sleep(0.2)
        delivered = parts.store.counts()["delivered"]
        outbox_errors = errors_while_down + [e["last_error"] or "" for e in parts.store.entries()]
    finally:
        services.close()
        sandbox.stop()
        logging.getLogger().removeHandler(handler)

    assert [m for k, m in outcomes[:5]] == ["online"] * 5, outcomes
    assert outcomes[5] == ("minh", "PatientAmbiguous"), outcomes
    assert [m for k, m in outcomes[-3:]] == ["offline"] * 3, outcomes
    assert errors_while_down, "deliveries to a stopped HIS must have recorded errors"
    assert delivered == 3

    log_text = stream.getvalue()
    assert '"event": "checkin.offline"' in log_text and '"kiosk": "K-PII-1"' in log_text
    haystacks = {"log": log_text, "outbox errors": "\n".join(outbox_errors)}
    leaks = [f"{what} of {person['key']} in the {where}"
             for person in demo_people() for what, value in forbidden_strings(person).items()
             for where, text in haystacks.items() if value and value in text]
    assert leaks == []
