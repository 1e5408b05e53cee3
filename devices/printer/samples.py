"""Sample tickets with fictional people: ``kiosk print-test``, the README images,
the benchmark and the tests print these."""
from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

from kiosk.domain import Priority, Ticket, mask_name

VARIANTS = ("normal", "offline-priority", "long")
_ICT = timezone(timedelta(hours=7))


def sample_ticket(variant: str = "normal", *, hospital_name: str = "", now: datetime | None = None,
                  reference: str | None = None) -> Ticket:
    """A ticket as the check-in service issues it. ``variant``: "normal" (booked,
    insurance valid), "offline-priority" (issued offline to a patient aged 75+)
    or "long" (very long names to show wrapping)."""
    now = now or datetime(2026, 11, 25, 9, 5, tzinfo=_ICT)
    reference = reference or str(uuid.uuid5(uuid.NAMESPACE_URL, f"kiosk-sample-{variant}"))
    hospital = hospital_name or "BỆNH VIỆN ĐA KHOA TỈNH BẮC NINH"
    if variant == "normal":
        return Ticket(reference=reference, number=12, label="012", department_code="NOI",
                      department_name="Nội khoa", room_code="P101", room_name="Phòng khám Nội 1",
                      room_where="Tầng 1, Nhà A", issued_at=now, booked=True,
                      masked_name=mask_name("NGUYỄN VĂN AN"), insurance_status="valid",
                      people_ahead=5, estimated_wait_min=20, hospital_name=hospital)
    if variant == "offline-priority":
        return Ticket(reference=reference, number=2005, label="K2-005", department_code="TIM",
                      department_name="Tim mạch", room_code="P203", room_name="Phòng khám Tim mạch",
                      room_where="Tầng 2, Nhà A", issued_at=now, booked=False,
                      priority=Priority.ELDERLY_75, masked_name=mask_name("TRẦN THỊ BÍCH NGỌC"),
                      insurance_status="unchecked", offline=True, hospital_name=hospital)
    if variant == "long":
        return Ticket(reference=reference, number=137, label="137", department_code="RHM",
                      department_name="Răng Hàm Mặt – Phẫu thuật hàm mặt và tạo hình thẩm mỹ",
                      room_code="P112-B",
                      room_name="Phòng khám Răng Hàm Mặt chuyên sâu nha chu và phục hình răng sứ",
                      room_where="Tầng 4, Khu nhà kỹ thuật cao Trung tâm Răng Hàm Mặt, cổng số 3 đường Nguyễn Quyền",
                      issued_at=now, booked=False, priority=Priority.MERITORIOUS,
                      masked_name=mask_name("CÔNG TẰNG TÔN NỮ THỊ HOÀNG PHƯƠNG THUỶ NGUYỄNPHƯỚCHUYỀNTRÂN"),
                      insurance_status="Thẻ BHYT còn hạn đến 31/12/2026, đúng tuyến đăng ký khám chữa bệnh ban đầu",
                      people_ahead=123, estimated_wait_min=245,
                      hospital_name="BỆNH VIỆN ĐA KHOA TRUNG ƯƠNG THÁI NGUYÊN – CƠ SỞ 2 KHOA KHÁM BỆNH THEO YÊU CẦU")
    raise ValueError(f"sample ticket variant must be one of {VARIANTS}, got {variant!r}")
