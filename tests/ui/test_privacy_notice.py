"""The privacy notice through the real window (Law 91/2025/QH15): on the welcome screen
before the card is read, in both orientations, both languages, normal and large text —
its text there, its QR code decoding to ``privacy.notice_url``, the welcome screen's
main controls still on screen; the consent screen (``privacy.consent = "tap"``); and the
face photo (``privacy.read_photo``): shown, never written to the data folder, the outbox
database or the HIS, and forgotten with the patient."""
from __future__ import annotations

import json
import logging
import os
import urllib.request
from pathlib import Path

import numpy as np
import pytest
import zxingcpp
from PySide6.QtGui import QImage

from kiosk.journey import machine as j
from tests.helpers import make_config
from tests.ui.test_screens import layout_problems
from ui.app import LANDSCAPE, PORTRAIT

pytestmark = pytest.mark.integration

NOTICE_URL = "https://benhvien.example.vn/bao-ve-du-lieu-ca-nhan"
SHOTS = Path(os.environ.get("KIOSK_NOTICE_SHOTS", "/tmp/kiosk-notice-shots"))
# JPEG (SOI + marker), JPEG 2000 (the JP2 signature box, a bare codestream): the chip's DG2 formats
PHOTO_MAGIC = (b"\xff\xd8\xff", b"\x00\x00\x00\x0cjP  \r\n\x87\n", b"\xff\x4f\xff\x51")
PHOTO_MAGIC_B64 = ("/9j/", "AAAADGpQ", "/0//UQ")  # the same, as they begin in base64 (JSON bodies)


@pytest.fixture
def sandbox(fresh_sandbox):
    return fresh_sandbox  # the chip journey uses up a demo appointment


@pytest.fixture
def privacy():
    return {"notice_url": NOTICE_URL, "read_photo": True}


@pytest.fixture
def kiosk_config(sandbox, tmp_path, privacy):
    return make_config(sandbox.base_url, kiosk={"data_dir": str(tmp_path / "data"), "idle_timeout_s": 30.0},
                       card_reader={"driver": "simulator"}, camera={"driver": "simulator"},
                       printer={"driver": "simulator"}, privacy=privacy)


def decode_qr(label) -> list[str]:
    image = label.grab().toImage().convertToFormat(QImage.Format.Format_Grayscale8)
    width, height, stride = image.width(), image.height(), image.bytesPerLine()
    data = np.frombuffer(bytes(image.constBits()), dtype=np.uint8).reshape(height, stride)[:, :width]
    return [r.text for r in zxingcpp.read_barcodes(np.ascontiguousarray(data))]


def in_view(screen, widget) -> bool:
    """Wholly inside the window and, for a widget in the scrolling body, inside what it shows."""
    viewport = screen.scroller.viewport()
    if viewport.isAncestorOf(widget):
        top_left = widget.mapTo(viewport, widget.rect().topLeft())
        return viewport.rect().adjusted(-2, -2, 2, 2).contains(top_left) and viewport.rect().adjusted(
            -2, -2, 2, 2).contains(widget.mapTo(viewport, widget.rect().bottomRight()))
    window = screen.window()
    return window.rect().adjusted(-2, -2, 2, 2).contains(widget.mapTo(window, widget.rect().bottomRight()))


def test_the_notice_is_on_the_welcome_screen_in_every_orientation_language_and_text_size(kiosk):
    welcome = kiosk.screen("welcome")
    hospital = kiosk.controller.config.kiosk.hospital_name
    seen = []
    for orientation, size in (("portrait", PORTRAIT), ("landscape", LANDSCAPE)):
        kiosk.window.resize(*size)
        for lang, words in (("vi", ("Dữ liệu cá nhân của bạn", "ảnh khuôn mặt", "từ chối", "quầy")),
                            ("en", ("Your personal data", "face photo", "refuse", "desk"))):
            for large in (False, True):
                if kiosk.journey.language != lang:
                    kiosk.controller.send(j.SetLanguage(lang))
                if kiosk.journey.large_text != large:
                    kiosk.controller.toggle_large_text()
                kiosk.qtbot.wait(80)
                name = f"{orientation}_{lang}_{'large' if large else 'normal'}"
                SHOTS.mkdir(parents=True, exist_ok=True)
                kiosk.shoot(SHOTS / f"welcome_{name}.png")
                assert kiosk.window.current_screen() is welcome, name
                assert welcome.privacy.isVisible(), name
                shown = welcome.privacy.title.text() + "\n" + welcome.privacy.text.text()
                assert all(w in shown for w in words), name
                # large text: the brief form (the header names the hospital; the QR the full list)
                assert (hospital in shown and ("họ tên" in shown or "ID number" in shown)) is not large, name
                assert decode_qr(welcome.privacy.qr) == [NOTICE_URL], name
                assert layout_problems(kiosk.window) == [], name
                for control in (welcome.card_box, welcome.qr_box, welcome.card_caption, welcome.qr_caption,
                                welcome.type_id, welcome.patient_code, welcome.privacy):
                    assert control.isVisible() and in_view(welcome, control), (name, control)
                assert welcome.scroller.verticalScrollBar().maximum() == 0, name  # all of it without scrolling
                seen.append(name)
    assert len(seen) == 8
    kiosk.controller.send(j.SetLanguage("vi"))


