"""The queue service's pages and streams (Starlette).

    GET /                          departments, with a link to each board
    GET /board/{department}        a calling board (?orientation=landscape|portrait, ?lang=en)
    GET /board?rooms=P101,P102     a board of chosen rooms
    GET /board-events/{department} the board's live events (also /board-events?rooms=…)
    GET /t/{token}                 a ticket's phone page (?lang=en)
    GET /t/{token}/events          its live events
    GET /audio/{id}.wav            a call's sound (chime + voice), made once per call
    GET /health                    "ok" (for a load balancer or a monitor)
    GET /status                    feeds, screens, polls (loopback clients only)
"""
from __future__ import annotations

import contextlib
import ipaddress
import logging
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from kiosk.errors import HisError
from queue_web.guard import Guard, RateLimiter, client_of
from queue_web.hub import Hub, NotFound, QueueWebParts, TooManyFeeds, TooManyNewFeeds
from queue_web.phone import PhonePages
from queue_web.streams import EventStreamResponse, Stream, StreamLimits
from queue_web.texts import both, t
from queue_web.views import board_texts, lang_of

log = logging.getLogger("queue_web")
HERE = Path(__file__).resolve().parent
FONTS = HERE.parent / "assets" / "fonts"  # DejaVu Sans: every Vietnamese letter, on any screen
ORIENTATIONS = ("auto", "landscape", "portrait")
PAGES = {  # kind -> (title key, help key)
    "not_found": ("queue.not_found_title", "queue.not_found_help"),
    "error": ("queue.error_title", "queue.error_help"),
    "too_many_requests": ("queue.error_title", "queue.too_many_requests"),
    "too_many_streams": ("queue.error_title", "queue.too_many_streams"),
    "server_full": ("queue.error_title", "queue.server_full"),
    "too_many_boards": ("queue.error_title", "queue.too_many_boards"),
    "his_down": ("queue.state.his_down", "queue.his_down_help"),
}


