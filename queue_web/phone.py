"""The phone page a ticket's QR code opens: ``/t/{token}``.

The token is checked first (``kiosk.board.follow.FollowTokens``: signature and day);
anything that does not verify is the same plain 404 as an unknown address.
The check-in id it holds is looked up in the HIS once (``VisitDirectory``),
then the visit is followed in its department's feed — the same board model
and poller the boards use — so the phone adds no HIS reads per update.

The page shows the number, the room and how to get there, how many are ahead
and an estimated wait, and makes the turn unmistakable; it never shows a name,
an ID or a date of birth (the model's masked name is not used here at all).
"""
from __future__ import annotations

import asyncio
from typing import Protocol

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from kiosk.board.visit_progress import WAITING, VisitProgress
from kiosk.config.loader import QueueWebSection
from kiosk.domain import ClinicRoom, Department
from kiosk.errors import HisError
from kiosk.ports import RecordedVisit
from queue_web.guard import client_of
from queue_web.hub import Feed, Hub, NotFound, QueueWebParts, TooManyFeeds, Watch
from queue_web.streams import EventStreamResponse, Stream, StreamLimits
from queue_web.texts import t
from queue_web.views import lang_of, phone_view


class PageHost(Protocol):
    """What the phone pages use of the queue service's app (``queue_web.app.QueueWeb``)."""

    parts: QueueWebParts
    hub: Hub
    limits: StreamLimits
    settings: QueueWebSection

    def render(self, name: str, **values) -> Response: ...

    def refusal(self, client: str) -> Response | None: ...

RETRY_S = 15.0  # a visit not in the HIS yet, or the HIS down: look again this often


class Followed:
    """A resolved visit: its feed, room and department."""

    def __init__(self, visit: RecordedVisit, feed: Feed, room: ClinicRoom, department: Department):
        self.visit, self.feed, self.room, self.department = visit, feed, room, department


class PhonePages:
    def __init__(self, web: PageHost):
        self.web = web
        self.hub = web.hub

    def _checkin_id(self, request: Request) -> str:
        tokens = self.web.parts.tokens
        checkin_id = tokens.check(request.path_params["token"], self.hub.clock.now().date()) if tokens else None
        if checkin_id is None or self.hub.visits is None:
            raise HTTPException(404)  # unknown, tampered, another day's, or no phone pages here: all the same
        return checkin_id

    async def _resolve(self, checkin_id: str, lang: str) -> tuple[dict, Followed | None]:
        """The visit's view now, and where it is followed (None: not resolvable now)."""
        now = self.hub.clock.now()
        base = {"tz": self.hub.tz, "now": now}
        try:
            visit = await self.hub.visits.find(checkin_id)
            if visit is None:
                return phone_view(lang, state="pending", **base), None
            departments = await self.hub.departments()
        except HisError:
            return phone_view(lang, state="his_down", **base), None
        department, room = self.hub.place(departments, visit.room_code or "")
        if department is None or room is None:
            return phone_view(lang, state="unknown", label=visit.queue_label, **base), None
        try:
            feed = await self.hub.feed(department=department.code)
        except (NotFound, TooManyFeeds):
            return phone_view(lang, state="unknown", label=visit.queue_label, **base), None
        await self.hub.first_poll(feed)
        followed = Followed(visit, feed, room, department)
        return self.view(followed, feed.progress.get(visit.encounter_id), lang), followed

    def view(self, f: Followed, progress: VisitProgress | None, lang: str) -> dict:
        state = progress.state if progress else WAITING  # just checked in: the next poll has it
        return phone_view(lang, state=state, progress=progress, label=f.visit.queue_label, room=f.room,
                          department=f.department, snapshot=f.feed.snapshot, tz=self.hub.tz,
                          now=self.hub.clock.now())

    async def page(self, request: Request) -> Response:
        checkin_id = self._checkin_id(request)
        lang = lang_of(request.query_params.get("lang"))
        view, _ = await self._resolve(checkin_id, lang)
        token = request.path_params["token"]
        other = "en" if lang == "vi" else "vi"
        return self.web.render("phone.html", lang=lang, view=view, t=lambda key, **kw: t(key, lang, **kw),
                               other_lang_href=f"/t/{token}?lang={other}", events=f"/t/{token}/events?lang={lang}",
                               hospital=self.web.parts.config.kiosk.hospital_name)

    async def events(self, request: Request) -> Response:
        checkin_id = self._checkin_id(request)
        lang = lang_of(request.query_params.get("lang"))
        client = client_of(request.scope)
        refused = self.web.refusal(client)
        if refused is not None:
            return refused
        stream = Stream(client, "phone")

        async def follow() -> None:
            while not stream.closed:
                view, followed = await self._resolve(checkin_id, lang)
                stream.send("visit", view, only_if_changed=True)
                if followed is None:
                    await asyncio.sleep(RETRY_S)
                    continue
                watch = Watch(followed.visit.encounter_id, on_change=lambda feed, progress: stream.send(
                    "visit", self.view(followed, progress, lang), only_if_changed=True))
                followed.feed.watch(stream, watch)
                try:
                    await watch.lost.wait()
                finally:
                    followed.feed.unwatch(stream)
                self.hub.visits.forget(checkin_id)  # moved out of the department's rooms: look it up again

        return EventStreamResponse(stream, heartbeat_s=self.web.settings.heartbeat_s, producer=follow,
                                   on_close=lambda: self.web.limits.release(client))

