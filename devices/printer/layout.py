"""The ticket as a 1-bit image at the printer's dot width.

Vietnamese does not survive the code pages of common thermal printers (tone
marks end up beside the letter or as '?'), so the whole ticket is drawn here
with Pillow and the bundled DejaVu Sans, which has every Vietnamese letter,
and sent as a raster image. The same image is the PNG preview, so what staff
see in the README, the demo and ``kiosk print-test --preview`` is what prints.

Every text comes from the message catalogue (``devices/printer/texts.py``).
Text that may be long — hospital, department and room names, the masked
patient name — is word-wrapped to the paper width; a word longer than a line
is broken between letters, so nothing is ever cut off at the paper edge.
"""
from __future__ import annotations

import io
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import segno
from PIL import Image, ImageDraw, ImageFont

from devices.printer.texts import insurance_text, priority_text
from kiosk.domain import Ticket
from kiosk.texts.messages import t

FONT_DIR = Path(__file__).resolve().parents[2] / "assets" / "fonts"
FONT_REGULAR = FONT_DIR / "DejaVuSans.ttf"
FONT_BOLD = FONT_DIR / "DejaVuSans-Bold.ttf"

DOT_WIDTHS = (384, 512, 576)
BLACK, WHITE = 0, 255
# Text is drawn anti-aliased in grey, then every pixel darker than this becomes a dot:
# slightly bolder than FreeType's own 1-bit rendering, so thin strokes such as the
# horn of ư/ơ and the dot below ạ survive on thermal paper.
INK_THRESHOLD = 160
# Tallest and deepest Vietnamese letters: stacked marks on capitals, descenders with a dot below.
_EXTENT_SAMPLE = "ỄẪỖỮẴẰỶgjpqyỵỵự|"

# Font sizes in dots per paper width: 58 mm (384) needs smaller text than 80 mm.
_SIZES = {
    384: {"hospital": 19, "title": 17, "label": 15, "number": 112, "room": 23, "body": 17, "small": 15, "qr": 3},
    512: {"hospital": 23, "title": 20, "label": 17, "number": 136, "room": 28, "body": 21, "small": 16, "qr": 4},
    576: {"hospital": 25, "title": 22, "label": 18, "number": 150, "room": 30, "body": 23, "small": 17, "qr": 4},
}


@lru_cache(maxsize=64)
def font(size: int, bold: bool = False) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(FONT_BOLD if bold else FONT_REGULAR), size)


@lru_cache(maxsize=64)
def _extent(f: ImageFont.FreeTypeFont) -> tuple[int, int]:
    """(ascent, descent) in dots that fit every Vietnamese letter of this font."""
    left, top, right, bottom = f.getbbox(_EXTENT_SAMPLE, anchor="ls")
    return -top, bottom


@lru_cache(maxsize=8192)
def text_length(f: ImageFont.FreeTypeFont, text: str) -> float:
    """Advance width in dots (cached: the same words and spaces are measured again and again)."""
    return f.getlength(text)


def nfc(text: str) -> str:
    """Precomposed letters: input from a card or an HIS may be decomposed (NFD)."""
    return unicodedata.normalize("NFC", text or "").strip()


Run = tuple[str, ImageFont.FreeTypeFont]


def _split_long_word(word: str, f, max_width: int) -> list[str]:
    pieces, current = [], ""
    for ch in word:
        if current and text_length(f, current + ch) > max_width:
            pieces.append(current)
            current = ch
        else:
            current += ch
    return pieces + ([current] if current else [])


def wrap_runs(runs: list[Run], max_width: int) -> list[list[Run]]:
    """Word-wrap styled text (label in regular, value in bold) to ``max_width`` dots."""
    words: list[Run] = []
    for text, f in runs:
        for word in nfc(text).split():
            if text_length(f, word) > max_width:
                words.extend((piece, f) for piece in _split_long_word(word, f, max_width))
            else:
                words.append((word, f))
    lines: list[list[Run]] = []
    line: list[Run] = []
    width = 0.0
    for word, f in words:
        gap = text_length(f, " ") if line else 0.0
        w = text_length(f, word)
        if line and width + gap + w > max_width:
            lines.append(line)
            line, width, gap = [], 0.0, 0.0
        line.append((word, f))
        width += gap + w
    if line:
        lines.append(line)
    return lines


def _balanced(runs: list[Run], max_width: int, count: int) -> list[list[Run]]:
    """The same number of lines, as even as possible: a centred hospital name
    wraps as two halves, not as a full line and one orphan word."""
    low, high = max_width // count, max_width
    while low < high:
        mid = (low + high) // 2
        if len(wrap_runs(runs, mid)) <= count:
            high = mid
        else:
            low = mid + 1
    return wrap_runs(runs, high)


def _line_width(line: list[Run]) -> float:
    width = 0.0
    for i, (word, f) in enumerate(line):
        width += (text_length(f, " ") if i else 0.0) + text_length(f, word)
    return width


