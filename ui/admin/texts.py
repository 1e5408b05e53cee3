"""Admin screen texts (Vietnamese and English), registered under ``admin.*``."""
from __future__ import annotations

from kiosk.texts import messages

ADMIN_MESSAGES: dict[str, dict[str, str]] = {
    "admin.title": {"vi": "Quản trị máy kiosk", "en": "Kiosk administration"},
    "admin.pin.title": {"vi": "Nhập mã PIN quản trị", "en": "Enter the admin PIN"},
    "admin.pin.ok": {"vi": "Mở", "en": "Open"},
    "admin.pin.cancel": {"vi": "Quay lại", "en": "Back"},
    "admin.pin.delete": {"vi": "⌫", "en": "⌫"},
    "admin.pin.wrong": {"vi": "Sai mã PIN. Còn {n} lần thử.", "en": "Wrong PIN. {n} attempts left."},
    "admin.pin.locked": {"vi": "Đã khoá do nhập sai nhiều lần. Thử lại sau {s} giây.",
                         "en": "Locked after too many wrong PINs. Try again in {s} seconds."},
    "admin.pin.wrong_then_locked": {"vi": "Sai mã PIN. Còn {n} lần thử, sau đó khoá {length}.",
                                    "en": "Wrong PIN. {n} attempts left, then the pad locks for {length}."},
    "admin.pin.locked_for": {"vi": "Đã khoá {length} do nhập sai nhiều lần. Thử lại sau {left}.",
                             "en": "Locked for {length} after too many wrong PINs. Try again in {left}."},
    "admin.duration.seconds": {"vi": "{n} giây", "en": "{n} s"},
    "admin.duration.minutes": {"vi": "{n} phút", "en": "{n} min"},
    "admin.duration.hours": {"vi": "{h} giờ {m} phút", "en": "{h} h {m} min"},
    "admin.pin.no_pin": {"vi": "Chưa đặt mã PIN. Trên máy này chạy: kiosk admin set-pin",
                         "en": "No admin PIN set. On this machine run: kiosk admin set-pin"},
    "admin.tab.status": {"vi": "Tình trạng", "en": "Status"},
    "admin.tab.devices": {"vi": "Thiết bị", "en": "Devices"},
    "admin.tab.outbox": {"vi": "Hàng chờ gửi", "en": "Outbox"},
    "admin.tab.settings": {"vi": "Cài đặt", "en": "Settings"},
    "admin.close": {"vi": "Đóng", "en": "Close"},
    "admin.status.run": {"vi": "Kiểm tra lại", "en": "Check again"},
    "admin.status.running": {"vi": "Đang kiểm tra…", "en": "Checking…"},
    "admin.status.summary": {"vi": "{ok} đạt, {warn} cảnh báo, {fail} lỗi",
                             "en": "{ok} OK, {warn} warnings, {fail} failures"},
    "admin.status.check": {"vi": "Hạng mục", "en": "Check"},
    "admin.status.detail": {"vi": "Kết quả / cách khắc phục", "en": "Finding / fix"},
    "admin.devices.reader": {"vi": "Đầu đọc thẻ", "en": "Card reader"},
    "admin.devices.camera": {"vi": "Camera", "en": "Camera"},
    "admin.devices.printer": {"vi": "Máy in", "en": "Printer"},
    "admin.devices.detect": {"vi": "Tìm thiết bị", "en": "Detect devices"},
    "admin.devices.save": {"vi": "Lưu", "en": "Save"},
    "admin.devices.test_print": {"vi": "In phiếu thử", "en": "Print a test ticket"},
    "admin.devices.test_card": {"vi": "Đọc thẻ thử", "en": "Test card read"},
    "admin.devices.can_hint": {"vi": "6 số CAN in trên thẻ", "en": "6-digit CAN printed on the card"},
    "admin.devices.current": {"vi": "(đang dùng) {v}", "en": "(current) {v}"},
    "admin.devices.none": {"vi": "Không dùng", "en": "Not used"},
    "admin.devices.simulator": {"vi": "Giả lập", "en": "Simulator"},
    "admin.saved": {"vi": "Đã lưu. Thiết bị mới dùng từ lần khởi động sau.",
                    "en": "Saved. New devices are used from the next start."},
    "admin.refused": {"vi": "Không lưu: {e}", "en": "Not saved: {e}"},
    "admin.busy": {"vi": "Đang thực hiện…", "en": "Working…"},
    "admin.outbox.refresh": {"vi": "Làm mới", "en": "Refresh"},
    "admin.outbox.retry": {"vi": "Gửi lại ngay", "en": "Retry now"},
    "admin.outbox.unavailable": {"vi": "Chưa có hàng chờ ngoại tuyến trên máy này.",
                                 "en": "No offline outbox on this kiosk."},
    "admin.outbox.summary": {"vi": "{n} lượt đăng ký chờ gửi; cũ nhất: {age}",
                             "en": "{n} check-ins waiting; oldest: {age}"},
    "admin.outbox.insurance": {"vi": "{n} việc BHYT chờ làm lại (kiểm tra thẻ, ghi Coverage)",
                               "en": "{n} BHYT rechecks waiting (card checks, Coverage writes)"},
    "admin.settings.language": {"vi": "Ngôn ngữ mặc định", "en": "Default language"},
    "admin.settings.exit": {"vi": "Thoát chế độ kiosk", "en": "Leave kiosk mode"},
    "admin.settings.exit_hint": {"vi": "Đóng ứng dụng; máy sẽ không tự mở lại.",
                                 "en": "Closes the app; it will not start again by itself."},
}

messages.register(ADMIN_MESSAGES)


def tr(key: str, lang: str, **values) -> str:
    return messages.t(key, lang, **values)
