"""A small kiosk process for the crash tests (run as a subprocess, killed with SIGKILL).

    python -m tests.offline.driver CONFIG.json enqueue START COUNT [--die-in-transaction K]
        check patients START … START+COUNT-1 in through the real composition
        root (app.compose.build_kiosk), printing "ack <checkin id>
        <label>" once each ticket is issued. With --die-in-transaction the
        process SIGKILLs itself inside the K-th outbox transaction, before COMMIT.

    python -m tests.offline.driver CONFIG.json sync [--die-after-write K]
        deliver the outbox until it is empty, printing progress. With
        --die-after-write the process SIGKILLs itself right after the K-th visit
        was written to the HIS, before the entry is marked delivered.
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import time
import uuid

from kiosk.config.loader import config_from_dict
from kiosk.domain import CheckInRequest
from kiosk.ports import MODE_ONLINE
from tests.offline.helpers import identity

NAMESPACE = uuid.UUID("5f0e8a52-8f3c-4c59-9d6a-0e3f1b2c6a11")
DEPARTMENTS = ("NOI", "NHI", "MAT", "TMH", "RHM")


def checkin_id(i: int) -> str:
    return str(uuid.uuid5(NAMESPACE, f"crash-{i}"))


def request(i: int, kiosk_id: str) -> CheckInRequest:
    # patients repeat (i % 97) so that one patient's visits must arrive in order
    return CheckInRequest(checkin_id=checkin_id(i), identity=identity(5000 + i % 97),
                          department_code=DEPARTMENTS[i % len(DEPARTMENTS)], kiosk_id=kiosk_id)


def die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def enqueue(config, start: int, count: int, die_in_tx: int | None) -> int:
    from app.compose import build_kiosk
    from offline_cache.outbox import OutboxStore

    if die_in_tx:
        calls = {"n": 0}
        original = OutboxStore._insert

        def insert_then_maybe_die(self, conn, *a, **kw):
            original(self, conn, *a, **kw)
            calls["n"] += 1
            if calls["n"] == die_in_tx:
                die()  # both rows written, transaction not committed

        OutboxStore._insert = insert_then_maybe_die
    services = build_kiosk(config, with_devices=False)
    for i in range(start, start + count):
        result = services.checkin.check_in(request(i, config.kiosk.id))
        print(f"ack {i} {result.ticket.reference} {result.ticket.label} {result.mode}", flush=True)
    services.close()
    return 0


def sync(config, die_after_write: int | None) -> int:
    from fhir_his.his import FhirHis
    from offline_cache.connectivity import ConnectivityMonitor
    from offline_cache.integrity import open_database
    from offline_cache.outbox import OutboxStore
    from offline_cache.prober import Prober
    from offline_cache.sender import Sender

    database = open_database(config)
    store = OutboxStore(database, config.kiosk.id)
    his = FhirHis(config)
    if die_after_write:
        writes = {"n": 0}
        original = his.record_visit

        def record_then_maybe_die(plan):
            visit = original(plan)
            writes["n"] += 1
            if writes["n"] == die_after_write:
                die()  # in the HIS, not yet marked delivered
            return visit

        his.record_visit = record_then_maybe_die
    monitor = ConnectivityMonitor(database)
    sender = Sender(his, store, monitor, config)
    prober = Prober(his, monitor, config)
    store.release_stale()
    while store.backlog():
        if monitor.mode() != MODE_ONLINE and not prober.probe_once():
            time.sleep(0.1)
            continue
        report = sender.deliver_due()
        print(f"batch {json.dumps(report.to_json())}", flush=True)
        if report.claimed == 0:
            time.sleep(0.05)
    print("done", flush=True)
    return 0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("config")
    ap.add_argument("mode", choices=("enqueue", "sync"))
    ap.add_argument("start", nargs="?", type=int, default=0)
    ap.add_argument("count", nargs="?", type=int, default=0)
    ap.add_argument("--die-in-transaction", type=int)
    ap.add_argument("--die-after-write", type=int)
    args = ap.parse_args(argv)
    with open(args.config, encoding="utf-8") as f:
        config = config_from_dict(json.load(f), source=args.config)
    if args.mode == "enqueue":
        return enqueue(config, args.start, args.count, args.die_in_transaction)
    return sync(config, args.die_after_write)


if __name__ == "__main__":
    sys.exit(main())
