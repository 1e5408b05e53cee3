"""Every sentence of the web boards and the phone page, in Vietnamese and
English, in the kiosk's message catalogue (the board's own ``board.*``
sentences are reused as they are)."""
from __future__ import annotations

from kiosk.texts.messages import register, t

register({
    "queue.server_lost": {"vi": "Mất kết nối với máy chủ gọi số — đang kết nối lại",
                          "en": "Lost the connection to the queue server — reconnecting"},
    "queue.sound_hint": {"vi": "Chạm vào màn hình để bật loa gọi số", "en": "Touch the screen to turn on call sounds"},
    "queue.phone_title": {"vi": "Số thứ tự của bạn", "en": "Your queue number"},
    "queue.state.waiting": {"vi": "Đang chờ đến lượt", "en": "Waiting for your turn"},
    "queue.state.called": {"vi": "ĐẾN LƯỢT BẠN!", "en": "IT'S YOUR TURN!"},
    "queue.called_go": {"vi": "Mời bạn vào {room} ngay", "en": "Please go to {room} now"},
    "queue.state.with_doctor": {"vi": "Bạn đang được khám", "en": "You are with the doctor"},
    "queue.state.done": {"vi": "Lượt khám đã xong", "en": "Your visit is finished"},
    "queue.state.absent": {"vi": "Bạn đã được gọi nhưng vắng mặt", "en": "You were called but were not there"},
    "queue.absent_help": {"vi": "Vui lòng đến quầy tiếp đón để được xếp lại.",
                          "en": "Please go to the reception desk to be put back in the queue."},
    "queue.state.closed": {"vi": "Lượt khám này đã được hủy", "en": "This visit has been cancelled"},
    "queue.state.pending": {"vi": "Đang ghi nhận số của bạn", "en": "Your number is being registered"},
    "queue.pending_help": {
        "vi": "Phiếu được cấp khi máy mất kết nối. Số sẽ hiện ở đây khi hệ thống bệnh viện nhận được; "
              "số trên phiếu vẫn giữ nguyên.",
        "en": "The ticket was issued while the kiosk was offline. Your number shows here once the hospital "
              "system has it; the number on your ticket stays valid."},
    "queue.state.unknown": {"vi": "Không tìm thấy lượt khám hôm nay", "en": "Today's visit was not found"},
    "queue.ask_desk": {"vi": "Vui lòng hỏi quầy tiếp đón.", "en": "Please ask at the reception desk."},
    "queue.state.his_down": {"vi": "Chưa kết nối được hệ thống bệnh viện", "en": "Cannot reach the hospital system"},
    "queue.his_down_help": {"vi": "Trang sẽ tự cập nhật khi kết nối lại. Số trên phiếu vẫn giữ nguyên.",
                            "en": "This page updates by itself when the connection is back. "
                                  "Your ticket number stays valid."},
    "queue.ahead": {"vi": "Trước bạn còn {n} người", "en": "{n} people ahead of you"},
    "queue.ahead_one": {"vi": "Trước bạn còn 1 người", "en": "1 person ahead of you"},
    "queue.next": {"vi": "Bạn là người tiếp theo", "en": "You are next"},
    "queue.wait": {"vi": "Thời gian chờ dự kiến: khoảng {n} phút", "en": "Estimated wait: about {n} min"},
    "queue.wait_unknown": {"vi": "Chưa đủ lượt gọi hôm nay để ước tính thời gian chờ",
                           "en": "Not enough calls yet today to estimate the wait"},
    "queue.room_serving": {"vi": "Phòng đang mời số {label}", "en": "The room is calling number {label}"},
    "queue.updated": {"vi": "Cập nhật lúc {time}", "en": "Updated at {time}"},
    "queue.sound_on": {"vi": "Bật âm báo khi đến lượt", "en": "Sound an alert at my turn"},
    "queue.sound_ready": {"vi": "✓ Âm báo đã bật", "en": "✓ Alert sound is on"},
    "queue.keep_open": {"vi": "Giữ trang này mở: điện thoại sẽ báo khi đến lượt bạn.",
                        "en": "Keep this page open: your phone alerts you when it is your turn."},
    "queue.other_lang": {"vi": "English", "en": "Tiếng Việt"},
    "queue.room": {"vi": "Phòng khám", "en": "Clinic room"},
    "queue.department": {"vi": "Chuyên khoa", "en": "Department"},
    "queue.priority": {"vi": "Ưu tiên", "en": "Priority"},
    "queue.not_found_title": {"vi": "Không tìm thấy trang", "en": "Page not found"},
    "queue.not_found_help": {
        "vi": "Mã QR trên phiếu chỉ dùng được trong ngày in phiếu. Vui lòng hỏi quầy tiếp đón.",
        "en": "The QR code on a ticket works only on the day it was printed. Please ask at the reception desk."},
    "queue.error_title": {"vi": "Đã có lỗi xảy ra", "en": "Something went wrong"},
    "queue.error_help": {"vi": "Vui lòng thử lại sau ít phút.", "en": "Please try again in a few minutes."},
    "queue.too_many_requests": {"vi": "Quá nhiều yêu cầu từ thiết bị này. Vui lòng thử lại sau ít phút.",
                                "en": "Too many requests from this device. Please try again in a minute."},
    "queue.too_many_streams": {"vi": "Thiết bị này đang mở quá nhiều trang theo dõi. Vui lòng đóng bớt.",
                               "en": "This device has too many live pages open. Please close some."},
    "queue.server_full": {"vi": "Máy chủ đang phục vụ quá nhiều màn hình. Vui lòng thử lại sau ít phút.",
                          "en": "The server is serving too many screens. Please try again in a few minutes."},
    "queue.too_many_boards": {"vi": "Máy chủ đang theo dõi quá nhiều nhóm phòng khám.",
                              "en": "The server is following too many room lists."},
})


def both(key: str, **values) -> str:
    """Vietnamese first, then English: for pages shown before a language is chosen."""
    return f"{t(key, 'vi', **values)} · {t(key, 'en', **values)}"


__all__ = ["both", "t"]
