"""The README's pictures of the queue service, taken in headless Chromium
(`make screenshots` writes them into docs/images/): the web board in both
orientations, the phone page waiting and at the turn in Vietnamese and
English, and the printed ticket whose QR code opens the phone page."""
from __future__ import annotations

from datetime import datetime
from urllib.parse import urlsplit

import pytest
import zxingcpp
from PIL import Image

from kiosk.domain import Priority, Ticket
from tests.helpers import docs_images
from tests.queue_web.conftest import kiosk_cli, wait_for

pytestmark = pytest.mark.integration
DOCS = docs_images()


def _real_picture(png_path, size):
    with Image.open(png_path) as img:
        assert img.size == size
        colours = img.convert("RGB").getcolors(maxcolors=1 << 20)
        assert colours is None or len(colours) > 50  # a rendered page, not a blank screen


def _walk_in(server, department, priority=None):
    args = ["checkin", "--id", "027185004321", "--department", department, "--json"]
    return kiosk_cli(server.config, *args, *(["--priority", priority] if priority else []))["ticket"]


def test_board_and_phone_pictures(server, browser):
    tickets = [_walk_in(server, "NOI", Priority.PREGNANT.value if i in (1, 9) else None) for i in range(11)]
    for room in ("P101", "P102", "P101", "P102", "P101", "P102"):
        kiosk_cli(server.config, "call-next", "--room", room)
    browser.size(1920, 1080)
    browser.open(server.url + "/board/NOI")
    wait_for(lambda: int(browser.js("return document.body.dataset.poll") or 0) > 0)
    called = kiosk_cli(server.config, "call-next", "--room", "P101")["called"]
    wait_for(lambda: browser.js("return window.__board.calls") >= 1 and called in browser.js(
        "return document.querySelector('section[data-room=P101] .serving').textContent"))
    browser.js("document.querySelectorAll('.serving').forEach(function (s) { s.style.animation = 'none'; })")
    assert browser.js("return document.documentElement.scrollHeight <= window.innerHeight")
    browser.screenshot(DOCS / "queue-board-landscape.png")
    browser.size(1080, 1920)
    wait_for(lambda: browser.js("return getComputedStyle(document.getElementById('rooms'))"
                                ".getPropertyValue('--cols').trim()") == "1")
    assert browser.js("return document.documentElement.scrollHeight <= window.innerHeight")
    browser.screenshot(DOCS / "queue-board-portrait.png")
    _real_picture(DOCS / "queue-board-landscape.png", (1920, 1080))
    _real_picture(DOCS / "queue-board-portrait.png", (1080, 1920))

    waiting = next(t for t in reversed(tickets) if t["room"] == "P102" and not t["priority"])
    path = urlsplit(waiting["follow_url"]).path
    browser.size(360, 740, phone=True)
    for lang in ("vi", "en"):
        browser.open(server.url + path + f"?lang={lang}")
        wait_for(lambda: browser.js("return window.__phone.updates") >= 1)
        assert browser.js("return document.body.dataset.state") == "waiting"
        assert ("khoảng" if lang == "vi" else "about") in browser.text()  # the room has a pace by now
        browser.screenshot(DOCS / f"queue-phone-waiting-{lang}.png")
    for _ in range(12):
        if kiosk_cli(server.config, "call-next", "--room", "P102")["called"] == waiting["label"]:
            break
    for lang in ("en", "vi"):
        browser.open(server.url + path + f"?lang={lang}")
        wait_for(lambda: browser.js("return document.body.dataset.state") == "called")
        browser.screenshot(DOCS / f"queue-phone-turn-{lang}.png")
    for name in ("waiting-vi", "waiting-en", "turn-vi", "turn-en"):
        _real_picture(DOCS / f"queue-phone-{name}.png", (720, 1480))


def test_printed_ticket_qr_opens_the_phone_page(server):
    """The ticket as the printer prints it (the printer layout), its QR code decoded back."""
    from devices.printer.layout import TicketLayout

    t = _walk_in(server, "NOI")
    ticket = Ticket(reference=t["reference"], number=t["number"], label=t["label"], department_code=t["department"],
                    department_name=t["department_name"], room_code=t["room"], room_name=t["room_name"],
                    room_where=t["room_where"], issued_at=datetime.fromisoformat(t["issued_at"]), booked=t["booked"],
                    masked_name=t["masked_name"], hospital_name="BỆNH VIỆN ĐA KHOA TỈNH",
                    follow_url=t["follow_url"])
    rendered = TicketLayout(576).render(ticket)
    assert "Quét mã để theo dõi số trên điện thoại" in rendered.lines
    path = DOCS / "ticket-follow-qr.png"
    path.write_bytes(rendered.png())
    found = zxingcpp.read_barcodes(rendered.image.convert("L"))
    assert [b.text for b in found if b.format == zxingcpp.BarcodeFormat.QRCode] == [t["follow_url"]]
    assert server.get(urlsplit(t["follow_url"]).path).status_code == 200
