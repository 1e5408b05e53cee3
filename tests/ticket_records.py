"""Tickets for the tests of the ticket's stored record (kiosk/ticket_record.py):
one with every field set, and the exact records the previous version wrote."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from kiosk.domain import Priority, Ticket

ICT = timezone(timedelta(hours=7))

# Every field set to something other than its default (checked by tests/core/test_ticket_record.py), so a
# field the record dropped would show.
FULL = Ticket(reference="0b5c6c1e-6a51-4f7e-9a57-2f6d1c9e4a10", number=1_020_005, label="K2-005",
              department_code="TIM", department_name="Tim mạch", room_code="P203",
              room_name="Phòng khám Tim mạch", room_where="Tầng 2, Nhà A",
              issued_at=datetime(2026, 11, 25, 9, 5, 7, 123456, tzinfo=ICT), booked=True,
              priority=Priority.ELDERLY_75, masked_name="TRẦN T** B*** NGỌC", insurance_status="fee",
              people_ahead=7, estimated_wait_min=25, offline=True, hospital_name="BỆNH VIỆN ĐA KHOA TỈNH BẮC NINH",
              follow_url="https://kiosk.example.invalid/q/abc")

# The exact shapes the previous version wrote (same key names, same order).
OLD_OUTBOX_ROW = (  # offline_cache/outbox.py ticket_json(): 14 of the 18 fields, json.dumps(ensure_ascii=False)
    '{"reference": "0b5c6c1e-6a51-4f7e-9a57-2f6d1c9e4a10", "number": 2005, "label": "K2-005", '
    '"department_code": "TIM", "department_name": "Tim mạch", "room_code": "P203", '
    '"room_name": "Phòng khám Tim mạch", "room_where": "Tầng 2, Nhà A", "issued_at": "2026-11-25T09:05:00+07:00", '
    '"booked": false, "priority": "elderly_75", "masked_name": "TRẦN T** B*** NGỌC", "offline": true, '
    '"hospital_name": "BỆNH VIỆN ĐA KHOA TỈNH BẮC NINH"}')
OLD_KEPT_FILE = """{
 "reference": "5d0f3c2a-8b7e-4c1d-a9f2-3e4b5c6d7e80",
 "number": 12,
 "label": "012",
 "department_code": "NOI",
 "department_name": "Nội khoa",
 "room_code": "P101",
 "room_name": "Phòng khám Nội 1",
 "room_where": "Tầng 1, Nhà A",
 "issued_at": "2026-11-25T09:05:00+07:00",
 "booked": true,
 "priority": null,
 "masked_name": "NGUYỄN V** AN",
 "insurance_status": "valid",
 "people_ahead": 5,
 "estimated_wait_min": 20,
 "offline": false,
 "hospital_name": "BỆNH VIỆN ĐA KHOA TỈNH BẮC NINH",
 "follow_url": ""
}"""  # devices/printer/kept.py ticket_to_json(), json.dumps(ensure_ascii=False, indent=1)
