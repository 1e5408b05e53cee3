"""``printer.connection`` parsed into what python-escpos needs.

Accepted forms (one line in the config, so an IT technician can change the
cable without touching code):

    usb:VID:PID[:IN_EP:OUT_EP]   usb:04b8:0e15   usb:0x0416:0x5011:0x81:0x03
    network:HOST[:PORT]          network:192.168.1.50:9100
    serial:DEVICE[:BAUD]         serial:/dev/ttyUSB0:115200
    file:PATH                    file:/dev/usb/lp0
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from kiosk.errors import ConfigError

FORMS = "usb:VID:PID, network:HOST:PORT, serial:DEVICE:BAUD or file:PATH"
BAUD_RATES = (1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200, 230400)
_HEX = re.compile(r"^(0x)?[0-9a-fA-F]{1,4}$")


@dataclass(frozen=True)
class Connection:
    kind: str  # usb / network / serial / file
    target: str = ""  # host, device or path
    port: int = 9100
    baudrate: int = 9600
    vendor_id: int = 0
    product_id: int = 0
    in_ep: int = 0x82
    out_ep: int = 0x01

    @property
    def can_read_status(self) -> bool:
        """python-escpos answers status queries only over USB, serial and network."""
        return self.kind in ("usb", "network", "serial")

    def describe(self) -> str:
        if self.kind == "usb":
            return f"usb {self.vendor_id:04x}:{self.product_id:04x}"
        if self.kind == "network":
            return f"network {self.target}:{self.port}"
        if self.kind == "serial":
            return f"serial {self.target} at {self.baudrate} baud"
        return f"file {self.target}"


def _bad(spec: str, why: str) -> ConfigError:
    return ConfigError(f"printer.connection: expected {FORMS} ({why}), got {spec!r}")


def _hex(spec: str, value: str, what: str) -> int:
    if not _HEX.match(value):
        raise _bad(spec, f"{what} must be hexadecimal like 04b8")
    return int(value, 16)


def parse_connection(spec: str) -> Connection:
    kind, _, rest = (spec or "").strip().partition(":")
    kind = kind.lower()
    if not rest:
        raise _bad(spec, "nothing after the kind")
    if kind == "usb":
        parts = rest.split(":")
        if len(parts) not in (2, 4):
            raise _bad(spec, "usb needs VID:PID or VID:PID:IN_EP:OUT_EP")
        ids = [_hex(spec, p, n) for p, n in zip(parts, ("VID", "PID", "IN_EP", "OUT_EP"))]
        eps = {"in_ep": ids[2], "out_ep": ids[3]} if len(ids) == 4 else {}
        return Connection("usb", vendor_id=ids[0], product_id=ids[1], **eps)
    if kind == "network":
        host, port = rest, 9100
        if rest.count(":") == 1:
            host, _, port_text = rest.partition(":")
            if not port_text.isdigit() or not 0 < int(port_text) < 65536:
                raise _bad(spec, "PORT must be 1-65535")
            port = int(port_text)
        if not host or rest.count(":") > 1:
            raise _bad(spec, "HOST missing or not a host name / IPv4 address")
        return Connection("network", target=host, port=port)
    if kind == "serial":
        device, baud = rest, 9600
        head, sep, tail = rest.rpartition(":")
        if sep and tail.isdigit():
            device, baud = head, int(tail)
            if baud not in BAUD_RATES:
                raise _bad(spec, f"BAUD must be one of {', '.join(map(str, BAUD_RATES))}")
        return Connection("serial", target=device, baudrate=baud)
    if kind == "file":
        return Connection("file", target=rest)
    raise _bad(spec, f"unknown kind {kind!r}")
