"""Message catalogue: every sentence a patient reads, in Vietnamese and English.

Code refers to messages by key; nothing user-facing is written inline. Keys are
grouped by prefix: ``error.*`` for typed errors (``KioskError.patient_message_key``).
Screens add their own groups (``ui.*``) in ``ui/``'s catalogue, which builds on
this one.
"""
from __future__ import annotations

LANGUAGES = ("vi", "en")

MESSAGES: dict[str, dict[str, str]] = {
    "error.generic": {
        "vi": "Đã có lỗi xảy ra. Vui lòng thử lại hoặc đến quầy tiếp đón.",
        "en": "Something went wrong. Please try again or go to the reception desk.",
    },
    "error.out_of_service": {
        "vi": "Máy tạm ngừng phục vụ. Vui lòng đến quầy tiếp đón.",
        "en": "This kiosk is out of service. Please go to the reception desk.",
    },
    "error.his": {
        "vi": "Không đăng ký được lúc này. Vui lòng thử lại hoặc đến quầy tiếp đón.",
        "en": "Check-in is not possible right now. Please try again or go to the reception desk.",
    },
    "error.his_unavailable": {
        "vi": "Hệ thống bệnh viện đang bận. Vui lòng thử lại sau ít phút.",
        "en": "The hospital system is busy. Please try again in a few minutes.",
    },
    "error.his_refused": {
        "vi": "Hệ thống bệnh viện không chấp nhận yêu cầu. Vui lòng đến quầy tiếp đón.",
        "en": "The hospital system did not accept the request. Please go to the reception desk.",
    },
    "error.patient_ambiguous": {
        "vi": "Có nhiều hồ sơ trùng số định danh. Vui lòng đến quầy tiếp đón để được hỗ trợ.",
        "en": "Several records share this ID number. Please go to the reception desk for help.",
    },
    "error.department_required": {
        "vi": "Bạn chưa có lịch hẹn hôm nay. Vui lòng chọn chuyên khoa.",
        "en": "You have no appointment today. Please choose a department.",
    },
    "error.unknown_department": {
        "vi": "Chuyên khoa này hiện không nhận bệnh. Vui lòng chọn chuyên khoa khác.",
        "en": "This department is not taking patients now. Please choose another.",
    },
    "error.booking_not_found": {
        "vi": "Không tìm thấy lịch hẹn này. Vui lòng quét mã QR trên căn cước hoặc đến quầy tiếp đón.",
        "en": "This appointment was not found. Please scan the QR code on your ID card or go to the reception desk.",
    },
    "error.booking_not_today": {
        "vi": "Lịch hẹn này không phải hôm nay. Vui lòng kiểm tra ngày hẹn hoặc đến quầy tiếp đón.",
        "en": "This appointment is not for today. Please check the date or go to the reception desk.",
    },
    "error.booking_no_citizen_id": {
        "vi": "Hồ sơ của bạn chưa có số căn cước. Vui lòng quét mã QR trên căn cước hoặc đến quầy tiếp đón.",
        "en": "Your record has no ID card number. Please scan the QR code on your ID card or go to the reception desk.",
    },
    "error.patient_code_not_found": {
        "vi": "Không tìm thấy bệnh nhân có mã này. Vui lòng nhập số định danh trên thẻ căn cước, "
              "hoặc đến quầy tiếp đón.",
        "en": "No patient has this patient code. Please type the ID number on your ID card, "
              "or go to the reception desk.",
    },
    "error.patient_code_no_citizen_id": {
        "vi": "Hồ sơ của bạn chưa có số căn cước. Vui lòng nhập số định danh trên thẻ căn cước, "
              "hoặc đến quầy tiếp đón.",
        "en": "Your record has no ID card number. Please type the ID number on your ID card, "
              "or go to the reception desk.",
    },
    "error.invalid_patient_code": {
        "vi": "Mã bệnh nhân chưa đúng. Vui lòng xem lại mã trên phiếu khám cũ và nhập lại.",
        "en": "That patient code is not right. Please check the code on your old slip and type it again.",
    },
    "error.invalid_id": {
        "vi": "Số định danh cần đủ 12 chữ số. Vui lòng kiểm tra và nhập lại.",
        "en": "The ID number must have 12 digits. Please check and type it again.",
    },
}


def t(key: str, lang: str = "vi", **values) -> str:
    """Look up ``key`` in ``lang`` (falling back to Vietnamese, then the key)."""
    entry = MESSAGES.get(key)
    if entry is None:
        return key
    text = entry.get(lang) or entry.get("vi") or key
    return text.format(**values) if values else text


def register(messages: dict[str, dict[str, str]]) -> None:
    """Add a module's messages (device errors, screens) to the catalogue."""
    for key, entry in messages.items():
        missing = [lang for lang in LANGUAGES if lang not in entry]
        if missing:
            raise ValueError(f"message {key!r} lacks {', '.join(missing)}")
        MESSAGES[key] = entry