class QueueWeb:
    """The app's handlers over one ``Hub``."""

    def __init__(self, parts: QueueWebParts, connections=None):
        self.parts = parts
        self.connections = connections  # the server's ConnectionGuard (its counts in /status), if any
        self.settings = parts.config.queue_web
        self.hub = Hub(parts)
        self.limits = StreamLimits(self.settings.max_streams_per_client, self.settings.max_streams)
        self.templates = Environment(loader=FileSystemLoader(HERE / "templates"),
                                     autoescape=select_autoescape(["html"]))
        self.phone = PhonePages(self)

    # --- plain pages ---
    def page(self, kind: str, status: int) -> bytes:
        title, help_key = PAGES[kind]
        html = self.templates.get_template("message.html").render(
            title_vi=t(title, "vi"), title_en=t(title, "en"), help_vi=t(help_key, "vi"), help_en=t(help_key, "en"),
            status=status, refresh=kind in ("his_down", "server_full", "too_many_boards"))
        return html.encode("utf-8")

    def plain(self, kind: str, status: int, headers: dict | None = None) -> Response:
        return HTMLResponse(self.page(kind, status), status_code=status,
                            headers={"cache-control": "no-store", **(headers or {})})

    def render(self, name: str, **values) -> HTMLResponse:
        return HTMLResponse(self.templates.get_template(name).render(**values),
                            headers={"cache-control": "no-store"})

    # --- boards ---
    @staticmethod
    def _rooms(request: Request) -> tuple[str, ...]:
        return tuple(r.strip() for r in request.query_params.get("rooms", "").split(",") if r.strip())

    async def _feed(self, request: Request):
        department = request.path_params.get("department", "")
        rooms = self._rooms(request)
        if department and rooms:
            raise NotFound("a department or rooms, not both")
        return await self.hub.feed(department=department, rooms=rooms, client=client_of(request.scope))

    async def board_page(self, request: Request) -> Response:
        lang = lang_of(request.query_params.get("lang"))
        orientation = request.query_params.get("orientation", "auto")
        orientation = orientation if orientation in ORIENTATIONS else "auto"
        feed = await self._feed(request)
        await self.hub.first_poll(feed)
        department = request.path_params.get("department", "")
        events = f"/board-events/{department}" if department else f"/board-events?rooms={','.join(r.code for r in feed.rooms)}"
        by_code = {r.code: r for r in feed.rooms}  # the feed's rooms are sorted; the board shows them as asked
        shown = [by_code[c] for c in dict.fromkeys(self._rooms(request)) if c in by_code] or feed.rooms
        initial = {"board": feed.board_event() if feed.state else None, "texts": board_texts(lang),
                   "events": events, "timezone": self.parts.config.kiosk.timezone,
                   "heartbeat_ms": int(self.settings.heartbeat_s * 1000)}
        return self.render("board.html", lang=lang, title=feed.title or t("board.all_rooms", lang),
                           hospital=self.parts.config.kiosk.hospital_name, orientation=orientation,
                           rooms=shown, texts=board_texts(lang), initial=initial)

    async def board_events(self, request: Request) -> Response:
        feed = await self._feed(request)
        client = client_of(request.scope)
        refused = self.refusal(client)
        if refused is not None:
            return refused
        stream = Stream(client, "board")
        feed.boards.add(stream)
        if feed.state is not None:
            stream.send("board", feed.board_event())

        def closed() -> None:
            feed.boards.discard(stream)
            feed.touch()
            self.limits.release(client)

        return EventStreamResponse(stream, heartbeat_s=self.settings.heartbeat_s, on_close=closed)

    def refusal(self, client: str) -> Response | None:
        why = self.limits.acquire(client)
        if why == "client":
            log.warning("queue server: a client reached its cap of open streams", extra={"event": "queue_web.cap"})
            return self.plain("too_many_streams", 429, {"retry-after": "30"})
        if why == "total":
            log.warning("queue server: the cap of open streams is reached", extra={"event": "queue_web.full"})
            return self.plain("server_full", 503, {"retry-after": "30"})
        return None

    async def index(self, request: Request) -> Response:
        departments = await self.hub.departments()
        return self.render("index.html", hospital=self.parts.config.kiosk.hospital_name, departments=departments,
                           heading=both("board.all_rooms"))

    async def audio(self, request: Request) -> Response:
        wav = self.hub.audio.get(request.path_params["audio_id"])
        if wav is None:
            raise HTTPException(404)
        return Response(wav, media_type="audio/wav", headers={"cache-control": "private, max-age=3600"})

    async def no_icon(self, request: Request) -> Response:
        return Response(status_code=204, headers={"cache-control": "max-age=86400"})

    async def health(self, request: Request) -> Response:
        return PlainTextResponse("ok", headers={"cache-control": "no-store"})

    async def status(self, request: Request) -> Response:
        try:
            loopback = ipaddress.ip_address(client_of(request.scope)).is_loopback
        except ValueError:
            loopback = False
        if not loopback:
            raise HTTPException(404)
        found = self.hub.status(self.limits.count) | {"rate_limited": self.limiter.refused}
        if self.connections is not None:
            found |= self.connections.status()
        return JSONResponse(found)

    # --- the app ---
    def build(self):
        async def not_found(request, exc):
            if getattr(exc, "status_code", 404) == 405:
                return PlainTextResponse("Method Not Allowed", status_code=405)
            return self.plain("not_found", 404)

        async def his_down(request, exc):
            return self.plain("his_down", 503, {"retry-after": "15"})

        async def too_many(request, exc):
            return self.plain("too_many_boards", 503, {"retry-after": "60"})

        async def too_many_new(request, exc):
            return self.plain("too_many_boards", 429, {"retry-after": str(max(1, round(exc.retry_after_s)))})

        async def server_error(request, exc):
            return self.plain("error", 500)

        @contextlib.asynccontextmanager
        async def lifespan(app):
            await self.hub.start()
            try:
                yield
            finally:
                await self.hub.close()

        routes = [
            Route("/", self.index),
            Route("/board", self.board_page),
            Route("/board/{department}", self.board_page),
            Route("/board-events", self.board_events),
            Route("/board-events/{department}", self.board_events),
            Route("/t/{token}", self.phone.page),
            Route("/t/{token}/events", self.phone.events),
            Route("/audio/{audio_id}.wav", self.audio),
            Route("/health", self.health),
            Route("/favicon.ico", self.no_icon),
            Route("/status", self.status),
            Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
            Mount("/fonts", StaticFiles(directory=FONTS), name="fonts"),
        ]
        app = Starlette(routes=routes, lifespan=lifespan, exception_handlers={
            HTTPException: not_found, NotFound: not_found, HisError: his_down, TooManyFeeds: too_many,
            TooManyNewFeeds: too_many_new,
            Exception: server_error})
        self.limiter = RateLimiter(self.settings.requests_per_minute)
        return Guard(app, self.limiter, page=self.page)


def create_app(parts: QueueWebParts, connections=None):
    """The ASGI application (rate limit and headers outermost); ``connections``:
    the server's ``ConnectionGuard``, whose counts ``/status`` shows."""
    return QueueWeb(parts, connections).build()


__all__ = ["QueueWeb", "create_app"]
