"""Ward boards and calling patients:

- ``kiosk display --department CODE | --rooms R1,R2`` — the queue board (PySide6);
- ``kiosk call-next --room R`` — the next visit in the room's queue becomes
  in-progress in the HIS (the board announces it);
- ``kiosk recall --room R`` — say the current number again;
- ``kiosk skip --room R`` — the called patient did not come (Encounter
  ``cancelled`` + ``urn:kiosk:no-show``), then call the next one;
- ``kiosk announce --label 012 --room-name "Phòng khám số 5"`` — test the chime
  and voice on this machine (and keep the WAV with ``--out``).

Qt and the voice package are imported only inside the commands that need them.
"""
from __future__ import annotations

import shutil

from kiosk.config import load_config
from . import print_json


def _config_arg(p) -> None:
    p.add_argument("--config", help="config file (default: $KIOSK_CONFIG, then the platform config dir)")


def register(sub) -> None:
    p = sub.add_parser("display", help="ward board: numbers being served and waiting, with voice calls")
    _config_arg(p)
    which = p.add_mutually_exclusive_group()
    which.add_argument("--department", help="department code: show all its clinic rooms (display.department)")
    which.add_argument("--rooms", help="comma-separated clinic room codes (display.rooms)")
    p.add_argument("--orientation", choices=("auto", "landscape", "portrait"), help="default: display.orientation")
    p.add_argument("--windowed", action="store_true", help="a window instead of full screen")
    p.add_argument("--demo", action="store_true", help="show call-next / recall / skip buttons on the board")
    p.add_argument("--screenshot", metavar="PNG", help="render the board once into PNG and exit")
    p.add_argument("--size", default="1920x1080", help="screenshot size WxH (default 1920x1080)")
    p.set_defaults(func=run_display)

    for name, helptext in (("call-next", "call the next patient of a clinic room (HIS status in-progress)"),
                           ("recall", "announce the room's current number again"),
                           ("skip", "mark the called patient as a no-show, then call the next")):
        c = sub.add_parser(name, help=helptext)
        _config_arg(c)
        c.add_argument("--room", required=True, help="clinic room code, e.g. P101")
        if name == "call-next":
            c.add_argument("--keep-previous", action="store_true",
                           help="leave the patient being served in-progress (default: mark finished)")
        if name == "skip":
            c.add_argument("--no-next", action="store_true", help="only mark the no-show; do not call the next")
        c.set_defaults(func=run_call, action=name)

    a = sub.add_parser("announce", help="play (or synthesise) one call: chime + Vietnamese voice")
    _config_arg(a)
    a.add_argument("--label", default="012")
    a.add_argument("--room-name", default="Phòng khám số 5")
    a.add_argument("--out", help="copy the synthesised WAV here")
    a.set_defaults(func=run_announce)


def _rooms_arg(value: str | None) -> list[str]:
    return [r.strip() for r in (value or "").split(",") if r.strip()]


def run_display(args) -> int:
    config = load_config(args.config)
    rooms = _rooms_arg(args.rooms)
    department = args.department or ""
    if args.screenshot:
        return _screenshot(config, department, rooms, args)
    from devices.voice import build_announcer
    from ui.display import run_board

    from kiosk.logs import setup_logging
    from kiosk.metrics import start_metrics_server

    setup_logging(config)  # structured lines to stderr → the journal
    metrics = start_metrics_server(config)  # /metrics on 127.0.0.1 when [metrics] enabled
    try:
        return run_board(config, department=department, rooms=rooms, demo=args.demo, windowed=args.windowed,
                         orientation=args.orientation, announcer=build_announcer(config))
    finally:
        if metrics is not None:
            metrics.stop()


def _screenshot(config, department, rooms, args) -> int:
    from ui.display import screenshot_board

    w, _, h = args.size.partition("x")
    print_json(screenshot_board(config, args.screenshot, (int(w), int(h)), department=department, rooms=rooms,
                                demo=args.demo, orientation=args.orientation))
    return 0


def run_call(args) -> int:
    from kiosk.ward_his import RoomCaller, resolve_rooms

    config = load_config(args.config)
    _, rooms = resolve_rooms(config, rooms=[args.room])
    caller = RoomCaller(config, rooms)
    try:
        if args.action == "call-next":
            outcome = caller.call_next(args.room, finish_previous=not args.keep_previous)
        elif args.action == "recall":
            outcome = caller.recall(args.room)
        else:
            outcome = caller.skip(args.room, then_call_next=not args.no_next)
    finally:
        caller.client.close()
    print_json(outcome.to_json())
    return 0


def run_announce(args) -> int:
    from devices.voice import Announcement, EspeakAnnouncer, build_announcer

    config = load_config(args.config)
    announcer = build_announcer(config)
    if announcer is None:
        print_json({"announced": False, "reason": "display.voice_driver = none"})
        return 1
    call = announcer.announce(Announcement("-", args.room_name, args.label))
    announcer.wait_idle(60)
    announcer.stop()
    if args.out and call.wav:
        shutil.copyfile(call.wav, args.out)
    print_json({
        "text": call.announcement.text, "spoken": call.announcement.spoken, "times": call.times,
        "played_with": call.played_with or None, "wav": args.out or (str(call.wav) if call.wav else None),
        "audio": announcer.player_reason if isinstance(announcer, EspeakAnnouncer) else "simulator",
        "error": call.error or None})
    return 1 if call.error else 0
