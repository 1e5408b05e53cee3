"""The queue service (``kiosk queue-server``): calling boards in any browser and
a phone page for every ticket, served with Starlette and uvicorn.

A layer beside ``ui/``: it uses the core (``kiosk/``) only — the one board
model and ``BoardPoller``, the ticket-link tokens, the ``CallAudio`` port —
and gets every adapter from the composition root (``app/compose.py``) in a
``QueueWebParts``. Files: ``hub.py`` (one poller per room set, fan-out to the
screens, call sounds), ``app.py`` (routes), ``phone.py`` (the phone page),
``views.py`` (what the pages show), ``streams.py`` (server-sent events and
their caps), ``guard.py`` (rate limit, headers, access log, errors),
``visits.py`` (check-in id → visit), ``server.py`` (uvicorn).
"""
from __future__ import annotations

from queue_web.app import create_app
from queue_web.hub import QueueWebParts
from queue_web.server import serve

__all__ = ["QueueWebParts", "create_app", "serve"]
