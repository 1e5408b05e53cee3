"""A loopback FHIR endpoint serving a large synthetic day of Encounters, page
by page, generated on the fly (so the server holds no list of visits either):
for the constant-memory test of ``kiosk stats``."""
from __future__ import annotations

import json
import threading
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlparse

from fhir_his.mapping import extensions
from kiosk.config.loader import HisSection

DEPARTMENTS = ("NOI", "NGOAI", "NHI", "MAT")
CHANNELS = ("chip", "cccd_qr", "appointment_qr", "typed")


def encounter(i: int, day: datetime, his: HisSection) -> dict:
    """Visit number ``i`` of the day: deterministic department, channel, times."""
    ext = extensions(his)
    arrived = day + timedelta(hours=7, seconds=(i * 7) % 36000)
    called = arrived + timedelta(minutes=5 + i % 40)
    started = called + timedelta(minutes=2)
    status = ("arrived", "in-progress", "finished")[i % 3]
    enc = {
        "resourceType": "Encounter", "id": f"enc-{i}", "status": status,
        "period": {"start": arrived.isoformat(), **({"end": (started + timedelta(minutes=9)).isoformat()}
                                                   if status == "finished" else {})},
        "serviceType": {"coding": [{"system": his.department_system, "code": DEPARTMENTS[i % len(DEPARTMENTS)]}]},
        "extension": [{"url": ext.checkin_channel, "valueCode": CHANNELS[i % len(CHANNELS)]},
                      {"url": ext.checkin_mode, "valueCode": "offline" if i % 10 == 0 else "online"},
                      {"url": ext.queue_label, "valueString": f"{i:03d}"}],
    }
    if status != "arrived":
        enc["extension"].append({"url": ext.called_at, "valueDateTime": called.isoformat()})
        enc["statusHistory"] = [{"status": "arrived", "period": {"start": arrived.isoformat(),
                                                                 "end": started.isoformat()}}]
    if i % 5 == 0:
        enc["appointment"] = [{"reference": f"Appointment/appt-{i}"}]
    return enc


class SyntheticDay:
    """``with SyntheticDay(total, day, his) as s: FhirClient(HisSection(base_url=s.base_url))``."""

    def __init__(self, total: int, day: datetime, his: HisSection):
        self.total, self.day, self.his = total, day, his
        self.pages_served = 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 - http.server API
                url = urlparse(self.path)
                q = {k: v[-1] for k, v in parse_qs(url.query).items()}
                kind = url.path.rsplit("/", 1)[-1]
                body = outer.page(kind, int(q.get("_count", "50")), int(q.get("_offset", "0")), url.path)
                data = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/fhir+json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base_url = f"http://127.0.0.1:{self.httpd.server_address[1]}/fhir/R4"
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def page(self, kind: str, count: int, offset: int, path: str) -> dict:
        self.pages_served += 1
        entries = []
        if kind == "Encounter":
            for i in range(offset, min(offset + count, self.total)):
                entries.append({"resource": encounter(i, self.day, self.his)})  # no search.mode: optional in R4
            # an included resource on every page, to be told apart by resourceType
            entries.append({"resource": {"resourceType": "OperationOutcome", "issue": []}})
        bundle = {"resourceType": "Bundle", "type": "searchset", "entry": entries}
        if kind == "Encounter" and offset + count < self.total:
            nxt = urlencode({"_count": count, "_offset": offset + count})
            bundle["link"] = [{"relation": "next", "url": f"http://127.0.0.1:{self.httpd.server_address[1]}{path}?{nxt}"}]
        return bundle

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()
        self._thread.join(5)
