"""The queue service's state: one ``BoardPoller`` per department or room list
(a *feed*), shared by every screen that shows it.

A feed is started by the first page that asks for it and stopped when no
screen has watched it for ``FEED_IDLE_S``. A room list's feed is keyed by the
sorted, de-duplicated set of its room codes (permutations share one feed), and
only rooms the HIS has start one (an unknown room is a 404, never a feed). One
client starts at most ``queue_web.max_new_feeds_per_client`` feeds a minute;
at ``queue_web.max_room_sets`` a new feed replaces the feed that no screen has
watched for longest (never one a screen shows; none → 503). Its poller reads the HIS on its own
thread, exactly as the Qt board does (incremental reads, full re-reads, the
stale state when the HIS is down); each new snapshot is handed to the event
loop, which pushes the board content to the feed's board screens (only when it
changed) and each watched visit's view to its phone pages. So the HIS sees one
poller per room set whatever the number of screens.

New calls are synthesised once (``CallAudio``, on a worker thread; shared by
feeds that show the same room) and then announced to the feed's boards in
call order, with the address of the WAV they play.
"""
from __future__ import annotations

import asyncio
import json
import logging
import re
import secrets
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Callable
from zoneinfo import ZoneInfo

from kiosk.board.follow import FollowTokens, VisitFinder
from kiosk.board.model import BoardSnapshot, Call
from kiosk.board.service import BoardPoller, resolve_rooms
from kiosk.board.visit_progress import VisitProgress, progress_by_visit
from kiosk.config.loader import Config
from kiosk.domain import ClinicRoom, Department
from kiosk.errors import ConfigError, HisError
from kiosk.operations import metrics
from kiosk.ports import CallAudio, Clock
from queue_web.guard import RateLimiter
from queue_web.streams import Stream, event_data
from queue_web.views import board_state
from queue_web.visits import VisitDirectory

log = logging.getLogger("queue_web")

FEED_IDLE_S = 120.0
DEPARTMENTS_TTL_S = 300.0
FIRST_POLL_WAIT_S = 3.0
FEED_GRACE_S = 10.0  # a new feed is not replaced before its board had time to open its stream
KEPT_CALL_AUDIO = 32  # the last calls' WAVs (≈ 300 KB each with espeak-ng): screens fetch them at once
MAX_ROOMS = 12
CODE_RE = re.compile(r"^[A-Za-z0-9_.-]{1,24}$")


@dataclass
class QueueWebParts:
    """What the queue service gets from the composition root (``app/compose.py``)."""

    config: Config
    departments: Callable[[], list[Department]]  # read from the HIS now (the hub keeps the copy)
    # a poller with its own HIS client, and what closes that client
    make_poller: Callable[[list[ClinicRoom], Callable], tuple[BoardPoller, Callable[[], None]]]
    clock: Clock
    visits: VisitFinder | None = None  # the phone page's HIS lookups; None: no phone pages
    tokens: FollowTokens | None = None  # None: no phone pages ([queue_web] token_secret_file not set)
    call_audio: CallAudio | None = None  # None: boards flash calls without sound
    closers: list[Callable[[], None]] = field(default_factory=list, repr=False)


class NotFound(Exception):
    """No such department or room."""


class TooManyFeeds(Exception):
    """``queue_web.max_room_sets`` feeds are running already, each shown by a screen."""


class TooManyNewFeeds(Exception):
    """This client started ``queue_web.max_new_feeds_per_client`` feeds in the last minute."""

    def __init__(self, retry_after_s: float):
        super().__init__("too many new feeds from one client")
        self.retry_after_s = retry_after_s


@dataclass
class Watch:
    """A phone page following one visit of a feed."""

    visit_id: str
    on_change: Callable[["Feed", VisitProgress | None], None]
    misses: int = 0
    lost: asyncio.Event = field(default_factory=asyncio.Event)