@dataclass
class RenderedTicket:
    """The ticket image (mode "1": 0 = black dot, 255 = white) and the text lines drawn on it, in order."""

    image: Image.Image
    lines: list[str] = field(default_factory=list)

    def png(self) -> bytes:
        return image_png(self.image)


def image_png(image: Image.Image) -> bytes:
    buf = io.BytesIO()
    image.save(buf, format="PNG", optimize=True)
    return buf.getvalue()


class _Canvas:
    """Draw operations collected top to bottom, replayed once the height is known."""

    def __init__(self, width: int, margin: int):
        self.width = width
        self.margin = margin
        self.inner = width - 2 * margin
        self.y = 0
        self.ops: list = []
        self.lines: list[str] = []
        self.target: Image.Image | None = None

    def space(self, dots: int) -> None:
        self.y += dots

    def text(self, runs: list[Run], *, align: str = "center", inverted: bool = False,
             line_gap: int = 2, x0: int | None = None, max_width: int | None = None) -> None:
        x0 = self.margin if x0 is None else x0
        max_width = max_width or (self.inner - (12 if inverted else 0))
        lines = wrap_runs(runs, max_width)
        if align == "center" and len(lines) > 1:
            lines = _balanced(runs, max_width, len(lines))
        for line in lines:
            asc = max(_extent(f)[0] for _, f in line)
            desc = max(_extent(f)[1] for _, f in line)
            width = _line_width(line)
            if align == "center":
                x = x0 + (max_width - width) / 2 + (6 if inverted else 0)
            else:
                x = x0 + (6 if inverted else 0)
            top, baseline = self.y, self.y + asc
            if inverted:
                self.ops.append(lambda d, top=top, h=asc + desc + line_gap + 2: d.rectangle(
                    (self.margin, top - 2, self.width - self.margin - 1, top + h - 1), fill=BLACK))
            self.ops.append(lambda d, line=line, x=x, b=baseline, inv=inverted: self._draw_line(d, line, x, b, inv))
            self.lines.append(" ".join(word for word, _ in line))
            self.y += asc + desc + line_gap + (4 if inverted else 0)

    @staticmethod
    def _draw_line(d: ImageDraw.ImageDraw, line: list[Run], x: float, baseline: int, inverted: bool) -> None:
        """Draw the words of one line, one call per run of words in the same font."""
        groups: list[list] = []
        for i, (word, f) in enumerate(line):
            if groups and groups[-1][1] is f:
                groups[-1][0] += " " + word
            else:
                groups.append([(" " if i else "") + word, f])
        for text, f in groups:
            d.text((round(x), baseline), text, font=f, fill=WHITE if inverted else BLACK, anchor="ls")
            x += text_length(f, text)

    def rule(self, dashed: bool = True) -> None:
        y = self.y + 4
        dash = 8 if dashed else self.inner

        def draw(d, y=y):
            for x in range(self.margin, self.width - self.margin, dash * 2 if dashed else self.inner):
                d.rectangle((x, y, min(x + dash, self.width - self.margin) - 1, y + 1), fill=BLACK)

        self.ops.append(draw)
        self.y += 10

    def image(self, picture: Image.Image, x: int) -> None:
        self.ops.append(lambda d, y=self.y: self.target.paste(picture, (x, y)))

    def render(self, bottom_margin: int) -> Image.Image:
        img = Image.new("L", (self.width, self.y + bottom_margin), WHITE)
        d = ImageDraw.Draw(img)
        self.target = img  # where pictures (logo, QR) are pasted
        for op in self.ops:
            op(d)
        return img.point(lambda v: 255 if v > INK_THRESHOLD else 0, mode="1")


def qr_image(payload: str, module: int) -> Image.Image:
    """The QR code as a black-and-white image, ``module`` dots per module, no quiet zone."""
    code = segno.make(payload, error="m", micro=False)
    rows = list(code.matrix)
    n = len(rows)
    img = Image.new("L", (n, n), WHITE)
    img.putdata([BLACK if cell else WHITE for row in rows for cell in row])
    return img.resize((n * module, n * module), Image.NEAREST)


def load_logo(path: str, max_width: int, max_height: int) -> Image.Image:
    """A logo scaled to fit and dithered to 1 bit (photos and coloured logos print as dots)."""
    with Image.open(path) as src:
        src = src.convert("RGBA")
        flat = Image.new("RGBA", src.size, (255, 255, 255, 255))
        flat.alpha_composite(src)
        grey = flat.convert("L")
    grey.thumbnail((max_width, max_height), Image.LANCZOS)
    return grey.convert("1").convert("L")  # Floyd-Steinberg dithering, kept as pure black/white


