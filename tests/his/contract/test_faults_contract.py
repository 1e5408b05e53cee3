"""HIS replies are checked before use: each fault action on each read and
write step of a check-in, through the kiosk's offline-first check-in (as the
kiosk runs it), against three sandboxes — one transaction with the kiosk's
counter (honest), the production-like server numbering visits itself, and one
conditional create at a time (no transactions).

Whatever happens: a ticket that the HIS holds (online) or that the outbox then
delivers exactly as printed (offline), or a typed error with nothing recorded
— never a traceback, never a second visit, never a phantom number."""
from __future__ import annotations

import dataclasses
import uuid

import pytest

from app.compose import build_offline_checkin
from fhir_his.his import FhirHis
from kiosk.checkin.online import CheckInService
from kiosk.domain import CheckInRequest
from kiosk.errors import KioskError
from tests.his.contract.env import Env, new_identity

ACTIONS = [("status:503", 1), ("lose_reply", 1), ("html", 1), ("invalid_json", 1), ("truncate", 1),
           ("bundle_without_ids", 1), ("lose_reply", 5), ("html", 5), ("invalid_json", 5), ("truncate", 5)]
# step -> (fault match, check-in kind)
STEPS = {
    "metadata": ("GET /metadata$", "new"),
    "departments": ("GET /HealthcareService$", "booked"),
    "patient search": ("GET /Patient$", "booked"),
    "appointment search": ("GET /Appointment$", "booked"),
    "visit lookup": ("GET /Encounter$", "retry"),
    "visit read": ("GET /Encounter/", "booked"),
    "transaction": ("POST /$", "booked"),
    "transaction (new patient)": ("POST /$", "new"),
    "patient create": ("POST /Patient$", "new"),
    "visit create": ("POST /Encounter$", "booked"),
    "appointment put": ("PUT /Appointment/", "booked"),
    "appointment patch": ("PATCH /Appointment/", "booked"),
    "counter create": ("POST /Basic$", "new"),
    "counter update": ("PUT /Basic/", "new"),
}
ENVS = {
    ("honest", "counter"): ["metadata", "departments", "patient search", "visit lookup", "transaction",
                            "counter create", "counter update"],
    ("production-like", "his"): ["metadata", "departments", "patient search", "appointment search", "visit lookup",
                                 "visit read", "transaction", "appointment patch"],
    ("no-transaction", "counter"): ["departments", "patient search", "visit lookup", "patient create",
                                    "visit create", "appointment put", "counter create", "counter update"],
}
CASES = [(profile, queue, step, action, count) for (profile, queue), steps in ENVS.items() for step in steps
         for action, count in ACTIONS]
# A transaction half applied (a non-atomic engine failing half-way, which R4 forbids): its first
# entry is kept, the rest is not, the answer is a 500; the retry must still end with one visit.
CASES += [("honest", "counter", "transaction", "first_entry_only", 1),  # Appointment arrived, visit not made
          ("honest", "counter", "transaction (new patient)", "first_entry_only", 1),  # Patient kept, visit not
          ("production-like", "his", "transaction (new patient)", "first_entry_only", 1)]
# (production-like sends a booked patient's visit alone: a one-entry transaction, nothing to split)


@pytest.fixture(scope="module")
def envs(tmp_path_factory, recorder):
    """One sandbox at a time (the cases of one sandbox run together)."""
    current: dict = {}

    def get(profile: str, queue: str) -> Env:
        if current.get("key") != (profile, queue):
            if current.get("env"):
                current["env"].close()
            current["key"] = (profile, queue)
            current["env"] = Env(profile, queue, tmp_path_factory.mktemp(f"faults-{profile}"))
        recorder.base = current["env"].sandbox.base_url
        return current["env"]

    yield get
    if current.get("env"):
        current["env"].close()
    recorder.base = None


def _kiosk(env: Env, tmp, *, warm: bool):
    """A kiosk process of its own with its own outbox and the reference data
    cached; ``warm``: it has read the HIS's capabilities and departments."""
    config = dataclasses.replace(env.config, kiosk=dataclasses.replace(env.config.kiosk, data_dir=str(tmp)))
    his = FhirHis(config)
    offline = build_offline_checkin(config, his, CheckInService(his, env.clock, config), env.clock)
    offline.parts.reference.store(env.his.list_departments())
    if warm:
        his.list_departments()
    return his, offline


@pytest.mark.parametrize("profile, queue, step, action, count", CASES,
                         ids=[f"{p}-{q}-{s.replace(' ', '_')}-{a}x{c}" for p, q, s, a, c in CASES])
def test_fault_gives_the_right_outcome_or_a_typed_error(envs, profile, queue, step, action, count, tmp_path):
    env = envs(profile, queue)
    match, kind = STEPS[step]
    his, offline = _kiosk(env, tmp_path, warm=step not in ("metadata", "departments"))
    ident = new_identity()
    if kind in ("booked", "retry"):
        appt = env.book(ident, "MAT")
    request = CheckInRequest(str(uuid.uuid4()), ident, "MAT" if kind == "new" else None)
    try:
        if kind == "retry":  # the first try landed; its answer was lost
            first = offline.handler.check_in(request)
            assert first.mode == "online"
            request = CheckInRequest(request.checkin_id, ident, None, is_retry=True)
        env.sandbox.reset_stats()
        env.sandbox.add_fault(match=match, action=action, count=count)
        try:
            result = offline.handler.check_in(request)
        except KioskError as exc:  # a typed error: then nothing may be recorded under a ticket
            result, error = None, exc
        fired = env.sandbox.stats()["faultsFired"].get(action.split(":")[0], 0)
        assert fired >= 1, f"the fault on {match} never fired"
        env.sandbox.clear_faults()
        if result is None:
            assert env.visits(request.checkin_id) == [] or kind == "retry", f"{type(error).__name__}: {error}"
            assert offline.parts.store.backlog() == 0
            return
        if result.mode == "offline":
            offline.parts.monitor.report_ok("test: HIS back")
            report = offline.parts.sender.sync_now(max_seconds=60)
            assert report.dead == 0 and offline.parts.store.backlog() == 0
        visit = env.the_visit(request.checkin_id, result.ticket)  # exactly one, holding the ticket's number
        if kind in ("booked", "retry") and result.mode == "online":
            assert result.ticket.booked and visit.resource["appointment"][0]["reference"] == f"Appointment/{appt}"
        if kind in ("booked", "retry"):
            assert env.get(f"Appointment/{appt}")["status"] == "arrived"
        if kind == "new":
            assert len(env.patients(ident.citizen_id)) == 1
    finally:
        env.sandbox.clear_faults()
        offline.close()
        his.close()


def test_a_write_answered_after_the_read_timeout_is_looked_up_not_sent_again(envs, tmp_path):
    """The HIS takes longer than his.read_timeout_s to answer the transaction,
    then records it: the kiosk's lookup (queued behind it) finds the visit."""
    env = envs("honest", "counter")
    his, offline = _kiosk(env, tmp_path, warm=True)
    try:
        ident = new_identity()
        env.book(ident, "MAT")
        request = CheckInRequest(str(uuid.uuid4()), ident, None)
        env.sandbox.reset_stats()
        env.sandbox.add_fault(match="POST /$", action=f"delay:{int(env.config.his.read_timeout_s * 1000) + 1500}")
        result = CheckInService(his, env.clock, env.config).check_in(request)
        assert result.mode == "online" and env.sandbox.stats()["byResource"]["transaction"] == 1
        env.the_visit(request.checkin_id, result.ticket)
    finally:
        env.sandbox.clear_faults()
        offline.close()
        his.close()