class Feed:
    """One department or room list: its poller and the screens showing it."""

    def __init__(self, hub: "Hub", key: str, title: str, rooms: list[ClinicRoom]):
        self.hub = hub
        self.key = key
        self.title = title
        self.rooms = rooms
        self.seq = 0  # polls seen
        self.snapshot: BoardSnapshot | None = None
        self.state: dict | None = None
        self._state_json = ""
        self.progress: dict[str, VisitProgress] = {}
        self.boards: set[Stream] = set()
        self.watches: dict[Stream, Watch] = {}
        self.first_poll = asyncio.Event()
        self.idle_since = time.monotonic()
        self.calls: asyncio.Queue[Call] = asyncio.Queue()
        self.poller, self._close_his = hub.parts.make_poller(rooms, self._on_update)
        self._caller = asyncio.ensure_future(self._announce_calls())

    @property
    def busy(self) -> bool:
        return bool(self.boards or self.watches)

    def touch(self) -> None:
        self.idle_since = time.monotonic()

    # --- poller thread ---
    def _on_update(self, snapshot: BoardSnapshot, calls: list[Call]) -> None:
        progress = progress_by_visit(self.poller.model, self.hub.clock.now())
        self.hub.loop.call_soon_threadsafe(self._publish, snapshot, list(calls), progress)

    # --- event loop ---
    def _publish(self, snapshot: BoardSnapshot, calls: list[Call], progress: dict[str, VisitProgress]) -> None:
        self.seq += 1
        self.snapshot, self.progress = snapshot, progress
        state = board_state(snapshot, self.hub.tz)
        text = json.dumps(state, ensure_ascii=False, sort_keys=True)
        if text != self._state_json:
            self._state_json, self.state = text, state
            event = event_data(self.board_event())  # once, not per screen
            for stream in list(self.boards):
                stream.send("board", event)
        readable = not snapshot.stale and snapshot.updated_at is not None
        for watch in list(self.watches.values()):
            found = progress.get(watch.visit_id)
            if found is None and readable:
                watch.misses += 1
                if watch.misses >= 3:  # gone from these rooms (moved, or another day): look it up again
                    watch.lost.set()
            elif found is not None:
                watch.misses = 0
            watch.on_change(self, found)
        for call in calls:
            self.calls.put_nowait(call)
        self.first_poll.set()

    def board_event(self) -> dict:
        return {"poll": self.seq, "now_ms": int(time.time() * 1000), **(self.state or {})}

    async def _announce_calls(self) -> None:
        """Calls in order: each waits for its sound (synthesised once) before it is announced."""
        while True:
            call = await self.calls.get()
            audio_id = await self.hub.call_audio_for(call)
            event = {"room": call.room_code, "room_name": call.room_name, "label": call.label,
                     "audio": f"/audio/{audio_id}.wav" if audio_id else None}
            for stream in list(self.boards):
                stream.send("call", event)

    def watch(self, stream: Stream, watch: Watch) -> None:
        self.watches[stream] = watch
        self.touch()

    def unwatch(self, stream: Stream) -> None:
        self.watches.pop(stream, None)
        self.touch()

    async def stop(self) -> None:
        self._caller.cancel()
        for stream in list(self.boards) + list(self.watches):
            stream.close()
        await asyncio.to_thread(self.poller.stop)
        self._close_his()


