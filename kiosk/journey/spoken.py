"""What the kiosk says aloud on each screen, built from the journey's state
(Qt-free, so it is tested without a screen or a sound card).

Each screen's instruction and what is on it: the masked name and the date of
birth to confirm, today's appointment, the departments with how many are
waiting, the priority choices, the queue number digit by digit and the room.
Never a full ID number — only its last four digits, as the screen shows them —
and only the masked name (family and given name, middle names left out).
The sentences follow the screen's language (Vietnamese or English).
"""
from __future__ import annotations

from datetime import date, datetime
from typing import Callable

from kiosk.domain import Identity, mask_name
from kiosk.journey.events import CITIZEN_ID, FLOW_SHORT, HOME, RETRY, TYPE_ID, Step
from kiosk.texts.button_labels import button_names, said_label
from kiosk.texts.messages import register
from kiosk.texts.messages import t as _text

MONTHS_EN = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
             "November", "December")

register({
    "speech.intro": {"vi": "Hướng dẫn bằng giọng nói đã bật. Nút {repeat_button} và nút {stop_button} ở đầu màn hình. "
                           "Chạm và giữ một nút để nghe tên nút mà không chọn nút đó.",
                     "en": "Spoken guidance is on. The {repeat_button} and {stop_button} buttons are at the top of the screen. "
                           "Touch and hold a button to hear its name without choosing it."},
    "speech.welcome": {
        "vi": "Xin chào. Mời đăng ký khám bệnh. Đặt thẻ căn cước lên đầu đọc, hoặc đưa mã QR trên thẻ vào camera. "
              "Không có thẻ? Chạm nút {type_id_button}, hoặc {patient_code_button}, ở cuối màn hình.",
        "en": "Welcome. Check in for your visit. Place your ID card on the reader, or show the QR code on your card "
              "to the camera. No card? Touch {type_id_button}, or {patient_code_button}, at the bottom of "
              "the screen."},
    "speech.cannot_print": {"vi": "Máy in tạm thời không in được phiếu; số thứ tự sẽ hiện trên màn hình.",
                            "en": "The printer cannot print right now; your number will be shown on the screen."},
    "speech.need_key": {
        "vi": "Đã nhận thẻ. Để mở chip, đưa mã QR trên thẻ vào camera, hoặc nhập 12 số định danh trên bàn phím số "
              "rồi chạm {continue_button}. Cứ để thẻ trên đầu đọc.",
        "en": "Card detected. To open the chip, show the QR code on your card to the camera, or type your 12-digit "
              "ID number on the keypad and touch {continue_button}. Leave the card on the reader."},
    "speech.keypad.citizen_id": {
        "vi": "Nhập 12 số định danh in ở mặt trước thẻ căn cước trên bàn phím số, rồi chạm {continue_button} ở góc dưới "
              "bên phải. Đã nhập {n} số.",
        "en": "Type the 12-digit ID number from the front of your ID card on the keypad, then touch {continue_button} at "
              "the bottom right. {n} digits typed."},
    "speech.keypad.patient_code": {
        "vi": "Nhập phần số của mã bệnh nhân in trên phiếu khám cũ, rồi chạm {continue_button} ở góc dưới bên phải. "
              "Đã nhập {n} số.",
        "en": "Type the digits of the patient code printed on your old slip, then touch {continue_button} at the bottom "
              "right. {n} digits typed."},
    "speech.wait.reading": {"vi": "Đang đọc thẻ. Vui lòng giữ yên thẻ trên đầu đọc.",
                            "en": "Reading your card. Please keep it still on the reader."},
    "speech.wait.looking_up": {"vi": "Đang tìm hồ sơ và lịch hẹn hôm nay. Xin chờ.",
                               "en": "Looking for your record and today's appointment. Please wait."},
    "speech.wait.checking_in": {"vi": "Đang đăng ký khám. Xin chờ.", "en": "Checking you in. Please wait."},
    "speech.wait.printing": {"vi": "Đang in phiếu.", "en": "Printing your ticket."},
    "speech.who": {"vi": "Họ tên {name}. Ngày sinh {dob}.", "en": "Name: {name}. Born {dob}."},
    "speech.who_no_name": {"vi": "Số định danh bạn đã nhập.", "en": "The ID number you typed."},
    "speech.id_end": {"vi": "Số định danh có bốn số cuối {digits}.", "en": "ID number ending in {digits}."},
    "speech.confirm": {
        "vi": "Đây có phải là bạn không? {who} Nếu đúng, chạm nút {yes_button} ở góc dưới bên phải. "
              "Nếu không, chạm {not_me_button} ở góc dưới bên trái.",
        "en": "Is this you? {who} If so, touch {yes_button} at the bottom right. If not, touch {not_me_button} "
              "at the bottom left."},
    "speech.appointment": {
        "vi": "{who} Bạn có lịch hẹn hôm nay lúc {time}, {department}{room}. Chạm nút {check_in_button} ở góc dưới "
              "bên phải.",
        "en": "{who} You have an appointment today at {time}, {department}{room}. Touch {check_in_button} at the bottom "
              "right."},
    "speech.departments": {"vi": "{who} Bạn chưa có lịch hẹn hôm nay. Chọn chuyên khoa bạn muốn khám: {choices}.",
                           "en": "{who} You have no appointment today. Choose the department you need: {choices}."},
    "speech.departments_loading": {"vi": "Đang tải danh sách chuyên khoa.", "en": "Loading the departments."},
    "speech.waiting": {"vi": "{n} người đang chờ", "en": "{n} waiting"},
    "speech.priority_offer": {
        "vi": "Nếu bạn là {groups}, chạm nút tương ứng trước để được ưu tiên.",
        "en": "If you are {groups}, touch that button first to get priority."},
    "speech.priority_chosen": {"vi": "Đã chọn ưu tiên: {what}.", "en": "Priority chosen: {what}."},
    "speech.priority": {
        "vi": "Bạn có thuộc nhóm ưu tiên không? Nhân viên sẽ kiểm tra khi bạn vào khám. Các lựa chọn: {choices}; "
              "hoặc {normal_queue_button}.",
        "en": "Do you need priority? Staff will check this at your visit. The choices: {choices}; or "
              "{normal_queue_button}."},
    "speech.done": {"vi": "Đăng ký thành công. Số thứ tự của bạn là {number}. Mời đến {room}.",
                    "en": "You are checked in. Your number is {number}. Please go to {room}."},
    "speech.done.take": {"vi": "Vui lòng nhận phiếu ở khe bên dưới màn hình.",
                         "en": "Please take your ticket from the slot below the screen."},
    "speech.done.not_printed": {"vi": "Phiếu không in được: vui lòng ghi nhớ số này.",
                                "en": "The ticket could not be printed: please remember this number."},
    "speech.done.take_card": {"vi": "Đừng quên lấy thẻ căn cước trên đầu đọc.",
                              "en": "Do not forget your ID card on the reader."},
    "speech.error": {"vi": "Chưa thực hiện được. {message} Bạn có thể chạm: {actions}.",
                     "en": "That did not work. {message} You can touch: {actions}."},
    "speech.priority.pregnant": {"vi": "phụ nữ có thai", "en": "pregnant"},
    "speech.priority.disability": {"vi": "người khuyết tật", "en": "a person with a disability"},
    "speech.or": {"vi": "hoặc", "en": "or"},
    # the BHYT card check (kiosk.insurance.rules.shown_status) and the insurance screen
    "speech.coverage.checking": {"vi": "Đang kiểm tra thẻ bảo hiểm y tế.", "en": "Checking your health insurance card."},
    "speech.coverage.valid": {"vi": "Thẻ bảo hiểm y tế hợp lệ.", "en": "Your health insurance card is valid."},
    "speech.coverage.new_card": {"vi": "Bạn đã được cấp thẻ bảo hiểm y tế mới, còn hạn.",
                                 "en": "A new health insurance card was issued to you and is valid."},
    "speech.coverage.valid_elsewhere": {"vi": "Thẻ bảo hiểm y tế còn hạn, đăng ký khám ban đầu ở nơi khác.",
                                        "en": "Your health insurance card is valid, registered at another facility."},
    "speech.coverage.expired": {"vi": "Thẻ bảo hiểm y tế đã hết hạn.", "en": "Your health insurance card has expired."},
    "speech.coverage.not_yet_valid": {"vi": "Thẻ bảo hiểm y tế chưa có giá trị sử dụng hôm nay.",
                                      "en": "Your health insurance card is not valid yet today."},
    "speech.coverage.not_found": {"vi": "Không tìm thấy thẻ bảo hiểm y tế.", "en": "No health insurance card was found."},
    "speech.coverage.mismatch": {"vi": "Họ tên hoặc ngày sinh không khớp với thẻ bảo hiểm y tế.",
                                 "en": "Your name or date of birth does not match the health insurance card."},
    "speech.coverage.refused": {"vi": "Thẻ bảo hiểm y tế đang bị tạm dừng hoặc thu hồi.",
                                "en": "Your health insurance card is suspended or withdrawn."},
    "speech.coverage.unchecked": {"vi": "Chưa kiểm tra được thẻ bảo hiểm y tế; máy sẽ kiểm tra lại sau.",
                                  "en": "Your health insurance card could not be checked yet; it is checked later."},
    "speech.coverage.fee": {"vi": "Bạn khám dịch vụ, không dùng bảo hiểm y tế.",
                            "en": "You are a fee-paying patient, without health insurance."},
    "speech.insurance.counter": {
        "vi": "{message} Máy chưa đăng ký khám cho bạn: nhân viên ở quầy tiếp đón sẽ giúp bạn. Chạm {finish_button} để kết thúc.",
        "en": "{message} You are not checked in yet: the staff at the reception desk will help you. Touch {finish_button}."},
    "speech.insurance.fee": {
        "vi": "{message} Để khám ngay theo hình thức tự chi trả, không dùng bảo hiểm y tế, chạm nút {fee_button} "
              "ở góc dưới bên phải. Hoặc chạm {desk_button}.",
        "en": "{message} To be seen now as a fee-paying patient, without health insurance, touch {fee_button} "
              "at the bottom right. Or touch {desk_button}."},
})

