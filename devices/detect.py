"""What devices are attached, for the admin screen's choices.

Each function returns ``(label, changes)`` pairs: the text to show and the
config settings that choosing it writes. Detection is best-effort and quick;
the current setting is always offered too, so nothing disappears because a
device is unplugged at the moment.
"""
from __future__ import annotations

import glob
from pathlib import Path

Choice = tuple[str, dict]


def attached_devices() -> dict[str, list[Choice]]:
    """Choices per device kind: ``{"reader": […], "camera": […], "printer": […]}``."""
    return {"reader": card_readers(), "camera": cameras(), "printer": printers()}


def card_readers() -> list[Choice]:
    try:
        from smartcard.System import readers  # pyscard; fails fast when pcscd is not running

        names = [str(r) for r in readers()]
    except Exception:  # no pcscd, no pyscard: nothing to offer
        names = []
    return [(n, {"card_reader.driver": "pcsc", "card_reader.reader": n}) for n in names]


def cameras(dev_glob: str = "/dev/video*") -> list[Choice]:
    out = []
    for path in sorted(glob.glob(dev_glob)):
        name = _sysfs_text(Path("/sys/class/video4linux") / Path(path).name / "name")
        out.append((f"{path} {name}".strip(), {"camera.driver": "opencv", "camera.source": path}))
    return out


def printers(usb_root: str = "/sys/bus/usb/devices", lp_glob: str = "/dev/usb/lp*") -> list[Choice]:
    out: list[Choice] = []
    for dev in sorted(Path(usb_root).glob("*")) if Path(usb_root).is_dir() else []:
        vid, pid = _sysfs_text(dev / "idVendor"), _sysfs_text(dev / "idProduct")
        if not (vid and pid):
            continue
        # USB interface class 07 = printer
        if not any(_sysfs_text(i / "bInterfaceClass") == "07" for i in dev.glob(f"{dev.name}:*")):
            continue
        product = _sysfs_text(dev / "product") or "USB printer"
        conn = f"usb:0x{vid}:0x{pid}"
        out.append((f"{product} ({conn})", {"printer.driver": "escpos", "printer.connection": conn}))
    for path in sorted(glob.glob(lp_glob)):
        conn = f"file:{path}"
        out.append((conn, {"printer.driver": "escpos", "printer.connection": conn}))
    return out


def _sysfs_text(path: Path) -> str:
    try:
        return path.read_text().strip()
    except OSError:
        return ""