class Hub:
    def __init__(self, parts: QueueWebParts):
        self.parts = parts
        self.config = parts.config
        self.clock = parts.clock
        self.tz = ZoneInfo(self.config.kiosk.timezone)
        self.feeds: dict[str, Feed] = {}
        self.new_feeds = RateLimiter(self.config.queue_web.max_new_feeds_per_client)
        self.feeds_refused = {"client": 0, "full": 0}
        self.feeds_replaced = 0
        self.visits = VisitDirectory(parts.visits) if parts.visits is not None else None
        self.audio: OrderedDict[str, bytes] = OrderedDict()
        self._call_audio: OrderedDict[tuple, asyncio.Task] = OrderedDict()
        self.calls_synthesised = 0
        self._departments: list[Department] | None = None
        self._departments_at = float("-inf")
        self._lock = asyncio.Lock()
        self.loop: asyncio.AbstractEventLoop | None = None
        self._janitor: asyncio.Task | None = None

    async def start(self) -> None:
        self.loop = asyncio.get_running_loop()
        self._janitor = asyncio.ensure_future(self._stop_idle_feeds())

    async def close(self) -> None:
        if self._janitor is not None:
            self._janitor.cancel()
        for feed in list(self.feeds.values()):
            await feed.stop()
        self.feeds.clear()

    # --- departments and room sets ---
    async def departments(self) -> list[Department]:
        """The HIS's departments, re-read every few minutes; the last known list while the HIS is down."""
        if self._departments is not None and time.monotonic() - self._departments_at < DEPARTMENTS_TTL_S:
            return self._departments
        try:
            self._departments = await asyncio.to_thread(self.parts.departments)
            self._departments_at = time.monotonic()
        except HisError:
            if self._departments is None:
                raise
            log.warning("queue server: departments not re-read (HIS unavailable); keeping the last list")
            self._departments_at = time.monotonic() - DEPARTMENTS_TTL_S + 30  # try again in 30 s
        return self._departments

    def place(self, departments: list[Department], room_code: str) -> tuple[Department | None, ClinicRoom | None]:
        for d in departments:
            for r in d.rooms:
                if r.code == room_code:
                    return d, r
        return None, None

    async def feed(self, *, department: str = "", rooms: tuple[str, ...] = (), client: str | None = None) -> Feed:
        """The running feed of a department or room list (started when new;
        ``client``: whose request it is — None for the service's own lookups)."""
        codes = tuple(sorted(set(rooms)))  # the canonical key: any order, any repeats, one feed
        if department and not CODE_RE.match(department) or not (department or codes) \
                or len(codes) > MAX_ROOMS or not all(CODE_RE.match(c) for c in codes):
            raise NotFound("not a department or room list")
        key = f"department:{department}" if department else "rooms:" + ",".join(codes)
        replaced = None
        async with self._lock:
            feed = self.feeds.get(key)
            if feed is None:
                departments = await self.departments()
                try:  # only rooms the hospital has start a feed
                    title, room_list = resolve_rooms(_Known(departments), department=department, rooms=list(codes))
                except ConfigError as exc:
                    raise NotFound(str(exc)) from None
                if client is not None:
                    wait = self.new_feeds.allow(client)
                    if wait > 0:
                        self._refused("client")
                        raise TooManyNewFeeds(wait)
                if len(self.feeds) >= self.config.queue_web.max_room_sets:
                    replaced = self._unwatched()
                    if replaced is None:
                        self._refused("full")
                        raise TooManyFeeds(f"{len(self.feeds)} room sets are shown already")
                    self.feeds.pop(replaced.key, None)
                    self.feeds_replaced += 1
                feed = self.feeds[key] = Feed(self, key, title, room_list)
                feed.poller.start()
                log.info("queue server: following %s (%d rooms)", key, len(room_list),
                         extra={"event": "queue_web.feed_started"})
        if replaced is not None:
            log.info("queue server: %s replaced %s (no screen showed it)", key, replaced.key,
                     extra={"event": "queue_web.feed_replaced"})
            await replaced.stop()
        feed.touch()
        return feed

    def _unwatched(self) -> Feed | None:
        """The feed no screen has shown for longest (past its grace), if any."""
        now = time.monotonic()
        idle = [f for f in self.feeds.values() if not f.busy and now - f.idle_since >= FEED_GRACE_S]
        return min(idle, key=lambda f: f.idle_since, default=None)

    def _refused(self, reason: str) -> None:
        self.feeds_refused[reason] += 1
        metrics.QUEUE_FEEDS_REFUSED.inc(reason=reason)
        log.warning("queue server: a new board feed refused (%s)", reason,
                    extra={"event": "queue_web.feed_refused", "reason": reason})

    async def first_poll(self, feed: Feed) -> None:
        try:
            await asyncio.wait_for(feed.first_poll.wait(), FIRST_POLL_WAIT_S)
        except asyncio.TimeoutError:
            pass  # the page shows what there is and updates itself

    async def _stop_idle_feeds(self) -> None:
        while True:
            await asyncio.sleep(min(15.0, FEED_IDLE_S / 4))
            now = time.monotonic()
            for key, feed in list(self.feeds.items()):
                if not feed.busy and now - feed.idle_since > FEED_IDLE_S:
                    self.feeds.pop(key, None)
                    log.info("queue server: no screen shows %s any more; stopped", key,
                             extra={"event": "queue_web.feed_stopped"})
                    await feed.stop()

    # --- call sounds ---
    async def call_audio_for(self, call: Call) -> str | None:
        """The id of the call's WAV (synthesised once per call), or None without sound."""
        if self.parts.call_audio is None:
            return None
        key = (call.visit_id, call.call_count)
        task = self._call_audio.get(key)
        if task is None:
            task = self._call_audio[key] = asyncio.ensure_future(self._synthesise(call))
            while len(self._call_audio) > KEPT_CALL_AUDIO:
                self._call_audio.popitem(last=False)
        return await asyncio.shield(task)

    async def _synthesise(self, call: Call) -> str | None:
        try:
            wav = await asyncio.to_thread(self.parts.call_audio.synthesize, call.room_code, call.room_name,
                                          call.label)
        except Exception as exc:  # the board still flashes and shows the call
            log.warning("queue server: call sound for room %s not made (%s)", call.room_code,
                        type(exc).__name__, extra={"event": "queue_web.voice_failed"})
            return None
        audio_id = secrets.token_urlsafe(9)
        self.audio[audio_id] = wav
        while len(self.audio) > KEPT_CALL_AUDIO:
            self.audio.popitem(last=False)
        self.calls_synthesised += 1
        return audio_id

    # --- status (loopback only) ---
    def status(self, streams_open: int) -> dict:
        return {
            "feeds": [{"key": f.key, "rooms": [r.code for r in f.rooms], "polls": f.seq,
                       "boards": len(f.boards), "phones": len(f.watches),
                       "stale": bool(f.snapshot and f.snapshot.stale)} for f in self.feeds.values()],
            "streams": streams_open, "calls_synthesised": self.calls_synthesised,
            "feeds_refused": dict(self.feeds_refused), "feeds_replaced": self.feeds_replaced,
        }


class _Known:
    """``resolve_rooms`` over the hub's cached department list."""

    def __init__(self, departments: list[Department]):
        self._departments = departments

    def departments(self) -> list[Department]:
        return self._departments
