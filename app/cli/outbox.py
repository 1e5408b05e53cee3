"""`kiosk outbox …` and `kiosk sync`: the offline queue, for IT staff.

    kiosk outbox list [--state dead] [--json]   what waits, what failed, reference-data age
    kiosk outbox retry ID                       try a dead letter again (fresh attempt budget)
    kiosk outbox purge [--all]                  blank personal data of delivered check-ins
    kiosk outbox recover FILE [--json]          salvage check-ins from a damaged/kept database file
    kiosk outbox acknowledge ID                 close a database incident IT has dealt with
    kiosk sync [--json]                         deliver now and report

A database found damaged, emptied, deleted or replaced is an *incident*
(``offline_cache.integrity``): `outbox list` names it before anything else and
never presents the fresh database's "0 waiting" as the whole truth.

Nothing here prints personal data: entries show the check-in reference,
the ticket label, the department and technical error texts.
"""
from __future__ import annotations

import time

from app.cli import print_json, shown
from kiosk.config.loader import load_config
from kiosk.errors import KioskError


def register(sub) -> None:
    p = sub.add_parser("outbox", help="offline check-ins waiting for the HIS (list, retry, purge)")
    osub = p.add_subparsers(dest="outbox_command", metavar="ACTION")
    ls = osub.add_parser("list", help="list outbox entries and the reference-data cache's age")
    ls.add_argument("--config")
    ls.add_argument("--state", choices=("pending", "sending", "delivered", "dead"))
    ls.add_argument("--limit", type=int, default=50)
    ls.add_argument("--json", action="store_true")
    ls.set_defaults(func=run_list)
    rt = osub.add_parser("retry", help="deliver a dead (or waiting) entry again, now")
    rt.add_argument("id", type=int)
    rt.add_argument("--config")
    rt.set_defaults(func=run_retry)
    pg = osub.add_parser("purge", help="blank the personal data of delivered entries past offline.retention_hours")
    pg.add_argument("--config")
    pg.add_argument("--all", action="store_true", help="every delivered entry, whatever its age")
    pg.set_defaults(func=run_purge)
    rc = osub.add_parser("recover", help="salvage every readable check-in of a damaged or kept database file "
                                        "into the live database (sent once: the HIS is asked first)")
    rc.add_argument("file", metavar="FILE", help="the kept file named by `kiosk doctor` / `kiosk outbox list`")
    rc.add_argument("--config")
    rc.add_argument("--json", action="store_true")
    rc.set_defaults(func=run_recover)
    ack = osub.add_parser("acknowledge", help="close a database incident once IT has dealt with it")
    ack.add_argument("incident", type=int, metavar="ID")
    ack.add_argument("--config")
    ack.set_defaults(func=run_acknowledge)
    p.set_defaults(func=lambda args: (p.print_help(), 2)[1])

    s = sub.add_parser("sync", help="deliver queued offline check-ins to the HIS now and report")
    s.add_argument("--config")
    s.add_argument("--json", action="store_true")
    s.add_argument("--max-seconds", type=float, default=300.0)
    s.set_defaults(func=run_sync)


class UnknownEntry(KioskError):
    """`kiosk outbox retry ID` with an id that is not a dead or waiting entry."""


def _open(args):
    from offline_cache.integrity import open_database
    from offline_cache.outbox import OutboxStore
    from offline_cache.retention import enforce_retention

    config = load_config(args.config)
    database = open_database(config)
    try:  # every process that opens the outbox keeps the retention (offline_cache.retention)
        enforce_retention(database, config.kiosk.id, config.offline.retention_hours)
    except BaseException:
        database.close()
        raise
    return config, database, OutboxStore(database, config.kiosk.id)


def _ts(value) -> str | None:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(value)) if value else None


def run_list(args) -> int:
    from offline_cache.connectivity import recent_mode_changes
    from offline_cache.diagnose import human_age
    from offline_cache.reference import ReferenceCache

    config, database, store = _open(args)
    try:
        incidents = _incidents(database)
        entries = store.entries(args.state, args.limit)
        ref = ReferenceCache(database)
        age = ref.age_s()
        modes = recent_mode_changes(database, 1)
        summary = {
            "database": str(database.path), "counts": store.counts(),
            "incidents": [dict(vars(i), text=i.describe(), fix=i.fix()) for i in incidents],
            "oldest_waiting_age_s": store.oldest_waiting_age_s(),
            "reference_cache": {"departments": len(ref.departments()), "age_s": age,
                                "refreshed_at": _ts(ref.refreshed_at())},
            "last_mode_change": ({"mode": modes[0]["mode"], "at": _ts(modes[0]["at"]), "reason": modes[0]["reason"]}
                                 if modes else None),
        }
    finally:
        database.close()
    if args.json:
        print_json({"summary": summary, "entries": [dict(e, next_attempt_at=_ts(e["next_attempt_at"]),
                                                         created_at=_ts(e["created_at"]),
                                                         delivered_at=_ts(e["delivered_at"]),
                                                         purged_at=_ts(e["purged_at"])) for e in entries]})
        return 0
    for incident in incidents:
        print(f"WARNING: {incident.describe()}\n  → {incident.fix()}")
    c = summary["counts"]
    print(f"outbox {summary['database']}: {c['pending'] + c['sending']} waiting"
          f"{' in this database (see the warning above)' if incidents else ''}, {c['dead']} dead, "
          f"{c['delivered']} delivered; reference data: {summary['reference_cache']['departments']} departments, "
          f"refreshed {human_age(age)}{' ago' if age is not None else ''}")
    if summary["last_mode_change"]:
        m = summary["last_mode_change"]
        print(f"mode: {m['mode']} since {m['at']} ({shown(m['reason'])})")
    if entries:
        print(f"{'ID':>5}  {'STATE':9} {'LABEL':8} {'DEPT':6} {'TRIES':>5}  {'CREATED':19}  {'HIS LABEL':9} LAST ERROR")
    for e in entries:
        print(f"{e['id']:>5}  {e['state']:9} {shown(e['queue_label'] or ''):8} {shown(e['department_code'] or ''):6} "
              f"{e['attempts']:>5}  {_ts(e['created_at']) or '':19}  {shown(e['his_queue_label'] or ''):9} "
              f"{shown(e['last_error'] or '')}")
    return 0


