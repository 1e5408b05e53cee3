"""The labels of the buttons the kiosk's voice names ("touch Continue"), in
the core so that the screen and the voice always use the same words: the
screens (``ui/catalogue.py``) show them and the spoken guidance
(``kiosk/journey/spoken.py``) says them, through ``{..._button}`` placeholders.
"""
from __future__ import annotations

from kiosk.texts.messages import register, t

BUTTONS: dict[str, dict[str, str]] = {
    "ui.welcome.type_id": {"vi": "Nhập số định danh", "en": "Type your ID number"},
    "ui.welcome.patient_code": {"vi": "Nhập mã bệnh nhân", "en": "Type your patient code"},
    "ui.keypad.ok": {"vi": "Tiếp tục", "en": "Continue"},
    "ui.confirm.yes": {"vi": "Đúng, tiếp tục", "en": "Yes, continue"},
    "ui.confirm.no": {"vi": "Không phải tôi", "en": "That is not me"},
    "ui.appointment.confirm": {"vi": "Đăng ký khám", "en": "Check in"},
    "ui.priority.none": {"vi": "Không, tôi xếp hàng bình thường", "en": "No, normal queue"},
    "ui.done.finish": {"vi": "Xong", "en": "Finish"},
    "ui.insurance.accept": {"vi": "Khám dịch vụ (không dùng BHYT)", "en": "Fee-paying visit"},
    "ui.insurance.desk": {"vi": "Đến quầy tiếp đón", "en": "Go to the desk"},
    "ui.insurance.finish": {"vi": "Xong", "en": "Finish"},
    "ui.action.retry": {"vi": "Thử lại", "en": "Try again"},
    "ui.action.type_id": {"vi": "Nhập số định danh", "en": "Type the ID number"},
    "ui.action.home": {"vi": "Về màn hình đầu", "en": "Start again"},
    "ui.a11y.repeat": {"vi": "↻ Nghe lại", "en": "↻ Repeat"},
    "ui.a11y.stop": {"vi": "■ Tắt tiếng", "en": "■ Stop"},
}
register(BUTTONS)

# placeholder in a speech text -> the button it names
SAID = {"type_id_button": "ui.welcome.type_id", "patient_code_button": "ui.welcome.patient_code",
        "continue_button": "ui.keypad.ok", "yes_button": "ui.confirm.yes", "not_me_button": "ui.confirm.no",
        "check_in_button": "ui.appointment.confirm", "normal_queue_button": "ui.priority.none",
        "finish_button": "ui.insurance.finish", "fee_button": "ui.insurance.accept",
        "desk_button": "ui.insurance.desk", "repeat_button": "ui.a11y.repeat", "stop_button": "ui.a11y.stop"}
SYMBOLS = "↻■♪ "  # drawn before some labels; not said


def said_label(key: str, lang: str) -> str:
    """A button's label as the voice says it (without the symbol drawn before it)."""
    return t(key, lang).lstrip(SYMBOLS)


def button_names(lang: str) -> dict[str, str]:
    """The values of every ``{..._button}`` placeholder in ``lang``."""
    return {name: said_label(key, lang) for name, key in SAID.items()}
