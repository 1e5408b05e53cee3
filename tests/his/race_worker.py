"""One kiosk process for the queue-number race test: N walk-in check-ins into
one department, printing each ticket number on its own line."""
from __future__ import annotations

import sys
import uuid

from fhir_his.his import FhirHis
from kiosk.checkin.online import CheckInService
from kiosk.clock import SystemClock
from kiosk.config.loader import config_from_dict
from kiosk.demo_data import demo_person, person_identity
from kiosk.domain import CheckInRequest


def main(base_url: str, kiosk_id: str, count: int, department: str) -> None:
    cfg = config_from_dict({"his": {"base_url": base_url}, "kiosk": {"id": kiosk_id, "repeat_visits": "allow"}})
    service = CheckInService(FhirHis(cfg), SystemClock(), cfg)
    ident = person_identity(demo_person("ngoc"))
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    sys.stdin.readline()  # start together
    for _ in range(count):
        result = service.check_in(CheckInRequest(str(uuid.uuid4()), ident, department, kiosk_id=kiosk_id))
        sys.stdout.write(f"{result.ticket.number}\n")
    sys.stdout.flush()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4])
