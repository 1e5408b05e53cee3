"""The ticket's one stored record (kiosk/ticket_record.py): every field kept,
and the records earlier versions wrote still read."""
from __future__ import annotations

import dataclasses
import json
from datetime import datetime, timedelta, timezone

import pytest

from kiosk.domain import Priority, Ticket
from kiosk.ticket_record import FIELDS, REQUIRED, ticket_from_record, ticket_to_record
from tests.ticket_records import FULL, ICT, OLD_KEPT_FILE, OLD_OUTBOX_ROW


def test_the_record_keeps_all_eighteen_fields():
    assert FIELDS == tuple(f.name for f in dataclasses.fields(Ticket)) and len(FIELDS) == 18
    defaults = Ticket(**{name: getattr(FULL, name) for name in REQUIRED})
    assert all(getattr(FULL, f) != getattr(defaults, f) for f in FIELDS if f not in REQUIRED)
    record = ticket_to_record(FULL)
    assert list(record) == list(FIELDS)
    back = ticket_from_record(json.loads(json.dumps(record, ensure_ascii=False)))
    assert back == FULL
    assert back.issued_at.utcoffset() == timedelta(hours=7) and back.priority is Priority.ELDERLY_75


@pytest.mark.parametrize("issued_at", [datetime(2026, 3, 2, 8, 0, tzinfo=timezone.utc),
                                       datetime(2026, 3, 2, 8, 0, tzinfo=timezone(timedelta(hours=-3, minutes=-30))),
                                       datetime(2026, 3, 2, 8, 0)])
def test_issued_at_keeps_its_timezone(issued_at):
    ticket = dataclasses.replace(FULL, issued_at=issued_at, priority=None)
    back = ticket_from_record(json.loads(json.dumps(ticket_to_record(ticket))))
    assert back == ticket and back.issued_at.utcoffset() == issued_at.utcoffset() and back.priority is None


def test_an_old_outbox_row_reads_with_defaults_for_the_missing_fields():
    ticket = ticket_from_record(json.loads(OLD_OUTBOX_ROW))
    assert ticket == Ticket(reference="0b5c6c1e-6a51-4f7e-9a57-2f6d1c9e4a10", number=2005, label="K2-005",
                            department_code="TIM", department_name="Tim mạch", room_code="P203",
                            room_name="Phòng khám Tim mạch", room_where="Tầng 2, Nhà A",
                            issued_at=datetime(2026, 11, 25, 9, 5, tzinfo=ICT), booked=False,
                            priority=Priority.ELDERLY_75, masked_name="TRẦN T** B*** NGỌC", offline=True,
                            hospital_name="BỆNH VIỆN ĐA KHOA TỈNH BẮC NINH")
    assert ticket.insurance_status is None and ticket.people_ahead is None and ticket.follow_url == ""


def test_an_old_kept_ticket_file_reads_and_is_written_the_same_way():
    ticket = ticket_from_record(json.loads(OLD_KEPT_FILE))
    assert ticket == Ticket(reference="5d0f3c2a-8b7e-4c1d-a9f2-3e4b5c6d7e80", number=12, label="012",
                            department_code="NOI", department_name="Nội khoa", room_code="P101",
                            room_name="Phòng khám Nội 1", room_where="Tầng 1, Nhà A",
                            issued_at=datetime(2026, 11, 25, 9, 5, tzinfo=ICT), booked=True,
                            masked_name="NGUYỄN V** AN", insurance_status="valid", people_ahead=5,
                            estimated_wait_min=20, hospital_name="BỆNH VIỆN ĐA KHOA TỈNH BẮC NINH")
    # a kiosk rolled back to the previous version still reads the files this one writes
    assert json.dumps(ticket_to_record(ticket), ensure_ascii=False, indent=1) == OLD_KEPT_FILE


def test_defaults_for_missing_fields_and_unknown_keys():
    record = json.loads(OLD_OUTBOX_ROW)
    del record["offline"], record["masked_name"]
    record["added_by_a_later_version"] = 1
    ticket = ticket_from_record(record, offline=True)
    assert ticket.offline is True and ticket.masked_name == ""
    assert ticket_from_record({**record, "offline": False}, offline=True).offline is False  # stored value wins
    with pytest.raises(TypeError):
        ticket_from_record(record, no_such_field=1)


@pytest.mark.parametrize("broken", [{"label": "K2-005"}, [], "K2-005",
                                    {**json.loads(OLD_OUTBOX_ROW), "issued_at": "yesterday"},
                                    {**json.loads(OLD_OUTBOX_ROW), "priority": "vip"}])
def test_an_unreadable_record_raises_value_error_without_its_contents(broken):
    with pytest.raises(ValueError) as err:
        ticket_from_record(broken)
    assert "TRẦN" not in str(err.value)
