"""`kiosk scan-image PATH…` and `kiosk scan --camera SPEC`: decode QR codes
from image/video files or a live camera, through the kiosk's own capture
thread and decoding cascade, and show what the kiosk makes of them.

For IT staff checking a camera or a patient's card: the output contains the
decoded personal data, it is never logged.
"""
from __future__ import annotations

import sys
import time

from app.cli import json_text, print_json, shown
from kiosk.config.loader import load_config
from kiosk.identity.qr_payload import KIND_UNKNOWN, QrPayloadError, describe, parse_qr


def register(sub) -> None:
    p = sub.add_parser("scan-image", help="decode QR codes in image or video files")
    p.add_argument("paths", nargs="+", metavar="PATH", help="image (PNG, JPEG…) or video file")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument("--config", help="config file (for camera.appointment_pattern and camera.roi)")
    p.set_defaults(func=_scan_image)

    live = sub.add_parser("scan", help="print QR codes seen by a camera, live")
    live.add_argument("--camera", metavar="SPEC",
                      help="device index, /dev/videoN, URL or video file (default: camera.source)")
    live.add_argument("--seconds", type=float, default=0, help="stop after this long (default: Ctrl-C)")
    live.add_argument("--json", action="store_true", help="print one JSON object per line")
    live.add_argument("--config", help="config file")
    live.set_defaults(func=_scan_live)


def interpret(text: str, appointment_pattern: str) -> dict:
    """The decoded text, its kind, its fields and the derived chip keys."""
    entry = {"text": text}
    try:
        entry.update(describe(parse_qr(text, appointment_pattern)))
    except QrPayloadError as exc:
        entry.update({"kind": KIND_UNKNOWN, "error": str(exc), "message_key": exc.patient_message_key})
    return entry


def scan_file(path: str, config) -> dict:
    """Decode the first frame of a file through the capture thread and cascade."""
    from devices.camera import decode_file

    found = decode_file(config, path)
    result = {"path": path, **found, "codes": []}
    for text, decoder in found["codes"]:
        entry = interpret(text, config.camera.appointment_pattern)
        entry["decoder"] = decoder
        result["codes"].append(entry)
    return result


def _scan_image(args) -> int:
    config = load_config(args.config)
    results = [scan_file(path, config) for path in args.paths]
    if args.json:
        print_json(results)
    else:
        for r in results:
            if r.get("error"):
                print(f"{shown(r['path'])}: ERROR {shown(r['error'])}")
            elif not r["codes"]:
                print(f"{shown(r['path'])}: no QR code found")
            for c in r["codes"]:
                print(f"{shown(r['path'])}: {c['kind']} ({c['decoder']}, {r['decode_ms']} ms): {shown(c['text'])}")
    return 0 if all(r["codes"] for r in results) else 1


def _scan_live(args) -> int:
    from app import compose

    config = load_config(args.config)
    # The kiosk's own scanner on this camera; a video file is played once.
    scanner = compose.build_camera_scanner(config, source=args.camera)

    def on_code(text: str) -> None:
        entry = interpret(text, config.camera.appointment_pattern)
        if args.json:
            print(json_text(entry, indent=None), flush=True)
        else:
            print(f"{entry['kind']}: {shown(text)}", flush=True)

    def on_event(state: str) -> None:
        print(f"camera: {state}", file=sys.stderr, flush=True)

    scanner.start(on_code, on_event)
    try:
        deadline = time.monotonic() + args.seconds if args.seconds else None
        while deadline is None or time.monotonic() < deadline:
            if scanner.join(0.2):  # a video file that was read to its end
                break
    finally:
        scanner.stop()
    return 0
