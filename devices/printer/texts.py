"""Every sentence printed on a ticket or shown when printing fails, in
Vietnamese and English, registered in the kiosk's message catalogue so that
translators find them in one place and nothing is written inline in the layout.
"""
from __future__ import annotations

from kiosk.domain import Priority
from kiosk.texts.messages import register, t

MESSAGES = {
    # --- ticket ---------------------------------------------------------------
    "ticket.title": {"vi": "PHIẾU SỐ THỨ TỰ KHÁM BỆNH", "en": "QUEUE TICKET"},
    "ticket.number": {"vi": "Số thứ tự", "en": "Your number"},
    "ticket.department": {"vi": "Chuyên khoa", "en": "Department"},
    "ticket.room": {"vi": "Phòng khám", "en": "Clinic room"},
    "ticket.booked": {"vi": "Khám theo lịch hẹn", "en": "Booked appointment"},
    "ticket.walk_in": {"vi": "Khám không hẹn trước", "en": "Walk-in"},
    "ticket.priority": {"vi": "ƯU TIÊN", "en": "PRIORITY"},
    "ticket.insurance": {"vi": "BHYT", "en": "Health insurance"},
    "ticket.people_ahead": {"vi": "Trước bạn còn {n} người", "en": "{n} people ahead of you"},
    "ticket.wait": {"vi": "Thời gian chờ dự kiến: khoảng {n} phút", "en": "Estimated wait: about {n} min"},
    "ticket.patient": {"vi": "Người bệnh", "en": "Patient"},
    "ticket.issued": {"vi": "Ngày {date} lúc {time}", "en": "{date} at {time}"},
    "ticket.reference": {"vi": "Mã phiếu", "en": "Ticket ref."},
    "ticket.offline": {"vi": "OFFLINE", "en": "OFFLINE"},
    "ticket.offline_note": {
        "vi": "Phiếu cấp khi mất kết nối. Số sẽ được xác nhận tại phòng khám.",
        "en": "Issued while offline. The clinic will confirm your number.",
    },
    "ticket.follow": {"vi": "Quét mã để theo dõi số trên điện thoại", "en": "Scan to follow your number on your phone"},
    "ticket.reprint": {"vi": "BẢN IN LẠI", "en": "REPRINT"},
    "ticket.footer": {"vi": "Vui lòng chờ gọi số. Xin cảm ơn!", "en": "Please wait for your number to be called. Thank you!"},
    "ticket.sample_hospital": {"vi": "BỆNH VIỆN ĐA KHOA TỈNH", "en": "PROVINCIAL GENERAL HOSPITAL"},
    # priority groups of Law 15/2023/QH15 Art. 3(2)
    "priority.emergency": {"vi": "Cấp cứu", "en": "Emergency"},
    "priority.child_under_6": {"vi": "Trẻ em dưới 6 tuổi", "en": "Child under 6"},
    "priority.pregnant": {"vi": "Phụ nữ có thai", "en": "Pregnant woman"},
    "priority.disability": {"vi": "Người khuyết tật", "en": "Person with a disability"},
    "priority.elderly_75": {"vi": "Người từ 75 tuổi trở lên", "en": "Aged 75 or over"},
    "priority.meritorious": {"vi": "Người có công với cách mạng", "en": "Person with meritorious service"},
    # insurance status codes the check-in puts on a ticket (kiosk.insurance.rules.ticket_status)
    "insurance.valid": {"vi": "Thẻ hợp lệ", "en": "Card valid"},
    "insurance.new_card": {"vi": "Thẻ mới, hợp lệ", "en": "New card, valid"},
    "insurance.valid_elsewhere": {"vi": "Thẻ hợp lệ, KCB ban đầu nơi khác", "en": "Card valid, registered elsewhere"},
    "insurance.expired": {"vi": "Thẻ hết hạn", "en": "Card expired"},
    "insurance.not_yet_valid": {"vi": "Thẻ chưa có giá trị sử dụng", "en": "Card not valid yet"},
    "insurance.not_found": {"vi": "Không tìm thấy thẻ", "en": "No card found"},
    "insurance.mismatch": {"vi": "Thông tin thẻ không khớp", "en": "Card details do not match"},
    "insurance.refused": {"vi": "Thẻ tạm dừng hoặc thu hồi", "en": "Card suspended or withdrawn"},
    "insurance.invalid": {"vi": "Thẻ không hợp lệ", "en": "Card not valid"},
    "insurance.none": {"vi": "Không có thẻ (khám dịch vụ)", "en": "No card (fee-paying)"},
    "insurance.unchecked": {"vi": "Chưa kiểm tra được (sẽ kiểm tra lại)", "en": "Not checked yet (checked later)"},
    "insurance.out_of_area": {"vi": "Trái tuyến", "en": "Out of area"},
    # a fee-paying visit chosen after an invalid card: printed on its own line, not after "BHYT:"
    "insurance.fee": {"vi": "Khám dịch vụ (không dùng BHYT)", "en": "Fee-paying visit (no health insurance)"},
    # --- printing errors (KioskError.patient_message_key) --------------------
    "error.printer": {
        "vi": "Máy chưa in được phiếu. Số của bạn đã được ghi nhận; vui lòng đến quầy tiếp đón để nhận phiếu.",
        "en": "The ticket could not be printed. Your number is recorded; please collect the ticket at the reception desk.",
    },
    "error.printer_paper_out": {
        "vi": "Máy in hết giấy. Số của bạn đã được ghi nhận; vui lòng đến quầy tiếp đón để nhận phiếu.",
        "en": "The printer is out of paper. Your number is recorded; please collect the ticket at the reception desk.",
    },
    "error.printer_offline": {
        "vi": "Máy in đang tạm ngừng. Số của bạn đã được ghi nhận; vui lòng đến quầy tiếp đón để nhận phiếu.",
        "en": "The printer is not working. Your number is recorded; please collect the ticket at the reception desk.",
    },
    "error.ticket_not_found": {
        "vi": "Không tìm thấy phiếu để in lại. Vui lòng kiểm tra mã phiếu.",
        "en": "No ticket to reprint was found. Please check the ticket reference.",
    },
}

register(MESSAGES)


def priority_text(priority: Priority, lang: str) -> str:
    return t(f"priority.{priority.value}", lang)


def insurance_text(status: str, lang: str) -> str:
    """A known status code in words; anything else (a text the HIS gave) as is."""
    key = f"insurance.{status}"
    text = t(key, lang)
    return status if text == key else text
