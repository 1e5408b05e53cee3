"""QR decoders behind one small interface: grey uint8 image in, exact text out.

Why each detail:
- zbar guesses the charset of byte-mode QR codes without an ECI marker and
  turns short Vietnamese UTF-8 ('Quận Z') into Shift-JIS garbage. We enable
  its raw-bytes mode (``ZBAR_CFG_BINARY``) through pyzbar's ctypes wrapper and
  decode UTF-8 ourselves. pyzbar reads only the first channel of a colour
  array, so decoders take grey images.
- zxing-cpp honours ECI; we still take its raw ``bytes`` decoded as UTF-8
  (its charset guess on ECI-less codes is a heuristic).
- Bytes that are not UTF-8 are never re-read in another encoding (Latin-1
  would turn one bad byte into a plausible, garbled name): the text keeps
  U+FFFD where they were, and ``kiosk.identity.qr_payload`` refuses it (the
  patient scans again or uses the card / keypad).
- OpenCV's detector can raise ``UnicodeDecodeError`` on some codes: that
  counts as "nothing decoded".
A decoder object is not thread-safe: each scan loop owns its own.
"""
from __future__ import annotations

from ctypes import c_void_p, cast, string_at
from dataclasses import dataclass

import numpy as np

ZBAR_CFG_BINARY = 4  # zbar >= 0.23: return raw bytes, no charset conversion
_ZBAR_Y800 = 0x30303859  # fourcc 'Y800': 8-bit grey


@dataclass(frozen=True)
class Decoded:
    text: str
    raw: bytes
    decoder: str


def bytes_to_text(raw: bytes) -> str:
    """UTF-8 (the CCCD's encoding); bytes that are not UTF-8 become U+FFFD,
    which the QR parser refuses (never another encoding)."""
    return raw.decode("utf-8", errors="replace")


class ZbarDecoder:
    """libzbar via pyzbar's ctypes wrapper: QR (raw-bytes mode) and Code 128."""

    name = "zbar"

    def __init__(self) -> None:
        from pyzbar import wrapper as zw

        self._zw = zw
        self._scanner = zw.zbar_image_scanner_create()
        if not self._scanner:
            raise RuntimeError("libzbar: cannot create an image scanner")
        zw.zbar_image_scanner_set_config(self._scanner, 0, zw.ZBarConfig.CFG_ENABLE, 0)
        qr = int(zw.ZBarSymbol.QRCODE)
        zw.zbar_image_scanner_set_config(self._scanner, qr, zw.ZBarConfig.CFG_ENABLE, 1)
        zw.zbar_image_scanner_set_config(self._scanner, qr, ZBAR_CFG_BINARY, 1)
        zw.zbar_image_scanner_set_config(self._scanner, int(zw.ZBarSymbol.CODE128), zw.ZBarConfig.CFG_ENABLE, 1)

    def decode(self, grey: np.ndarray) -> list[Decoded]:
        zw = self._zw
        grey = np.ascontiguousarray(grey, dtype=np.uint8)
        height, width = grey.shape[:2]
        data = grey.tobytes()
        image = zw.zbar_image_create()
        if not image:
            raise RuntimeError("libzbar: cannot create an image")
        try:
            zw.zbar_image_set_format(image, _ZBAR_Y800)
            zw.zbar_image_set_size(image, width, height)
            zw.zbar_image_set_data(image, cast(data, c_void_p), len(data), None)
            if zw.zbar_scan_image(self._scanner, image) <= 0:
                return []
            found = []
            symbol = zw.zbar_image_first_symbol(image)
            while symbol:
                raw = string_at(zw.zbar_symbol_get_data(symbol), zw.zbar_symbol_get_data_length(symbol))
                found.append(Decoded(bytes_to_text(raw), raw, self.name))
                symbol = zw.zbar_symbol_next(symbol)
            return found
        finally:
            zw.zbar_image_destroy(image)

    def close(self) -> None:
        if self._scanner:
            self._zw.zbar_image_scanner_destroy(self._scanner)
            self._scanner = None

    def __del__(self) -> None:  # scanners hold C memory
        try:
            self.close()
        except Exception:
            pass


def zxing_formats(zxingcpp) -> tuple:
    """What the kiosk's camera reads: QR codes (CCCD, appointments, new slips)
    and Code 128 barcodes (the patient code on old slips)."""
    return (zxingcpp.BarcodeFormat.QRCode, zxingcpp.BarcodeFormat.Code128)


class ZxingDecoder:
    """zxing-cpp: QR (model 2) and Code 128. ``try_downscale`` lets zxing search its own
    pyramid; turning it off is faster on frames where the code is large."""

    name = "zxing"

    def __init__(self, try_downscale: bool = True, try_rotate: bool = True) -> None:
        import zxingcpp

        self._zx = zxingcpp
        self._formats = zxing_formats(zxingcpp)
        self._downscale = try_downscale
        self._rotate = try_rotate

    def decode(self, grey: np.ndarray) -> list[Decoded]:
        results = self._zx.read_barcodes(grey, formats=self._formats, try_rotate=self._rotate,
                                         try_downscale=self._downscale, try_invert=False)
        return [Decoded(bytes_to_text(bytes(r.bytes)), bytes(r.bytes), self.name)
                for r in results if r.valid]

    def close(self) -> None:
        pass


class OpenCvDecoder:
    """OpenCV's QR detector (``aruco=True``: the ArUco-based finder, better on
    tilted codes). Slowest of the three; kept for the benchmark and as a
    last resort."""

    def __init__(self, aruco: bool = True) -> None:
        import cv2

        self.name = "opencv-aruco" if aruco else "opencv"
        self._detector = cv2.QRCodeDetectorAruco() if aruco else cv2.QRCodeDetector()

    def decode(self, grey: np.ndarray) -> list[Decoded]:
        try:
            text, _points, _ = self._detector.detectAndDecode(grey)
        except (UnicodeDecodeError, Exception):  # noqa: BLE001 - OpenCV raises cv2.error too
            return []
        if not text:
            return []
        return [Decoded(text, text.encode("utf-8"), self.name)]

    def close(self) -> None:
        pass


DECODERS = {"zbar": ZbarDecoder, "zxing": ZxingDecoder, "opencv": OpenCvDecoder}