def t(key: str, lang: str, **values) -> str:
    """A sentence to say: the catalogue's text with the buttons it names filled in
    as the screen labels them (``kiosk.texts.button_labels``)."""
    raw = _text(key, lang)
    if "_button}" in raw:
        values = {**button_names(lang), **values}
    return raw.format(**values) if values else raw


PRIORITY_NAMES = {"pregnant": "speech.priority.pregnant", "disability": "speech.priority.disability"}


def spoken_name(full_name: str | None) -> str:
    """The masked name as it is said: family and given name ('NGUYỄN VĂN AN' -> 'Nguyễn An')."""
    parts = [p for p in mask_name(full_name).split() if "*" not in p]
    return " ".join(p.capitalize() for p in parts)


def spoken_date(day: date, lang: str) -> str:
    if lang == "en":
        return f"{day.day} {MONTHS_EN[day.month - 1]} {day.year}"
    return f"ngày {day.day} tháng {day.month} năm {day.year}"


def spoken_time(when: datetime | None, lang: str) -> str:
    if when is None:
        return ""
    if lang == "en":
        return f"{when.hour}:{when.minute:02d}"
    return f"{when.hour} giờ" + (f" {when.minute:02d} phút" if when.minute else "")


def spoken_digits(label: str) -> str:
    """A queue number digit by digit ('012' -> '0 1 2'), as calling boards say it."""
    return ", ".join(" ".join(ch for ch in part) for part in label.replace("-", " ").split())


