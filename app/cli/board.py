"""Calling boards and calling patients:

- ``kiosk board --department CODE | --rooms R1,R2`` — the calling board (PySide6);
  ``kiosk display`` is the old name and still works;
- ``kiosk call-next --room R`` — the next visit in the room's queue is called
  in the HIS (the board announces it);
- ``kiosk recall --room R`` — say the current number again;
- ``kiosk start --room R`` — the called patient came in: the visit starts
  (for rooms without the HIS's own screen);
- ``kiosk skip --room R`` — the called patient did not come (no-show), then
  call the next one;
- ``kiosk announce --label 012 --room-name "Phòng khám số 5"`` — test the chime
  and voice on this machine (and keep the WAV with ``--out``).

Qt is imported only inside the commands that need it.
"""
from __future__ import annotations

import shutil

from app.cli import print_json
from kiosk.config.loader import load_config


def _config_arg(p) -> None:
    p.add_argument("--config", help="config file (default: $KIOSK_CONFIG, then the platform config dir)")


def register(sub) -> None:
    p = sub.add_parser("board", aliases=["display"],
                       help="calling board: numbers being served and waiting, with voice calls")
    _config_arg(p)
    which = p.add_mutually_exclusive_group()
    which.add_argument("--department", help="department code: show all its clinic rooms (board.department)")
    which.add_argument("--rooms", help="comma-separated clinic room codes (board.rooms)")
    p.add_argument("--orientation", choices=("auto", "landscape", "portrait"), help="default: board.orientation")
    p.add_argument("--windowed", action="store_true", help="a window instead of full screen")
    p.add_argument("--demo", action="store_true", help="show call-next / recall / start / skip buttons on the board")
    p.add_argument("--screenshot", metavar="PNG", help="render the board once into PNG and exit")
    p.add_argument("--size", default="1920x1080", help="screenshot size WxH (default 1920x1080)")
    p.set_defaults(func=run_board_command)

    for name, helptext in (("call-next", "call the next patient of a clinic room"),
                           ("recall", "announce the room's current number again"),
                           ("start", "the called patient came in: start the visit (in-progress)"),
                           ("skip", "mark the called patient as a no-show, then call the next")):
        c = sub.add_parser(name, help=helptext)
        _config_arg(c)
        c.add_argument("--room", required=True, help="clinic room code, e.g. P101")
        if name == "call-next":
            c.add_argument("--keep-previous", action="store_true",
                           help="leave the visit being seen in-progress (default: mark it finished)")
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


def run_board_command(args) -> int:
    from app import compose
    from app.metrics_http import start_metrics_server
    from kiosk.operations.logs import setup_logging
    from ui.board import run_board, screenshot_board

    config = load_config(args.config)
    if args.screenshot:
        parts = compose.build_board(config, department=args.department or "", rooms=_rooms_arg(args.rooms),
                                    voice=False)
        w, _, h = args.size.partition("x")
        print_json(screenshot_board(config, parts, args.screenshot, (int(w), int(h)), demo=args.demo,
                                    orientation=args.orientation))
        return 0
    setup_logging(config)  # structured lines to stderr → the journal
    metrics = start_metrics_server(config)  # /metrics on 127.0.0.1 when [metrics] enabled
    try:
        parts = compose.build_board(config, department=args.department or "", rooms=_rooms_arg(args.rooms))
        return run_board(config, parts, demo=args.demo, windowed=args.windowed, orientation=args.orientation)
    finally:
        if metrics is not None:
            metrics.stop()


def run_call(args) -> int:
    from app import compose

    config = load_config(args.config)
    caller, close = compose.build_room_caller(config, args.room)
    try:
        if args.action == "call-next":
            outcome = caller.call_next(args.room, finish_previous=not args.keep_previous)
        elif args.action == "recall":
            outcome = caller.recall(args.room)
        elif args.action == "start":
            outcome = caller.start(args.room)
        else:
            outcome = caller.skip(args.room, then_call_next=not args.no_next)
    finally:
        close()
    print_json(outcome.to_json())
    return 0


def run_announce(args) -> int:
    from app import compose
    from devices.voice import Announcement, EspeakAnnouncer

    config = load_config(args.config)
    announcer = compose.build_announcer(config)
    if announcer is None:
        print_json({"announced": False, "reason": "board.voice_driver = none"})
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
