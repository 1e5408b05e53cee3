"""One kiosk process of the concurrency benchmark: COUNT walk-in check-ins into
one department, one JSON line per check-in (latency, HIS requests, retries).

    python -m benchmarks.checkin_worker BASE_URL KIOSK_ID COUNT DEPARTMENT QUEUE_NUMBERS
"""
from __future__ import annotations

import json
import sys
import time
import uuid

from fhir_his.his import FhirHis
from kiosk.checkin.online import CheckInService
from kiosk.clock import SystemClock
from kiosk.config.loader import config_from_dict
from kiosk.domain import Assurance, CheckInRequest, Identity, IdentitySource


def main(base_url: str, kiosk_id: str, count: int, department: str, queue: str) -> None:
    cfg = config_from_dict({"his": {"base_url": base_url, "queue_numbers": queue, "read_timeout_s": 30.0},
                            "kiosk": {"id": kiosk_id}})
    his = FhirHis(cfg)
    service = CheckInService(his, SystemClock(), cfg)
    his.list_departments()  # a running kiosk has read its reference data
    slot = int(kiosk_id.rsplit("-", 1)[-1])
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    sys.stdin.readline()  # start together
    for i in range(count):
        ident = Identity(citizen_id=f"0798{slot:03d}{i:05d}", source=IdentitySource.CCCD_QR, assurance=Assurance.QR,
                         full_name="NGUYỄN VĂN ĐO", sex="male")
        before_requests, before_retries = his.client.request_count, his.client.retry_count
        before_conflicts = getattr(his.numbers, "conflicts", 0)
        started = time.perf_counter()
        result = service.check_in(CheckInRequest(str(uuid.uuid4()), ident, department))
        elapsed = time.perf_counter() - started
        sys.stdout.write(json.dumps({
            "latency_s": elapsed, "label": result.ticket.label,
            "requests": his.client.request_count - before_requests,
            "retries": his.client.retry_count - before_retries
            + getattr(his.numbers, "conflicts", 0) - before_conflicts}) + "\n")
    sys.stdout.flush()
    his.close()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5])