def _incidents(database) -> list:
    from offline_cache.integrity import open_incidents

    return open_incidents(database.generation) if database.generation is not None else []


def run_recover(args) -> int:
    from offline_cache.recover import recover_into

    _, database, _ = _open(args)
    try:
        report = recover_into(database, args.file)
        left = _incidents(database)
    finally:
        database.close()
    if args.json:
        print_json({**report.to_json(), "open_incidents": [i.id for i in left]})
    else:
        for line in report.lines():
            print(line)
        if report.resolved_incidents:
            print(f"incident(s) {', '.join(map(str, report.resolved_incidents))} closed; "
                  "`kiosk sync` sends the recovered check-ins now")
        elif left and not report.error:
            print(f"incident(s) {', '.join(str(i.id) for i in left)} stay open until the check-ins that could not "
                  "be recovered are dealt with: then `kiosk outbox acknowledge ID`; `kiosk sync` sends the "
                  "recovered ones now")
    return 1 if report.error else 0


def run_acknowledge(args) -> int:
    _, database, _ = _open(args)
    try:
        closed = database.generation.resolve(args.incident, "acknowledged by IT") if database.generation else []
    finally:
        database.close()
    if not closed:
        raise UnknownEntry(f"incident {args.incident}: no open incident with this id (see `kiosk outbox list`)")
    print(f"incident {args.incident} closed")
    return 0


def run_retry(args) -> int:
    _, database, store = _open(args)
    try:
        if not store.retry(args.id):
            raise UnknownEntry(f"outbox entry {args.id}: no dead or waiting entry with this id "
                               "(see `kiosk outbox list`)")
    finally:
        database.close()
    print(f"outbox entry {args.id}: will be delivered at the next sync (`kiosk sync` to do it now)")
    return 0


def run_purge(args) -> int:
    config, database, store = _open(args)
    try:
        purged = store.purge(0.0 if args.all else config.offline.retention_hours)
    finally:
        database.close()
    print(f"personal data blanked in {purged} delivered entr{'y' if purged == 1 else 'ies'}")
    return 0


def run_sync(args) -> int:
    from app import compose

    config = load_config(args.config)
    sync = compose.build_sync(config)
    parts = sync.parts
    rechecks: dict[str, int] = {}
    try:
        online = parts.prober.probe_once()
        if online:
            parts.prober.refresh_reference(force=True)
        report = parts.sender.sync_now(max_seconds=args.max_seconds) if online else None
        if online and parts.insurance_sender is not None:  # BHYT checks the kiosk could not finish
            rechecks = parts.insurance_sender.deliver_now(max_seconds=args.max_seconds)
        counts = parts.store.counts()
        rechecks_waiting = parts.insurance.backlog() if parts.insurance_sender is not None else 0
    finally:
        sync.close()
    result = {"his_reachable": online, **(report.to_json() if report else {}),
              "waiting": counts["pending"] + counts["sending"], "dead_total": counts["dead"]}
    if parts.insurance_sender is not None:
        result["bhyt_rechecks"] = {**rechecks, "waiting": rechecks_waiting}
    if args.json:
        print_json(result)
    elif not online:
        print(f"HIS not reachable ({config.his.base_url}); {result['waiting']} check-in(s) still waiting")
    else:
        print(f"delivered {report.delivered}, already in the HIS {report.already_in_his}, "
              f"failed {report.failed}, dead {report.dead}; waiting {result['waiting']}, "
              f"dead letters {result['dead_total']}")
        if rechecks.get("claimed") or rechecks_waiting:
            print(f"BHYT rechecks: Coverage written {rechecks['written']}, nothing to record "
                  f"{rechecks['nothing_to_write']}, failed {rechecks['failed']}, dead {rechecks['dead']}; "
                  f"waiting {rechecks_waiting}")
    return 0 if online and not result["dead_total"] else 1
