"""The composition root: the one place that builds the kiosk's assemblies.

Every entry point asks this module for what it needs — ``kiosk run`` and
``kiosk demo`` the kiosk (``build_kiosk``), ``kiosk board`` a calling board
(``build_board``), the admin screen its tools (``admin_tools``), ``kiosk
doctor`` the devices to examine, and each CLI command its part — and nothing
else chooses between a real adapter and its simulator. Adapters are picked by
the config's ``driver`` settings; a device whose driver is ``"none"`` is None.

Whatever is built here is closed by its owner: ``KioskServices.close()`` and
``BoardParts.close()`` stop threads first and close databases and devices last.
"""
from __future__ import annotations

import copy
import logging
from dataclasses import dataclass, field
from typing import Callable

import devices.camera
import devices.card
import devices.printer
import devices.voice
from bhxh_gateway import BhxhGateway
from fhir_his.board import FhirBoardHis, poll_client
from fhir_his.client import FhirClient
from fhir_his.his import FhirHis
from fhir_his.history import FhirVisitHistory
from kiosk.board.follow import FollowLinkStage, follow_links
from kiosk.board.model import BoardHis
from kiosk.board.service import BoardPoller, RoomCaller, resolve_rooms
from kiosk.checkin.insured import InsuranceSide
from kiosk.checkin.offline_first import OutboxCheckIn
from kiosk.checkin.online import CheckInService
from kiosk.checkin.pipeline import CheckInPipeline
from kiosk.clock import SystemClock
from kiosk.config.loader import Config
from kiosk.domain import ClinicRoom
from kiosk.errors import ConfigError
from kiosk.insurance.card_check import InsuranceGateway
from kiosk.ports import Announcer, CallAudio, CardReader, CheckInHandler, Printer, QrScanner, Speech
from kiosk.services import AlwaysOnline, KioskServices
from offline_cache.integrity import OutboxUnavailable
from offline_cache.wiring import OfflineParts, build_parts

log = logging.getLogger(__name__)


# --- single parts ------------------------------------------------------------------

def build_his(config: Config) -> FhirHis:
    return FhirHis(config)


def build_visit_history(config: Config) -> FhirVisitHistory:
    """``kiosk stats``: the visits and appointments the HIS holds, page by page."""
    return FhirVisitHistory(config)


def _pick(key: str, driver: str, choices: dict[str, Callable[[], object]]):
    """The device that ``key = driver`` names, built; None for "none". The
    one place that chooses between a real adapter and its simulator."""
    if driver == "none":
        return None
    if driver not in choices:
        raise ConfigError(f"{key}: expected one of {', '.join(choices)} or none, got {driver!r}")
    return choices[driver]()


def build_printer(config: Config, *, keep_tickets: bool = True, dot_width: int | None = None) -> Printer | None:
    """``printer.driver``: escpos → python-escpos; simulator → the scriptable printer; none → None.
    ``keep_tickets=False`` for test prints, which must not be offered for reprint."""
    kw = {"keep_tickets": keep_tickets, "dot_width": dot_width}
    return _pick("printer.driver", config.printer.driver, {
        "escpos": lambda: devices.printer.escpos_printer(config, **kw),
        "simulator": lambda: devices.printer.simulated_printer(config, **kw)})


def build_card_reader(config: Config) -> CardReader | None:
    """``card_reader.driver``: pcsc → pyscard on its own thread; simulator → sample cards; none → None."""
    return _pick("card_reader.driver", config.card_reader.driver, {
        "pcsc": lambda: devices.card.pcsc_card_reader(config),
        "simulator": lambda: devices.card.simulated_card_reader(config)})


def build_card_reader_with(config: Config, *, simulated_card: str | None = None) -> CardReader:
    """``kiosk card read``: the PC/SC reader of ``[card_reader]`` whatever its
    driver, or the simulator with demo person ``simulated_card`` on it."""
    if not simulated_card:
        return devices.card.pcsc_card_reader(config)
    reader = devices.card.simulated_card_reader(config)
    reader.set_slow(0.0)
    reader.insert_card(simulated_card)
    return reader


