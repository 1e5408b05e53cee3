"""Ticket printing cost: render (Pillow) + encode (python-escpos GS v 0) time per
ticket, and printer bytes per ticket at 58 and 80 mm — fewer bytes print
sooner, above all on 9600-baud serial lines.

Baseline, measured in the same run: the same ticket sent the way Vietnamese
cannot be printed correctly — python-escpos text mode with the tone marks
stripped to ASCII and the printer's native QR command. It shows what the
correct-Vietnamese image costs in bytes and time.
"""
from __future__ import annotations

import statistics
import time
import unicodedata

from devices.printer.escpos_transport import encode_ticket
from devices.printer.layout import TicketLayout
from devices.printer.quiet import quiet_stdout
from devices.printer.samples import sample_ticket

ROUNDS = 25
CASES = [("58 mm", 384, "POS-5890"), ("80 mm", 512, "TM-T88V"), ("80 mm", 576, "TM-T20II")]
# render + encode per ticket: at most a tenth of the ~1 s a printer needs to feed a slip this long
TARGET_MS = 100.0


def _median_ms(fn, rounds: int = ROUNDS) -> float:
    fn()  # warm caches (fonts, profiles)
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def _ascii(text: str) -> str:
    text = text.replace("đ", "d").replace("Đ", "D")
    return "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c))


def _text_mode_bytes(ticket, profile: str) -> bytes:
    """The baseline: text lines in the printer's font, tone marks lost."""
    from escpos.printer import Dummy

    with quiet_stdout():
        p = Dummy(profile=profile)
        p.hw("INIT")
        p.set(align="center", bold=True)
        p.textln(_ascii(ticket.hospital_name))
        p.set(align="center", double_height=True, double_width=True, bold=True)
        p.textln(ticket.label)
        p.set(align="left", normal_textsize=True)
        for line in (ticket.department_name, f"{ticket.room_name} ({ticket.room_code})", ticket.room_where,
                     ticket.masked_name, ticket.issued_at.strftime("%d/%m/%Y %H:%M")):
            p.textln(_ascii(line))
        p.qr(ticket.reference, native=True, size=4)
        p.cut()
        return p.output


def _seconds(nbytes: int, baud: int) -> float:
    return nbytes * 10 / baud  # 8N1: 10 bits on the line per byte


def run() -> str:
    ticket = sample_ticket("normal")
    rows = []
    base_bytes = len(_text_mode_bytes(ticket, "TM-T20II"))
    base_ms = _median_ms(lambda: _text_mode_bytes(ticket, "TM-T20II"))
    for paper, width, profile in CASES:
        layout = TicketLayout(width)
        rendered = layout.render(ticket)
        render_ms = _median_ms(lambda: layout.render(ticket))
        encode_ms = _median_ms(lambda: encode_ticket(rendered.image, profile))
        nbytes = len(encode_ticket(rendered.image, profile))
        total = render_ms + encode_ms
        rows.append(
            f"| {paper} ({width} dots, {profile}) | {rendered.image.height} | {render_ms:.1f} | {encode_ms:.1f} "
            f"| {total:.1f} | {'✅' if total < TARGET_MS else '❌'} | {nbytes / 1024:.1f} | {nbytes / base_bytes:.0f}× "
            f"| {_seconds(nbytes, 9600):.0f} s | {_seconds(nbytes, 115200):.1f} s |")
    return "\n".join([
        "## Ticket printer (render + encode, bytes per ticket)",
        "",
        f"The sample ticket (`kiosk print-test`), median of {ROUNDS} runs. Render = Pillow + DejaVu Sans "
        "to a 1-bit image; encode = python-escpos `image(impl=\"bitImageRaster\")` (GS v 0) plus init and cut. "
        "Serial times are the line time at 8N1; USB and network printers take the bytes in well under a second.",
        "",
        "| paper | rows | render ms | encode ms | total ms | target < "
        f"{TARGET_MS:.0f} ms | KB sent | vs text mode | at 9600 baud | at 115200 baud |",
        "|---|---:|---:|---:|---:|:---:|---:|---:|---:|---:|",
        *rows,
        "",
        f"Baseline (same run): python-escpos text mode + native QR, tone marks stripped (unreadable Vietnamese): "
        f"{base_bytes} bytes, {base_ms:.2f} ms. The image ticket costs more bytes but is the only way the "
        "Vietnamese prints correctly on common printers; on a serial printer set 115200 baud "
        "(`serial:/dev/ttyUSB0:115200`), or prefer USB/network.",
    ])


if __name__ == "__main__":
    print(run())
