"""The BHYT card check in the check-in (issue #14, part 7): what it costs.

1. Gateway requests per check-in, counted at the gateway simulator: the
   first check of the day logs in (token) and asks (check); the token is then
   shared by every later check; the same card, name and birth date asked again
   within ``insurance.recheck_after_s`` is answered from the kiosk's cache.
2. HIS round trips per check-in with a valid card (the Coverage written and
   referenced by the visit) against the same check-in without the card check,
   counted at the sandbox HIS.
3. The patient's added wait: time from the CCCD QR shown to the visit screen,
   the journey driven exactly as the kiosk drives it (``kiosk.journey.machine`` and
   ``perform`` on worker threads, the sandbox HIS, the gateway simulator)
   with the gateway answering in 0.5 s, 5 s and never (the simulator's slow
   mode, past ``insurance.timeout_s`` = the shipped default), as a ratio to
   the same journey with the card check off. The cache is off here
   (``recheck_after_s = 0``) so that every journey really asks.
"""
from __future__ import annotations

import queue
import statistics
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from app.compose import build_kiosk
from app.sandbox import GatewaySimulator, SandboxHis
from kiosk.config.loader import InsuranceSection, config_from_dict
from kiosk.demo_data import cccd_qr_payload, demo_person, person_identity
from kiosk.domain import CheckInRequest, VisitCoverage
from kiosk.journey import machine as j

PEOPLE = ("an", "ngoc", "hung", "linh", "minh")  # valid cards, all in the HIS
SLOW = (("at once", 0.0, 5), ("0.5 s", 0.5, 5), ("5 s", 5.0, 3), ("never", 120.0, 2))  # (label, delay, journeys)
HIS_LATENCY = (("loopback", 0), ("0.5 s", 500))  # the sandbox HIS as it is, and slowed to a busy hospital's pace
VISIT = (j.Step.APPOINTMENT, j.Step.DEPARTMENT, j.Step.INSURANCE)


def _config(his_url: str, data_dir: str, gateway: GatewaySimulator | None, **insurance):
    Path(data_dir).mkdir(parents=True, exist_ok=True)
    raw = {"his": {"base_url": his_url}, "kiosk": {"data_dir": data_dir, "repeat_visits": "allow"}}  # people again and again
    if gateway is not None:
        raw["insurance"] = gateway.insurance_settings(data_dir, **insurance)
    return config_from_dict(raw, source="(bench)")


def _t(seconds: float) -> str:
    return f"{seconds:.2f} s" if abs(seconds) >= 0.1 else f"{seconds * 1000:.0f} ms"


def time_to_visit(services, settings: j.Settings, person: str) -> tuple[float, object]:
    """Seconds from the QR shown to the visit screen, and the card check's answer."""
    tz = ZoneInfo(settings.timezone)
    journey = j.Journey(settings, today=lambda: datetime.now(tz).date())
    journey.handle(j.DepartmentsLoaded(tuple(services.departments()), None))
    events: queue.Queue = queue.Queue()
    with ThreadPoolExecutor(max_workers=4) as pool:
        def run(effects):
            for effect in effects:
                pool.submit(lambda e=effect: events.put(j.perform(e, services)))

        started = time.perf_counter()
        run(journey.handle(j.QrScanned(cccd_qr_payload(demo_person(person)))))
        deadline = started + (journey.timeout_s() or 60)
        generation = journey.generation
        while journey.step not in VISIT:
            if journey.generation != generation:  # a new step: its own timeout, as the kiosk's timer
                generation, deadline = journey.generation, time.perf_counter() + (journey.timeout_s() or 60)
            try:
                event = events.get(timeout=max(0.0, deadline - time.perf_counter()))
            except queue.Empty:
                event = j.TimedOut(journey.generation)
            run(journey.handle(event))
        return time.perf_counter() - started, journey.coverage


def _gateway_requests(gateway: GatewaySimulator, services) -> list[str]:
    ins = services.insurance
    rows = []

    def asked(person: str) -> tuple[int, int]:
        before = gateway.stats()
        ident = person_identity(demo_person(person))
        ins.check(ident.citizen_id, ident.full_name, ident.birth_date)
        after = gateway.stats()
        return after["token_requests"] - before["token_requests"], after["check_requests"] - before["check_requests"]

    first = asked("an")
    rest = [asked(p) for p in PEOPLE[1:]]
    again = [asked(p) for p in PEOPLE]  # the same patients again, within insurance.recheck_after_s
    mix = [first, *rest, *again]
    total = sum(t + c for t, c in mix)
    rows.append(f"| first check-in of the day | {first[0]} | {first[1]} | {sum(first)} |")
    rows.append(f"| next patients (token reused), {len(rest)} | {sum(t for t, _ in rest)} | "
                f"{sum(c for _, c in rest)} | {sum(t + c for t, c in rest) / len(rest):.1f} each |")
    rows.append(f"| same patients again within recheck_after_s, {len(again)} | {sum(t for t, _ in again)} | "
                f"{sum(c for _, c in again)} | {sum(t + c for t, c in again) / len(again):.1f} each |")
    rows.append(f"| all {len(mix)} check-ins | {sum(t for t, _ in mix)} | {sum(c for _, c in mix)} | "
                f"**{total / len(mix):.2f} per check-in** |")
    return rows