@pytest.mark.parametrize("privacy", [{"consent": "tap", "notice_url": NOTICE_URL}])
def test_consent_tap_refuse_keeps_nothing_agree_reads_the_chip(kiosk):
    kiosk.insert("an")
    kiosk.wait_step("consent")
    consent = kiosk.screen("consent")
    assert "họ tên" in consent.privacy.text.text() and decode_qr(consent.privacy.qr) == [NOTICE_URL]
    assert layout_problems(kiosk.window) == []
    kiosk.shoot(SHOTS / "consent_portrait_vi.png")
    kiosk.tap(consent.refuse)
    kiosk.wait_step("error")
    assert kiosk.journey.error.key == "ui.error.consent_refused"
    assert kiosk.journey.identity is None and kiosk.journey.presented is None and kiosk.journey.key is None
    assert "NGUYỄN VĂN AN" not in kiosk.texts()
    kiosk.tap(kiosk.screen("error").actions[j.HOME])
    kiosk.wait_step("welcome")
    kiosk.remove()
    kiosk.insert("an")
    kiosk.wait_step("consent")
    kiosk.tap(consent.agree)
    kiosk.wait_step("need_key")
    kiosk.show_qr("an")
    kiosk.wait_step("appointment")
    assert kiosk.journey.identity.citizen_id == "001093012345"


def scan_for_photo(folder: Path) -> list[str]:
    found = []
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            data = path.read_bytes()
            found += [f"{path.name}: {magic!r}" for magic in PHOTO_MAGIC if magic in data]
    return found


def test_the_photo_is_shown_but_never_stored_logged_or_sent(kiosk, kiosk_config, tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    kiosk.insert("an")
    kiosk.wait_step("need_key")
    kiosk.show_qr("an")
    kiosk.wait_step("appointment")
    kiosk.qtbot.waitUntil(lambda: kiosk.journey.identity is not None and kiosk.journey.identity.photo is not None,
                          timeout=10000)
    photo = kiosk.journey.identity.photo
    assert any(photo.startswith(m) for m in PHOTO_MAGIC)
    kiosk.tap(kiosk.screen("appointment").confirm)
    kiosk.wait_step("done")
    kiosk.controller.send(j.GoHome())
    kiosk.wait_step("welcome")
    assert kiosk.journey.identity is None  # forgotten with the patient
    data = Path(kiosk_config.kiosk.data_dir)
    assert data.is_dir() and kiosk_config.database_path().is_file()
    assert scan_for_photo(data) == []  # the outbox database (and its WAL), kept tickets, everything there
    assert scan_for_photo(tmp_path) == []
    logged = "\n".join(f"{r.getMessage()} {r.__dict__}" for r in caplog.records)
    assert not any(m in logged for m in PHOTO_MAGIC_B64) and "\\xff\\xd8" not in logged
    for kind in ("Patient", "Encounter"):
        with urllib.request.urlopen(f"{kiosk_config.his.base_url}/{kind}?_count=500", timeout=10) as reply:
            body = reply.read().decode("utf-8")
        assert json.loads(body)["resourceType"] == "Bundle"
        assert not any(m in body for m in PHOTO_MAGIC_B64) and '"photo"' not in body, kind


def test_no_qr_without_a_url_and_a_hospitals_own_text_is_shown_as_given(qapp):
    from ui.screens.privacy import PrivacyNotice

    notice = PrivacyNotice()
    notice.show_notice(j.Settings(), "vi")
    assert notice.qr.isHidden() and "họ tên" in notice.text.text()
    notice.show_notice(j.Settings(notice_url=NOTICE_URL, notice_texts={"vi": "Văn bản của bệnh viện."}), "vi")
    assert not notice.qr.isHidden() and notice.text.text() == "Văn bản của bệnh viện."
    assert decode_qr(notice.qr) == [NOTICE_URL]