def who(identity: Identity | None, lang: str) -> str:
    """Who the kiosk thinks the patient is: masked name, date of birth, last four ID digits."""
    if identity is None:
        return ""
    parts = []
    name = spoken_name(identity.full_name)
    if name and identity.birth_date:
        parts.append(t("speech.who", lang, name=name, dob=spoken_date(identity.birth_date, lang)))
    elif not name:
        parts.append(t("speech.who_no_name", lang))
    parts.append(t("speech.id_end", lang, digits=" ".join(identity.citizen_id[-4:])))
    return " ".join(parts)


def spoken_text(journey, local_time: Callable[[datetime | None], datetime | None] = lambda d: d, *,
                digits_typed: int = 0, intro: bool = False) -> str:
    """Everything the current screen says, in the journey's language. ``local_time``
    turns an appointment time into the hospital's time; ``digits_typed`` is how
    many digits the keypad holds (the digits themselves are never said)."""
    lang, step = journey.language, journey.step
    said = [t("speech.intro", lang)] if intro else []
    if journey.notice and step is not Step.DONE:
        said.append(t(journey.notice, lang))
    if step is Step.WELCOME:
        said.append(t("speech.welcome", lang))
        if journey.printer_status in ("paper_out", "offline", "none"):
            said.append(t("speech.cannot_print", lang))
    elif step is Step.NEED_KEY:
        said.append(t("speech.need_key", lang))
    elif step is Step.KEYPAD:
        field = "citizen_id" if journey.keypad_field == CITIZEN_ID else "patient_code"
        said.append(t(f"speech.keypad.{field}", lang, n=digits_typed))
    elif step is Step.READING:
        said.append(t("speech.wait.reading", lang))
    elif step in (Step.LOOKING_UP, Step.FINDING_BOOKING, Step.FINDING_PATIENT):
        said.append(t("speech.wait.looking_up", lang))
    elif step is Step.CHECKING_IN:
        said.append(t("speech.wait.checking_in", lang))
    elif step is Step.PRINTING:
        said.append(t("speech.wait.printing", lang))
    elif step is Step.CONFIRM_IDENTITY:
        said += [t("speech.confirm", lang, who=who(journey.identity, lang)), _coverage(journey, lang)]
    elif step is Step.APPOINTMENT:
        said += [_coverage(journey, lang), *_appointment(journey, lang, local_time)]
    elif step is Step.DEPARTMENT:
        said += [_coverage(journey, lang), *_departments(journey, lang)]
    elif step is Step.INSURANCE:
        fee = journey.settings.insurance_on_invalid == "fee"
        message = t(journey.insurance_message, lang) if journey.insurance_message else ""
        said.append(t("speech.insurance.fee" if fee else "speech.insurance.counter", lang, message=message).strip())
    elif step is Step.PRIORITY:
        names = [t(PRIORITY_NAMES[p.value], lang) for p in journey.declarable_priorities()]
        said.append(t("speech.priority", lang, choices="; ".join(names)))
    elif step is Step.DONE:
        said += _done(journey, lang)
    elif step is Step.ERROR:
        said.append(_error(journey, lang))
    return " ".join(s for s in said if s)