def _his_round_trips(sandbox: SandboxHis, services) -> tuple[int, int, int]:
    """(round trips without the card check, with a valid card, with a valid card whose Coverage exists)."""
    def check_in(person: str, coverage: bool) -> int:
        ident = person_identity(demo_person(person))
        cov = None
        if coverage:
            cov = VisitCoverage(services.insurance.check(ident.citizen_id, ident.full_name, ident.birth_date),
                                ident.citizen_id, ident.full_name, ident.birth_date)
        request = CheckInRequest(uuid.uuid4().hex, ident, department_code="NOI", coverage=cov)
        sandbox.reset_stats()
        services.checkin.check_in(request)
        return sandbox.stats()["requests"]

    check_in("ngoc", False)  # the NOI counter's version is known from here on (steady state)
    without = check_in("ngoc", False)
    first = check_in("linh", True)
    again = check_in("linh", True)
    return without, first, again


def run() -> str:
    data_dir = tempfile.mkdtemp(prefix="bench-insurance-")
    with SandboxHis() as sandbox, GatewaySimulator() as gateway:
        services = build_kiosk(_config(sandbox.base_url, data_dir, gateway), with_devices=False, background=False)
        try:
            gateway.reset_stats()
            requests_rows = _gateway_requests(gateway, services)
            without, first, again = _his_round_trips(sandbox, services)
        finally:
            services.close()
        timeout_s = InsuranceSection().timeout_s
        plain = build_kiosk(_config(sandbox.base_url, data_dir + "/plain", None), with_devices=False,
                            background=False)
        insured = build_kiosk(_config(sandbox.base_url, data_dir + "/insured", gateway, recheck_after_s=0.0),
                              with_devices=False, background=False)
        try:
            plain_settings = j.Settings.from_config(plain.config)
            insured_settings = j.Settings.from_config(insured.config)
            time_to_visit(plain, plain_settings, "an")  # warm: connections, the departments
            time_to_visit(insured, insured_settings, "an")  # warm: the gateway's token
            wait_rows = []
            for his_label, his_delay_ms in HIS_LATENCY:
                sandbox.set_faults(delay_ms=his_delay_ms)
                base = statistics.median(time_to_visit(plain, plain_settings, p)[0] for p in PEOPLE)
                wait_rows.append(f"| {his_label} | check off | {_t(base)} | | 1.0× | |")
                for label, delay, count in SLOW:
                    gateway.mode(slow_s=delay)
                    runs = [time_to_visit(insured, insured_settings, PEOPLE[i % len(PEOPLE)]) for i in range(count)]
                    gateway.mode()
                    seconds = statistics.median(s for s, _ in runs)
                    answers = sorted({(c.status.value if c is not None else "none") for _, c in runs})
                    added = seconds - base
                    wait_rows.append(f"| {his_label} | {label} | {_t(seconds)} | {'+' if added >= 0 else ''}{_t(added)} | "
                                     f"{seconds / base:.1f}× | {', '.join(answers)} |")
            sandbox.set_faults()
        finally:
            plain.close()
            insured.close()
    return "\n".join([
        "## BHYT card check: gateway requests and the patient's wait",
        "",
        "Counted and timed in one run against the gateway simulator (`sandbox_bhxh`) and the sandbox HIS,",
        "both on loopback; the check-ins are built by the composition root as the kiosk's are.",
        "",
        "Gateway requests per check-in (counted at the simulator): one login serves every later check",
        "(the token is shared until shortly before it expires), and a card asked again within",
        "`insurance.recheck_after_s` (900 s by default) is answered from the kiosk's cache.",
        "",
        "| check-ins | token requests | card checks | requests |",
        "|---|---|---|---|",
        *requests_rows,
        "",
        "HIS round trips per check-in (walk-in, steady state), counted at the sandbox HIS: the Coverage",
        "(a conditional create) and the visit's reference to it (the Encounter read, then written over what was read),",
        "written right after the visit's own transaction:",
        "",
        "| check-in | HIS round trips |",
        "|---|---|",
        f"| card check off | {without} |",
        f"| valid card, its Coverage created | {first} (+{first - without}) |",
        f"| valid card, its Coverage already there and unchanged | {again} (+{again - without}) |",
        "",
        "The patient's wait from the QR shown to the visit screen (median), the card check running beside",
        "the patient lookup, against the same journey with the check off — with the sandbox HIS as it is on",
        "loopback (a lookup of a few milliseconds: the ratios are large because the baseline is tiny) and",
        "slowed to answer each request in 0.5 s (sandbox fault injection), as a busy hospital's HIS might.",
        f"`insurance.timeout_s` = {timeout_s:g} s (the shipped default) bounds the wait: a gateway that never",
        "answers is given up at the timeout, the ticket says \"not checked yet\" and the check is queued and",
        "made later. The cache is off for these journeys (`recheck_after_s = 0`).",
        "",
        "| HIS answers in | gateway answers | to the visit screen | added wait | ratio to no check | answer |",
        "|---|---|---|---|---|---|",
        *wait_rows,
        "",
        "A gateway that answers within the lookup adds (almost) nothing; a slower one adds its own time,",
        "never more than `insurance.timeout_s`. A hospital whose gateway is often slow can lower the timeout:",
        "the queued recheck catches up in the background.",
    ]) + "\n"


if __name__ == "__main__":
    print(run())