def build_scanner(config: Config) -> QrScanner | None:
    """``camera.driver``: opencv → the camera or file in ``camera.source``; simulator; none → None."""
    return _pick("camera.driver", config.camera.driver, {
        "opencv": lambda: devices.camera.camera_scanner(config),
        "simulator": lambda: devices.camera.simulated_scanner(config)})


def build_camera_scanner(config: Config, *, source: str | None = None) -> QrScanner:
    """``kiosk scan``: the OpenCV scanner on ``source`` (default ``camera.source``)
    whatever ``camera.driver`` says; a video file is played once, not looped."""
    if source:
        config = copy.deepcopy(config)
        config.camera.source = source
    return devices.camera.camera_scanner(config, loop_files=False)


def build_speaker(config: Config) -> Speech | None:
    """``speech.driver``: espeak → spoken guidance on its own device thread; simulator; none → None."""
    return _pick("speech.driver", config.speech.driver, {
        "espeak": lambda: devices.voice.espeak_speaker(config),
        "simulator": lambda: devices.voice.simulated_speaker(config)})


def build_announcer(config: Config) -> Announcer | None:
    """``board.voice_driver``: espeak → chime + espeak-ng; simulator; none → None."""
    return _pick("board.voice_driver", config.board.voice_driver, {
        "espeak": lambda: devices.voice.espeak_announcer(config),
        "simulator": lambda: devices.voice.simulated_announcer(config)})


def build_call_audio(config: Config) -> CallAudio | None:
    """The web boards' voice from ``board.voice_driver``; None when "none"."""
    return _pick("board.voice_driver", config.board.voice_driver, {
        "espeak": lambda: devices.voice.espeak_call_audio(config),
        "simulator": lambda: devices.voice.simulated_call_audio(config)})


@dataclass
class OfflineCheckIn:
    """The check-in pipeline with its online and offline stages, and the
    offline parts under it (``kiosk sync``-less tests and benchmarks)."""

    handler: CheckInPipeline
    parts: OfflineParts

    def close(self) -> None:
        self.handler.close()  # waits (bounded) for an attempt in flight, while the database is open
        self.parts.close()


def build_offline_checkin(config: Config, his: FhirHis, online: CheckInHandler, clock,
                          gateway: InsuranceGateway | None = None) -> OfflineCheckIn:
    """``online`` in a pipeline whose offline stage keeps the kiosk issuing
    tickets when the HIS is down (no thread started: ``parts.start()`` runs the
    sender and the probe, and the BHYT recheck worker when ``gateway`` is given)."""
    parts = build_parts(config, his, gateway)
    return OfflineCheckIn(build_pipeline(config, his, online, clock, parts), parts)


def build_pipeline(config: Config, his: FhirHis, online: CheckInHandler, clock, parts: OfflineParts | None, *,
                   insured: bool = False, follow: bool = False) -> CheckInPipeline:
    """The check-in pipeline and its stages: ``online``; the offline stage when
    there is a local database (``parts``); the BHYT side when ``insured``
    (``insurance.gateway`` set); the phone link when ``follow`` and ``[queue_web]
    public_base_url`` is set. A late online result wakes the outbox sender."""
    offline = (OutboxCheckIn(parts.store, parts.reference, parts.monitor, clock, config)
               if parts is not None else None)
    insurance = (InsuranceSide(his, parts.insurance if parts is not None else None,
                               deadline_s=config.offline.go_offline_after_s) if insured else None)
    links = follow_links(config.queue_web) if follow else None  # the ticket's QR opens the phone page
    return CheckInPipeline(online, offline=offline, insurance=insurance,
                           follow=FollowLinkStage(links, config.kiosk.timezone) if links is not None else None,
                           late_listener=parts.sender.kick if parts is not None else None)


@dataclass
class SyncParts:
    """``kiosk sync``: the offline parts around their own HIS client, with the
    BHYT recheck worker when ``insurance.gateway`` is set; no thread started."""

    parts: OfflineParts
    his: FhirHis
    gateway: InsuranceGateway | None

    def close(self) -> None:
        self.parts.close()
        if self.gateway is not None:
            self.gateway.close()
        self.his.close()


