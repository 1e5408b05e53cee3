"""Ticket layout: dot widths, Vietnamese glyphs, wrapping of long names, QR, marks."""
from __future__ import annotations

import dataclasses
import io
import unicodedata

import pytest
import zxingcpp
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image, ImageDraw

from devices.printer.layout import DOT_WIDTHS, TicketLayout, font, wrap_runs
from devices.printer.samples import sample_ticket

VOWELS = "aăâeêioôơuưy"
TONES = ("", "\u0301", "\u0300", "\u0309", "\u0303", "\u0323")  # sắc, huyền, hỏi, ngã, nặng
VIETNAMESE_LETTERS = sorted({unicodedata.normalize("NFC", v + tone) for v in VOWELS for tone in TONES}
                            | {"đ"})
VIETNAMESE_LETTERS += [c.upper() for c in VIETNAMESE_LETTERS]


def decode_qr(image: Image.Image) -> list[str]:
    return [r.text for r in zxingcpp.read_barcodes(image.convert("L")) if r.format == zxingcpp.BarcodeFormat.QRCode]


def black_columns(image: Image.Image, x0: int, x1: int) -> int:
    """Black pixels in columns x0..x1-1."""
    strip = image.crop((x0, 0, x1, image.height)).convert("L")
    return strip.histogram()[0]


@pytest.mark.parametrize("bold", [False, True])
def test_bundled_font_has_every_vietnamese_letter(bold):
    assert len(VIETNAMESE_LETTERS) == 2 * (12 * 6 + 1)
    f = font(40, bold)

    def glyph(ch: str) -> bytes:
        im = Image.new("L", (60, 60), 0)
        ImageDraw.Draw(im).text((10, 50), ch, font=f, fill=255, anchor="ls")
        return im.tobytes()

    missing_glyph = glyph("\ue000")  # a private-use code point: drawn as the .notdef box
    assert any(missing_glyph)
    seen = set()
    for letter in VIETNAMESE_LETTERS:
        drawn = glyph(letter)
        assert any(drawn), letter
        assert drawn != missing_glyph, f"no glyph for {letter!r} (U+{ord(letter):04X})"
        seen.add(drawn)
    assert len(seen) == len(VIETNAMESE_LETTERS)  # every tone mark gives a different letter


@pytest.mark.parametrize("width", DOT_WIDTHS)
def test_ticket_is_a_1bit_image_at_the_dot_width_with_a_readable_qr(width):
    ticket = sample_ticket("normal")
    rendered = TicketLayout(width).render(ticket)
    assert rendered.image.mode == "1"
    assert rendered.image.width == width
    assert 400 < rendered.image.height < 1000  # a short slip, not a scroll
    assert decode_qr(rendered.image) == [ticket.reference]
    lines = rendered.lines
    for expected in ("BỆNH VIỆN ĐA KHOA TỈNH BẮC NINH", "PHIẾU SỐ THỨ TỰ KHÁM BỆNH", "012",
                     "Chuyên khoa: Nội khoa", "PHÒNG KHÁM NỘI 1 (P101)", "Tầng 1, Nhà A",
                     "Khám theo lịch hẹn", "BHYT: Thẻ hợp lệ", "Trước bạn còn 5 người",
                     "Người bệnh: NGUYỄN V** AN", "Ngày 25/11/2026 lúc 09:05"):
        assert expected in " ".join(lines), expected
    assert not any("MẤT KẾT NỐI" in line or "ƯU TIÊN" in line for line in lines)


@pytest.mark.parametrize("width", DOT_WIDTHS)
def test_offline_and_priority_marks(width):
    ticket = sample_ticket("offline-priority")
    rendered = TicketLayout(width).render(ticket)
    text = " ".join(rendered.lines)
    assert rendered.lines.count("MẤT KẾT NỐI") == 1  # the inverted band, once, in Vietnamese
    assert not any("OFFLINE" in line for line in rendered.lines)  # a Vietnamese ticket carries no English
    assert "Phiếu cấp khi mất kết nối" in text
    assert "ƯU TIÊN: Người từ 75 tuổi trở lên" in text
    assert "K2-005" in rendered.lines
    assert "Khám không hẹn trước" in text
    assert "BHYT: Chưa kiểm tra" in text
    assert decode_qr(rendered.image) == [ticket.reference]
    # the OFFLINE band is white text on black: a run of black rows across the content width
    rows = [rendered.image.crop((12, y, width - 12, y + 1)) for y in range(rendered.image.height)]
    assert any(row.convert("L").getextrema() == (0, 0) for row in rows)


