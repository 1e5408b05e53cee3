"""Every sentence the kiosk screens show, in Vietnamese and English.

Registered into ``kiosk.texts.messages`` under ``ui.*`` so that screens, tests and the
admin tools look texts up by key in one place (``tr(key, lang)``).
"""
from __future__ import annotations

from kiosk.texts import button_labels, messages  # noqa: F401 - button_labels registers the buttons the voice names

UI_MESSAGES: dict[str, dict[str, str]] = {
    "ui.language.other": {"vi": "English", "en": "Tiếng Việt"},
    # welcome
    "ui.welcome.title": {"vi": "Xin chào! Mời đăng ký khám bệnh", "en": "Welcome! Check in for your visit"},
    "ui.welcome.card": {"vi": "Đặt thẻ căn cước lên đầu đọc", "en": "Place your ID card on the reader"},
    "ui.welcome.qr": {"vi": "Hoặc đưa mã QR trên thẻ vào camera", "en": "Or show the QR code on your card to the camera"},
    "ui.welcome.reader_missing": {"vi": "Đầu đọc thẻ đang tạm nghỉ: vui lòng dùng mã QR hoặc nhập số.",
                                  "en": "The card reader is not available: please use the QR code or type your number."},
    "ui.welcome.camera_missing": {"vi": "Camera đang tạm nghỉ: vui lòng đặt thẻ lên đầu đọc hoặc nhập số.",
                                  "en": "The camera is not available: please use the card reader or type your number."},
    "ui.printer.cannot_print": {
        "vi": "Máy in tạm thời không in được phiếu. Bạn vẫn đăng ký được: số thứ tự sẽ hiện trên màn hình.",
        "en": "The printer cannot print tickets right now. You can still check in: your number will be shown on screen."},
    # card on the reader before the kiosk knows the ID
    "ui.need_key.title": {"vi": "Đã nhận thẻ", "en": "Card detected"},
    "ui.need_key.body": {
        "vi": "Để mở chip, vui lòng đưa mã QR trên thẻ vào camera hoặc nhập số định danh. Cứ để thẻ trên đầu đọc.",
        "en": "To open the chip, show the QR code on your card to the camera or type your ID number. Leave the card on the reader."},
    # keypad
    "ui.keypad.title": {"vi": "Nhập 12 số định danh cá nhân", "en": "Type your 12-digit ID number"},
    "ui.keypad.hint": {"vi": "Số in ở mặt trước thẻ căn cước", "en": "The number on the front of your ID card"},
    "ui.keypad.delete": {"vi": "⌫ Xoá", "en": "⌫ Delete"},
    "ui.keypad.clear": {"vi": "Xoá hết", "en": "Clear"},
    "ui.keypad.count": {"vi": "{n}/12 số", "en": "{n} of 12 digits"},
    "ui.keypad.code_title": {"vi": "Nhập mã bệnh nhân", "en": "Type your patient code"},
    "ui.keypad.code_hint": {"vi": "Phần số của mã in trên phiếu khám cũ (hoặc đưa mã vạch trên phiếu vào camera)",
                            "en": "The digits of the code on your old slip (or show the slip's barcode to the camera)"},
    "ui.keypad.code_count": {"vi": "Đã nhập {n} số", "en": "{n} digits typed"},
    # busy steps
    "ui.reading.title": {"vi": "Đang đọc thẻ…", "en": "Reading your card…"},
    "ui.reading.body": {"vi": "Vui lòng giữ yên thẻ trên đầu đọc.", "en": "Please keep the card still on the reader."},
    "ui.looking_up.title": {"vi": "Đang tìm lịch hẹn hôm nay…", "en": "Looking for today's appointment…"},
    "ui.looking_up.body": {"vi": "Xin chờ trong giây lát.", "en": "This takes a moment."},
    "ui.finding_patient.title": {"vi": "Đang tìm hồ sơ theo mã bệnh nhân…", "en": "Finding your record…"},
    "ui.finding_patient.body": {"vi": "Xin chờ trong giây lát.", "en": "This takes a moment."},
    "ui.checking_in.title": {"vi": "Đang đăng ký khám…", "en": "Checking you in…"},
    "ui.checking_in.body": {"vi": "Xin chờ trong giây lát.", "en": "This takes a moment."},
    "ui.printing.title": {"vi": "Đang in phiếu…", "en": "Printing your ticket…"},
    "ui.printing.body": {"vi": "Phiếu sẽ ra ở khe bên dưới màn hình.", "en": "The ticket comes out of the slot below the screen."},
    # identity
    "ui.confirm.title": {"vi": "Đây có phải là bạn không?", "en": "Is this you?"},
    "ui.field.name": {"vi": "Họ và tên", "en": "Full name"},
    "ui.field.birth_date": {"vi": "Ngày sinh", "en": "Date of birth"},
    "ui.field.id": {"vi": "Số định danh", "en": "ID number"},
    "ui.field.method": {"vi": "Xác định bằng", "en": "Identified by"},
    "ui.field.unknown": {"vi": "(chưa có)", "en": "(not given)"},
    "ui.field.unknown_name": {"vi": "Số định danh tự nhập", "en": "Typed ID number"},
    "ui.method.chip_verified": {"vi": "Chip trên thẻ (đã xác thực)", "en": "Card chip (verified)"},
    "ui.method.chip_unverified": {"vi": "Chip trên thẻ", "en": "Card chip"},
    "ui.method.qr": {"vi": "Mã QR trên thẻ", "en": "QR code on the card"},
    "ui.method.typed": {"vi": "Số tự nhập", "en": "Typed number"},
    "ui.method.patient_code": {"vi": "Mã bệnh nhân", "en": "Patient code"},
    "ui.confirm.upgrade": {"vi": "Có thẻ? Đặt thẻ lên đầu đọc để xác thực bằng chip.",
                           "en": "Have your card? Place it on the reader to verify with the chip."},
    # appointment
    "ui.appointment.title": {"vi": "Bạn có lịch hẹn hôm nay", "en": "You have an appointment today"},
    "ui.appointment.time": {"vi": "Giờ hẹn", "en": "Time"},
    "ui.appointment.department": {"vi": "Chuyên khoa", "en": "Department"},
    "ui.appointment.room": {"vi": "Phòng khám", "en": "Clinic room"},
    # department
    "ui.department.title": {"vi": "Chọn chuyên khoa bạn muốn khám", "en": "Choose the department you need"},
    "ui.department.title_short": {"vi": "Chọn chuyên khoa", "en": "Choose a department"},
    "ui.department.waiting": {"vi": "{n} người đang chờ", "en": "{n} waiting"},
    "ui.department.loading": {"vi": "Đang tải danh sách chuyên khoa…", "en": "Loading the departments…"},
    "ui.department.failed": {"vi": "Không tải được danh sách chuyên khoa.", "en": "The departments could not be loaded."},
    # priority
    "ui.priority.title": {"vi": "Bạn có thuộc nhóm ưu tiên không?", "en": "Do you need priority?"},
    "ui.priority.note": {"vi": "Nhân viên sẽ kiểm tra khi bạn vào khám.", "en": "Staff will check this at your visit."},
    "ui.priority.toggle_caption": {"vi": "Ưu tiên (nếu có):", "en": "Priority, if it applies:"},
    "ui.priority.emergency": {"vi": "Cấp cứu", "en": "Emergency"},
    "ui.priority.child_under_6": {"vi": "Trẻ em dưới 6 tuổi", "en": "Child under 6"},
    "ui.priority.pregnant": {"vi": "Phụ nữ có thai", "en": "Pregnant"},
    "ui.priority.disability": {"vi": "Người khuyết tật", "en": "Person with a disability"},
    "ui.priority.elderly_75": {"vi": "Người từ 75 tuổi", "en": "Aged 75 or over"},
    "ui.priority.meritorious": {"vi": "Người có công với cách mạng", "en": "Person of merit"},
    # done
    "ui.done.title": {"vi": "Đăng ký thành công", "en": "You are checked in"},
    "ui.done.number": {"vi": "Số thứ tự của bạn", "en": "Your number"},
    "ui.done.go_to": {"vi": "Mời đến {room}", "en": "Please go to {room}"},
    "ui.done.take": {"vi": "Vui lòng nhận phiếu ở khe bên dưới", "en": "Please take your ticket from the slot below"},
    "ui.done.not_printed": {"vi": "Không in được phiếu. Vui lòng ghi nhớ số này (hoặc chụp ảnh) rồi đến phòng khám.",
                            "en": "The ticket could not be printed. Please remember this number (or take a photo) and go to the room."},
    "ui.done.offline": {"vi": "Đã đăng ký khi mất kết nối: số vẫn hợp lệ, bệnh viện sẽ cập nhật sau.",
                        "en": "Checked in while offline: your number is valid, the hospital system is updated later."},
    "ui.done.priority": {"vi": "Ưu tiên: {what}", "en": "Priority: {what}"},
    "ui.done.take_card": {"vi": "Đừng quên lấy thẻ căn cước trên đầu đọc.", "en": "Do not forget your ID card on the reader."},
    "ui.done.print_again": {"vi": "In lại phiếu", "en": "Print the ticket again"},
    # the BHYT card check (kiosk.insurance.rules.shown_status), one line on the visit and confirm screens
    "ui.coverage.label": {"vi": "Thẻ BHYT", "en": "Health insurance"},
    "ui.coverage.checking": {"vi": "Đang kiểm tra thẻ BHYT…", "en": "Checking your health insurance card…"},
    "ui.coverage.valid": {"vi": "Thẻ BHYT hợp lệ đến {to}", "en": "Health insurance card valid until {to}"},
    "ui.coverage.new_card": {"vi": "Đã có thẻ BHYT mới, hợp lệ đến {to}",
                             "en": "A new health insurance card was issued, valid until {to}"},
    "ui.coverage.valid_elsewhere": {"vi": "Thẻ BHYT hợp lệ đến {to}, đăng ký khám ban đầu ở nơi khác",
                                    "en": "Health insurance card valid until {to}, registered at another facility"},
    "ui.coverage.expired": {"vi": "Thẻ BHYT đã hết hạn", "en": "Health insurance card expired"},
    "ui.coverage.not_yet_valid": {"vi": "Thẻ BHYT chưa có giá trị sử dụng hôm nay",
                                  "en": "Health insurance card not valid yet today"},
    "ui.coverage.not_found": {"vi": "Không tìm thấy thẻ BHYT", "en": "No health insurance card found"},
    "ui.coverage.mismatch": {"vi": "Họ tên hoặc ngày sinh không khớp với thẻ BHYT",
                             "en": "Name or date of birth does not match the health insurance card"},
    "ui.coverage.refused": {"vi": "Thẻ BHYT đang bị tạm dừng hoặc thu hồi",
                            "en": "Health insurance card suspended or withdrawn"},
    "ui.coverage.unchecked": {"vi": "Chưa kiểm tra được thẻ BHYT: sẽ kiểm tra lại sau",
                              "en": "Health insurance card not checked yet: it is checked later"},
    "ui.coverage.fee": {"vi": "Khám dịch vụ (không dùng BHYT)", "en": "Fee-paying visit (no health insurance)"},
    # the insurance screen: an invalid card (insurance.on_invalid)
    "ui.insurance.title_counter": {"vi": "Vui lòng đến quầy tiếp đón", "en": "Please go to the reception desk"},
    "ui.insurance.title_fee": {"vi": "Thẻ BHYT chưa dùng được", "en": "Your health insurance card cannot be used"},
    "ui.insurance.counter": {
        "vi": "Máy chưa đăng ký khám cho bạn. Nhân viên ở quầy tiếp đón sẽ kiểm tra thẻ và đăng ký giúp bạn.",
        "en": "You are not checked in yet. The staff at the reception desk will check your card and check you in."},
    "ui.insurance.fee_offer": {
        "vi": "Bạn vẫn có thể khám ngay theo hình thức khám dịch vụ (tự chi trả, không dùng BHYT), "
              "hoặc đến quầy tiếp đón.",
        "en": "You can still be seen now as a fee-paying patient (you pay, without health insurance), "
              "or go to the reception desk."},
    # errors and notices
    "ui.error.title": {"vi": "Chưa thực hiện được", "en": "That did not work"},
    "ui.error.use_qr": {"vi": "Hoặc đưa mã QR trên thẻ vào camera.", "en": "Or show the QR code on your card to the camera."},
    "ui.error.counter": {"vi": "Cần giúp đỡ? Vui lòng đến quầy tiếp đón.", "en": "Need help? Please go to the reception desk."},
    "ui.error.card_removed": {"vi": "Thẻ bị nhấc ra khi đang đọc. Vui lòng đặt lại thẻ và giữ yên.",
                              "en": "The card was moved while reading. Please place it again and keep it still."},
    "ui.error.read_timeout": {"vi": "Đọc thẻ quá lâu. Vui lòng đặt lại thẻ và giữ yên.",
                              "en": "Reading the card took too long. Please place it again and keep it still."},
    "ui.error.card_mismatch": {"vi": "Thẻ trên đầu đọc không khớp với số định danh. Vui lòng dùng thẻ của chính bạn.",
                               "en": "The card on the reader does not match the ID number. Please use your own card."},
    "ui.error.no_reader": {"vi": "Máy không có đầu đọc thẻ. Vui lòng dùng mã QR hoặc nhập số định danh.",
                           "en": "This kiosk has no card reader. Please use the QR code or type your ID number."},
    "ui.error.patient_code_offline": {
        "vi": "Chưa tra được mã bệnh nhân lúc này. Vui lòng đưa mã QR trên thẻ căn cước vào camera hoặc nhập số định danh.",
        "en": "The patient code cannot be looked up right now. Please show your ID card's QR code or type your ID number."},
    "ui.error.booking_offline": {"vi": "Chưa tra được lịch hẹn lúc này. Vui lòng đưa mã QR trên thẻ căn cước vào camera hoặc nhập số định danh.",
                                 "en": "The appointment cannot be looked up right now. Please show your ID card's QR code or type your ID number."},
    "ui.notice.offline": {"vi": "Đang mất kết nối với hệ thống bệnh viện: bạn vẫn được cấp số thứ tự.",
                          "en": "The hospital system is offline: you can still get a queue number."},
    "ui.notice.chip_failed": {"vi": "Không đọc được chip; tiếp tục với mã QR trên thẻ.",
                              "en": "The chip could not be read; continuing with the card's QR code."},
    "ui.action.back": {"vi": "Quay lại", "en": "Back"},
    "ui.action.cancel": {"vi": "Huỷ", "en": "Cancel"},
    # accessibility: spoken guidance and large text (a button each in the header)
    "ui.a11y.speech": {"vi": "♪ Đọc to", "en": "♪ Read"},
    "ui.a11y.large": {"vi": "Aa Chữ lớn", "en": "Aa Large"},
    "ui.a11y.quieter": {"vi": "− Nhỏ", "en": "− Quieter"},
    "ui.a11y.louder": {"vi": "+ To", "en": "+ Louder"},
    "ui.a11y.volume": {"vi": "Âm lượng {n}%", "en": "Volume {n}%"},
    # status bar
    "ui.status.online": {"vi": "Trực tuyến", "en": "Online"},
    "ui.status.offline": {"vi": "Mất kết nối", "en": "Offline"},
    "ui.status.printer.ok": {"vi": "Máy in sẵn sàng", "en": "Printer ready"},
    "ui.status.printer.paper_low": {"vi": "Máy in sắp hết giấy", "en": "Printer paper low"},
    "ui.status.printer.paper_out": {"vi": "Máy in hết giấy", "en": "Printer out of paper"},
    "ui.status.printer.offline": {"vi": "Máy in mất kết nối", "en": "Printer offline"},
    "ui.status.printer.unknown": {"vi": "Máy in chưa rõ", "en": "Printer not checked"},
    "ui.status.printer.none": {"vi": "Không có máy in", "en": "No printer"},
    "ui.status.reader.ready": {"vi": "Đầu đọc sẵn sàng", "en": "Reader ready"},
    "ui.status.reader.missing": {"vi": "Mất đầu đọc", "en": "Reader missing"},
    "ui.status.reader.error": {"vi": "Đầu đọc lỗi", "en": "Reader error"},
    "ui.status.reader.none": {"vi": "Không có đầu đọc", "en": "No reader"},
    "ui.status.camera.ready": {"vi": "Camera sẵn sàng", "en": "Camera ready"},
    "ui.status.camera.missing": {"vi": "Mất camera", "en": "Camera missing"},
    "ui.status.camera.error": {"vi": "Camera lỗi", "en": "Camera error"},
    "ui.status.camera.none": {"vi": "Không có camera", "en": "No camera"},
    "ui.status.printer.starting": {"vi": "Máy in đang khởi động", "en": "Printer starting"},
    "ui.status.reader.starting": {"vi": "Đầu đọc đang khởi động", "en": "Reader starting"},
    "ui.status.camera.starting": {"vi": "Camera đang khởi động", "en": "Camera starting"},
}

messages.register(UI_MESSAGES)


def tr(key: str, lang: str, **values) -> str:
    """The text for ``key`` in ``lang`` (the catalogue's fallback rules apply)."""
    return messages.t(key, lang, **values)