def build_sync(config: Config) -> SyncParts:
    his = build_his(config)
    gateway = build_insurance_gateway(config)
    try:
        parts = build_parts(config, his, gateway)
    except BaseException:
        if gateway is not None:
            gateway.close()
        his.close()
        raise
    return SyncParts(parts, his, gateway)


def build_insurance_gateway(config: Config) -> InsuranceGateway | None:
    """The BHYT card check chosen by ``insurance.gateway``: the BHXH adapter
    pointed at the real gateway or at the simulator (same protocol); None when "none"."""
    if config.insurance.gateway == "none":
        return None
    return BhxhGateway(config.insurance, clock=SystemClock(config.kiosk.timezone))


# --- the kiosk ---------------------------------------------------------------------

def build_kiosk(config: Config, *, with_devices: bool = True, background: bool = True) -> KioskServices:
    """Everything the kiosk's screens (and ``kiosk checkin``) use. ``background``
    starts the outbox sender and the HIS probe; a one-shot command leaves it off."""
    clock = SystemClock(config.kiosk.timezone)
    his = build_his(config)
    online = CheckInService(his, clock, config)
    gateway = build_insurance_gateway(config)  # None when insurance.gateway = "none": nothing changes
    try:
        parts = build_parts(config, his, gateway)
    except OutboxUnavailable as exc:  # a damaged local database never stops online check-ins
        log.error("offline cache unavailable: online check-ins only", extra={
            "event": "offline.unavailable", "error": str(exc)})
        parts = None
    pipeline = build_pipeline(config, his, online, clock, parts, insured=gateway is not None, follow=True)
    services = KioskServices(config=config, his=his, checkin=pipeline, clock=clock, insurance=gateway,
                             connectivity=parts.monitor if parts is not None else AlwaysOnline(),
                             department_fallback=parts.reference.departments if parts is not None else None,
                             outbox=parts)
    services.on_close(his.close)
    if gateway is not None:
        services.on_close(gateway.close)
    if parts is not None:
        services.on_close(parts.close)
        if background:
            parts.start()
    services.on_close(pipeline.close)  # before the offline parts and the HIS client: a check-in in flight ends first
    if with_devices:
        services.printer = build_printer(config)
        services.card_reader = build_card_reader(config)
        services.scanner = build_scanner(config)
        services.speech = build_speaker(config)
        for device in (services.printer, services.card_reader, services.scanner, services.speech):
            if device is not None:
                services.on_close(device.close)
    return services


# --- the calling board ----------------------------------------------------------------

@dataclass
class BoardParts:
    """A calling board: its rooms, the poller that reads the HIS, the caller
    that records calls, and its voice."""

    title: str
    rooms: list[ClinicRoom]
    poller: BoardPoller
    caller: RoomCaller
    announcer: Announcer | None
    his: BoardHis
    closers: list[Callable[[], None]] = field(default_factory=list, repr=False)

    def start(self) -> None:
        if self.announcer is not None:
            self.announcer.start()
        self.poller.start()

    def close(self) -> None:
        self.poller.stop()
        if self.announcer is not None:
            self.announcer.stop()
        for close in reversed(self.closers):
            close()


def build_board_his(config: Config, *, polling: bool = False) -> FhirBoardHis:
    """The board's HIS access; ``polling`` gives the poller's own client (no
    retries inside a poll, a short read timeout: an outage shows at once)."""
    return FhirBoardHis(config, poll_client(config) if polling else FhirClient(config.his))


def build_board(config: Config, *, department: str = "", rooms=(), every_room: bool = False, voice: bool = True,
                announcer: Announcer | None = None, on_update=None) -> BoardParts:
    """``kiosk board``: rooms from the arguments or the config; ``every_room``
    (``kiosk demo --board``) shows every clinic room when no department is
    given. ``announcer`` replaces the configured voice (tests, benchmarks)."""
    clock = SystemClock(config.kiosk.timezone)
    his = build_board_his(config)
    poll_his = build_board_his(config, polling=True)
    department = department or ("" if every_room else config.board.department)
    if every_room and not department:
        rooms = [r.code for d in his.departments() for r in d.rooms]
    title, room_list = resolve_rooms(his, department=department, rooms=list(rooms or config.board.rooms))
    if announcer is None and voice:
        announcer = build_announcer(config)
    poller = BoardPoller(config, room_list, poll_his, clock=clock, on_update=on_update, announcer=announcer)
    caller = RoomCaller(config, room_list, his, clock=clock)
    return BoardParts(title, room_list, poller, caller, announcer, his, closers=[his.close, poll_his.close])