class TicketLayout:
    """Renders tickets for one printer: its dot width, language, footer and logo."""

    def __init__(self, width: int = 576, *, lang: str = "vi", footer: str = "",
                 logo: str = "", hospital_name: str = ""):
        if width not in DOT_WIDTHS:
            raise ValueError(f"dot width must be one of {DOT_WIDTHS}, got {width}")
        self.width = width
        self.lang = lang
        self.footer = footer
        self.hospital_name = hospital_name
        self.sizes = _SIZES[width]
        self.margin = 8 if width == 384 else 12
        self._logo = load_logo(logo, width - 2 * self.margin, 96 if width > 384 else 72) if logo else None

    def _f(self, role: str, bold: bool = False):
        return font(self.sizes[role], bold)

    def render(self, ticket: Ticket, *, reprint: bool = False) -> RenderedTicket:
        lang, f = self.lang, self._f
        c = _Canvas(self.width, self.margin)
        c.space(6)
        if self._logo is not None:
            c.image(self._logo, (self.width - self._logo.width) // 2)
            c.space(self._logo.height + 8)
        hospital = ticket.hospital_name or self.hospital_name
        if hospital:
            c.text([(hospital, f("hospital", True))])
        c.text([(t("ticket.title", lang), f("title", True))])
        if ticket.offline:
            c.space(6)
            c.text([(t("ticket.offline", lang), f("room", True))], inverted=True)
            c.text([(t("ticket.offline_note", lang), f("small"))])
        if reprint:
            c.space(4)
            c.text([(t("ticket.reprint", lang), f("body", True))], inverted=True)
        c.space(6)
        c.text([(t("ticket.number", lang), f("label"))])
        self._number(c, ticket.label or str(ticket.number))
        if ticket.priority is not None:
            c.text([(t("ticket.priority", lang) + ":", f("body", True)),
                    (priority_text(ticket.priority, lang), f("body", True))], inverted=True)
            c.space(2)
        c.rule()
        c.text([(t("ticket.department", lang) + ":", f("body")), (ticket.department_name, f("body", True))])
        room = ticket.room_name + (f" ({ticket.room_code})" if ticket.room_code else "")
        c.space(2)
        c.text([(room.upper(), f("room", True))])
        if ticket.room_where:
            c.text([(ticket.room_where, f("body"))])
        c.rule()
        left = "left"
        c.text([(t("ticket.booked" if ticket.booked else "ticket.walk_in", lang), f("body", True))], align=left)
        if ticket.insurance_status == "fee":  # "Khám dịch vụ (không dùng BHYT)" says it all
            c.text([(insurance_text(ticket.insurance_status, lang), f("body", True))], align=left)
        elif ticket.insurance_status:
            c.text([(t("ticket.insurance", lang) + ":", f("body")),
                    (insurance_text(ticket.insurance_status, lang), f("body", True))], align=left)
        if ticket.people_ahead is not None:
            c.text([(t("ticket.people_ahead", lang, n=ticket.people_ahead), f("body"))], align=left)
        if ticket.estimated_wait_min is not None:
            c.text([(t("ticket.wait", lang, n=ticket.estimated_wait_min), f("body"))], align=left)
        if ticket.masked_name:
            c.text([(t("ticket.patient", lang) + ":", f("body")), (ticket.masked_name, f("body", True))],
                   align=left)
        c.rule()
        self._qr_block(c, ticket)
        footer = self.footer or t("ticket.footer", lang)
        if footer:
            c.rule()
            c.text([(footer, f("small"))])
        return RenderedTicket(image=c.render(bottom_margin=8), lines=c.lines)

    def _number(self, c: _Canvas, label: str) -> None:
        """The queue number as large as it fits (offline labels such as 'K2-005' are longer)."""
        label = nfc(label)
        size = self.sizes["number"]
        while size > 24 and text_length(font(size, True), label) > c.inner:
            size -= 4
        f = font(size, True)
        left, top, right, bottom = f.getbbox(label, anchor="ls")
        x = c.margin + (c.inner - (right - left)) / 2 - left
        baseline = c.y - top
        c.ops.append(lambda d: d.text((round(x), baseline), label, font=f, fill=BLACK, anchor="ls"))
        c.lines.append(label)
        c.y += bottom - top + 10

    def _qr_block(self, c: _Canvas, ticket: Ticket) -> None:
        """QR code on the left — the phone follow-up link when the ticket has one, else the
        ticket reference — with date, time and short reference beside it."""
        module = self.sizes["qr"]
        qr = qr_image(ticket.follow_url or ticket.reference, module)
        quiet = 3 * module
        qr_x = max(c.margin, quiet)
        top = c.y + quiet
        c.y = top
        c.image(qr, qr_x)
        text_x = qr_x + qr.width + quiet
        text_width = self.width - c.margin - text_x
        when = t("ticket.issued", self.lang, date=ticket.issued_at.strftime("%d/%m/%Y"),
                 time=ticket.issued_at.strftime("%H:%M"))
        c.space(4)
        c.text([(when, self._f("body", True))], align="left", x0=text_x, max_width=text_width)
        short = ticket.reference.replace("-", "")[:8].upper()
        c.text([(t("ticket.reference", self.lang) + ":", self._f("small")), (short, self._f("small", True))],
               align="left", x0=text_x, max_width=text_width)
        if ticket.follow_url:
            c.space(4)
            c.text([(t("ticket.follow", self.lang), self._f("small", True))], align="left", x0=text_x,
                   max_width=text_width)
        c.y = max(c.y, top + qr.height + quiet)