def _coverage(journey, lang: str) -> str:
    shown = journey.insurance_shown
    return t(f"speech.coverage.{shown}", lang) if shown else ""


def _who_on_visit_screen(journey, lang: str) -> str:
    return who(journey.identity, lang) if journey.settings.flow == FLOW_SHORT else ""


def _priority_offer(journey, lang: str) -> list[str]:
    if journey.settings.flow != FLOW_SHORT or journey.age_priority is not None:
        return []
    if journey.priority is not None:
        return [t("speech.priority_chosen", lang, what=t(PRIORITY_NAMES[journey.priority.value], lang))]
    groups = f" {t('speech.or', lang)} ".join(t(PRIORITY_NAMES[p.value], lang) for p in journey.declarable_priorities())
    return [t("speech.priority_offer", lang, groups=groups)] if groups else []


def _department_name(dept, lang: str) -> str:
    return (dept.name_en or dept.name) if lang == "en" else dept.name


def _appointment(journey, lang, local_time) -> list[str]:
    appt = journey.appointment
    if appt is None:
        return []
    dept = journey.department(appt.department_code)
    room = dept.room(appt.room_code) if dept and appt.room_code else None
    where = f", {room.name}" + (f", {room.where}" if room.where else "") if room else ""
    text = t("speech.appointment", lang, who=_who_on_visit_screen(journey, lang),
             time=spoken_time(local_time(appt.start), lang),
             department=_department_name(dept, lang) if dept else (appt.department_code or ""), room=where)
    return [*_priority_offer(journey, lang), text.strip()]


def _departments(journey, lang) -> list[str]:
    if not journey.departments:
        return [t("speech.departments_loading", lang)]
    choices = []
    for dept in journey.departments:
        name = _department_name(dept, lang)
        if journey.waiting is not None:
            name += ", " + t("speech.waiting", lang, n=journey.waiting.get(dept.code, 0))
        choices.append(name)
    text = t("speech.departments", lang, who=_who_on_visit_screen(journey, lang), choices="; ".join(choices))
    return [*_priority_offer(journey, lang), text.strip()]


def _done(journey, lang) -> list[str]:
    result = journey.result
    if result is None:
        return []
    ticket = result.ticket
    room = ticket.room_name or ticket.room_code
    said = [t("speech.done", lang, number=spoken_digits(ticket.label),
              room=f"{room}, {ticket.room_where}" if ticket.room_where else room)]
    said.append(t("speech.done.take" if journey.printed else "speech.done.not_printed", lang))
    if journey.card_present:
        said.append(t("speech.done.take_card", lang))
    return said


def _error(journey, lang) -> str:
    err = journey.error
    if err is None:
        return ""
    actions = [said_label(f"ui.action.{a}", lang) for a in (RETRY, TYPE_ID, HOME) if a in err.actions]
    if not actions:  # out of service: nothing to touch
        return t(err.key, lang)
    return t("speech.error", lang, message=t(err.key, lang), actions="; ".join(actions)).strip()