def build_room_caller(config: Config, room: str) -> tuple[RoomCaller, Callable[[], None]]:
    """``kiosk call-next / recall / skip --room R``: the caller and its clean-up."""
    his = build_board_his(config)
    _, rooms = resolve_rooms(his, rooms=[room])
    return RoomCaller(config, rooms, his, clock=SystemClock(config.kiosk.timezone)), his.close


# --- the queue service -------------------------------------------------------------------

def build_queue_web(config: Config):
    """``kiosk queue-server``: what the web boards and phone pages need — the
    departments, a poller per room set (each with its own HIS client, as a Qt
    board has), the phone pages' visit lookups and token check (when
    ``queue_web.token_secret_file`` is set), and the calls' voice."""
    from kiosk.board.follow import FollowTokens
    from queue_web import QueueWebParts

    clock = SystemClock(config.kiosk.timezone)
    his = build_board_his(config)
    lookups = FhirHis(config, poll_client(config))  # short timeouts: a phone page never hangs on the HIS

    def make_poller(rooms: list[ClinicRoom], on_update) -> tuple[BoardPoller, Callable[[], None]]:
        poll_his = build_board_his(config, polling=True)
        return BoardPoller(config, rooms, poll_his, clock=clock, on_update=on_update), poll_his.close

    tokens = FollowTokens.from_file(config.queue_web.token_secret_file) if config.queue_web.token_secret_file else None
    return QueueWebParts(config=config, departments=lambda: his.departments(fresh=True), make_poller=make_poller,
                         clock=clock,
                         visits=lookups if tokens is not None else None, tokens=tokens,
                         call_audio=build_call_audio(config), closers=[his.close, lookups.close])


# --- what the doctor examines -----------------------------------------------------------

def device_checks(config: Config, services: KioskServices | None = None, *, announcer: Announcer | None = None):
    """``(name, probe)`` pairs for ``kiosk doctor`` and the admin screen: each
    device's own ``diagnose()``. In the running kiosk the live devices are
    asked (a printer takes one connection at a time); otherwise each is built
    from the config, examined and closed."""
    from kiosk.errors import KioskError
    from kiosk.operations.diagnostics import FAIL, OK, Check

    def probe(name: str, key: str, live, build):
        def run() -> list[Check]:
            if live is not None:
                return live.diagnose()
            try:
                device = build(config)
            except KioskError as exc:  # the settings cannot make a device: that is the finding
                return [Check(name, FAIL, str(exc), f"fix the [{key.split('.')[0]}] settings in the config")]
            if device is None:
                return [Check(name, OK, f"not used ({key} = \"none\")")]
            try:
                return device.diagnose()
            finally:
                device.close()
        return run

    s = services
    probes = [
        ("card_reader", probe("card_reader", "card_reader.driver", s and s.card_reader, build_card_reader)),
        ("camera", probe("camera", "camera.driver", s and s.scanner, build_scanner)),
        ("printer", probe("printer", "printer.driver", s and s.printer,
                          lambda c: build_printer(c, keep_tickets=False))),
    ]
    probes.append(("speech", probe("speech", "speech.driver", s and s.speech, build_speaker)))
    probes.append(("insurance", probe("insurance", "insurance.gateway", None, build_insurance_gateway)))
    if config.board.department or config.board.rooms or announcer is not None:
        probes.append(("voice", probe("voice", "board.voice_driver", announcer, build_announcer)))
    else:
        probes.append(("voice", lambda: [Check("voice", OK, "not a calling board ([board] department and rooms "
                                                             "are empty)")]))
    return probes