@pytest.mark.parametrize("width", DOT_WIDTHS)
def test_very_long_vietnamese_names_wrap_inside_the_paper(width):
    ticket = sample_ticket("long")
    layout = TicketLayout(width)
    rendered = layout.render(ticket)
    image = rendered.image
    # nothing reaches the unprintable margins: text that did not fit would run into them
    assert black_columns(image, 0, layout.margin) == 0
    assert black_columns(image, width - layout.margin, width) == 0
    # every word of every long field is on the ticket (wrapped, not cut)
    drawn = "".join(rendered.lines).replace(" ", "")
    for field in (ticket.hospital_name, ticket.department_name, ticket.room_name.upper(), ticket.room_where,
                  ticket.masked_name, ticket.insurance_status):
        assert field.replace(" ", "") in drawn, field
    assert sum(1 for line in rendered.lines if "PHÒNG" in line or "RĂNG" in line) >= 2  # the room name wrapped
    assert decode_qr(image) == [ticket.reference]


def test_a_word_longer_than_the_line_is_broken_between_letters():
    f = font(23, True)
    word = "NGUYỄNPHƯỚCHUYỀNTRÂNTÔNNỮHOÀNGPHƯƠNGTHUỶ"
    lines = wrap_runs([("Người bệnh:", font(23)), (word, f)], 200)
    assert len(lines) >= 3
    assert "".join(w for line in lines for w, _ in line) == "Ngườibệnh:" + word
    for line in lines:
        width = sum(fnt.getlength(w) for w, fnt in line) + sum(fnt.getlength(" ") for _, fnt in line[1:])
        assert width <= 200


def test_decomposed_input_prints_the_same_as_precomposed():
    nfc = sample_ticket("normal")
    nfd = dataclasses.replace(nfc, masked_name=unicodedata.normalize("NFD", nfc.masked_name),
                              room_where=unicodedata.normalize("NFD", nfc.room_where))
    assert nfd.masked_name != nfc.masked_name
    layout = TicketLayout(576)
    assert layout.render(nfd).image.tobytes() == layout.render(nfc).image.tobytes()


def test_english_catalogue_and_configured_footer():
    rendered = TicketLayout(512, lang="en", footer="Xin cảm ơn quý khách!").render(sample_ticket("normal"))
    text = " ".join(rendered.lines)
    assert "QUEUE TICKET" in text and "Department: Nội khoa" in text and "5 people ahead of you" in text
    assert rendered.lines[-1] == "Xin cảm ơn quý khách!"


def test_the_queue_number_is_large_and_long_labels_shrink_to_fit():
    layout = TicketLayout(384)
    short = layout.render(sample_ticket("normal"))
    long_label = dataclasses.replace(sample_ticket("normal"), label="K12-00345")
    wide = layout.render(long_label)
    assert "K12-00345" in wide.lines
    assert black_columns(wide.image, 0, layout.margin) == 0
    assert black_columns(wide.image, 384 - layout.margin, 384) == 0
    assert short.image.height > wide.image.height  # the long label was drawn smaller


def test_logo_on_top(tmp_path):
    logo = Image.new("RGB", (400, 200), "white")
    logo.paste((200, 0, 0), (100, 50, 300, 150))  # a red block: dithered to dots
    path = tmp_path / "logo.png"
    logo.save(path)
    plain = TicketLayout(576).render(sample_ticket("normal")).image
    with_logo = TicketLayout(576, logo=str(path)).render(sample_ticket("normal")).image
    assert with_logo.height > plain.height
    top = with_logo.crop((0, 0, 576, 100)).convert("L")
    assert top.histogram()[0] > 100


def test_preview_png_is_the_image():
    rendered = TicketLayout(384).render(sample_ticket("normal"))
    decoded = Image.open(io.BytesIO(rendered.png()))
    assert decoded.mode == "1"
    assert decoded.tobytes() == rendered.image.tobytes()


_WORD = st.text(alphabet="".join(VIETNAMESE_LETTERS) + "bcdghklmnpqrstvx-()0123456789", min_size=1, max_size=40)


@settings(max_examples=40, deadline=None)
@given(words=st.lists(_WORD, min_size=1, max_size=12), width=st.integers(min_value=60, max_value=560),
       bold=st.booleans())
def test_wrapping_never_exceeds_the_width_and_loses_nothing(words, width, bold):
    f = font(23, bold)
    lines = wrap_runs([(" ".join(words), f)], width)
    for line in lines:
        total = sum(f.getlength(w) for w, _ in line) + f.getlength(" ") * (len(line) - 1)
        assert total <= width + 0.01
    assert "".join(w for line in lines for w, _ in line) == "".join(words)
