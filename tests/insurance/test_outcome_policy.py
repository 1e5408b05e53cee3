"""The BHYT outcome policy (``[insurance.outcomes]``, kiosk.insurance.outcomes) end to end:
the Qt-free journey run against the sandbox HIS and the BHXH gateway simulator
(both started on random loopback ports), every effect performed by the kiosk's
own services (``kiosk.journey.work.perform``). Each outcome × each allowed
action does what the table says: the screen, the ticket's BHYT line, a Coverage
in the HIS or not, the visit billed to the card or not, a recheck queued or not."""
from __future__ import annotations

from datetime import date

import pytest

from app.compose import build_kiosk
from app.sandbox import GatewaySimulator, SandboxHis
from fhir_his.client import FhirClient
from fhir_his.coverage import coverage_of
from kiosk.demo_data import cccd_qr_payload, demo_person
from kiosk.insurance import outcomes as oc
from kiosk.insurance.rules import outcome
from kiosk.journey import machine as j
from kiosk.journey.work import perform
from sandbox_bhxh.cards import number_for_code
from tests.helpers import make_config
from tests.insurance.support import TEST_DOB, TEST_NAME

pytestmark = pytest.mark.integration

# outcome -> the simulator's test card that answers it ("down": the simulator is down)
CARD = {oc.NO_CARD: "050", oc.EXPIRED: "010", oc.NOT_YET_VALID: "903", oc.WRONG_DETAILS: "060",
        oc.WITHDRAWN: "110", oc.OTHER_FACILITY: "902", oc.UNAVAILABLE: "down", oc.REFUSED: "054"}
# what the ticket's BHYT line says when the patient goes on without a fee-paying visit
GOES_ON = {oc.OTHER_FACILITY: "valid_elsewhere", oc.UNAVAILABLE: "unchecked", oc.REFUSED: "unchecked"}
MESSAGE = {oc.NO_CARD: "coverage.not_found", oc.EXPIRED: "coverage.expired", oc.WRONG_DETAILS: "coverage.mismatch",
           oc.WITHDRAWN: "coverage.stopped", oc.UNAVAILABLE: "coverage.unavailable", oc.REFUSED: "coverage.not_checked"}
WRITES = {oc.EXPIRED: "cancelled", oc.WITHDRAWN: "cancelled", oc.OTHER_FACILITY: "active"}  # Coverage.status


@pytest.fixture(scope="module")
def his():
    with SandboxHis(port=0) as sandbox:
        yield sandbox


@pytest.fixture(scope="module")
def gateway():
    with GatewaySimulator() as sim:
        yield sim


@pytest.fixture
def kiosk_for(his, gateway, tmp_path):
    """kiosk_for(**insurance settings) -> services built by the composition root (no background threads)."""
    made = []

    def make(**insurance):
        config = make_config(his.base_url, kiosk={"data_dir": str(tmp_path / f"data{len(made)}"), "repeat_visits": "allow"},
                             offline={"go_offline_after_s": 5.0},
                             insurance=gateway.insurance_settings(tmp_path, timeout_s=3.0, **insurance))
        services = build_kiosk(config, with_devices=False, background=False)
        made.append(services)
        return services

    yield make
    for services in made:
        services.close()
    gateway.mode()


def person(code: str) -> dict:
    number = number_for_code("000" if code == "down" else code)
    return {"citizen_id": number, "old_id": "", "full_name": TEST_NAME, "birth_date": TEST_DOB.isoformat(),
            "sex": "Nam", "address": "Số 1 Đường Thử, Quận 1, TP Hồ Chí Minh", "issue_date": "2021-04-10"}


class Run:
    """One patient through the journey, every effect performed by the services."""

    def __init__(self, services, who: dict, *, take_fee: bool = True):
        self.services, self.result, self.request = services, None, None
        self.journey = j.Journey(j.Settings.from_config(services.config), today=date.today)
        self._go(j.DepartmentsLoaded(*self._departments()))
        self._go(j.QrScanned(cccd_qr_payload(who)))
        for _ in range(6):  # each screen's one answer
            step = self.journey.step
            if step is j.Step.INSURANCE and take_fee and self.journey.insurance_action == oc.FEE:
                self._go(j.AcceptFee())
            elif step is j.Step.DEPARTMENT:
                self._go(j.ChooseDepartment(self.journey.departments[0].code))
            elif step in (j.Step.APPOINTMENT, j.Step.CONFIRM_IDENTITY):
                self._go(j.Confirm())
            elif step is j.Step.PRIORITY:
                self._go(j.DeclarePriority(None))
            else:
                break

    def _departments(self):
        loaded = perform(j.LoadDepartments(), self.services)
        return loaded.departments, loaded.waiting

    def _go(self, event) -> None:
        events = [event]
        while events:
            for effect in self.journey.handle(events.pop(0)):
                if isinstance(effect, j.PrintTicket):
                    continue  # no printer here: the ticket is the check-in's
                done = perform(effect, self.services)
                if isinstance(effect, j.CheckIn):
                    self.request, self.result = effect.request, done.value
                events.append(done)

    @property
    def checked_in(self) -> bool:
        return self.result is not None and self.journey.step in (j.Step.PRINTING, j.Step.DONE)

    @property
    def ticket_line(self) -> str | None:
        return self.result.ticket.insurance_status if self.result else None


def coverages(services, card: str) -> list[dict]:
    his = services.config.his
    found, _ = FhirClient(his).search("Coverage", {"identifier": f"{his.bhyt_system}|{card}"})
    return found


def queued(services) -> list[dict]:
    return services.outbox.insurance_entries()


CASES = [(o, a) for o, allowed in oc.ALLOWED.items() for a in allowed]


@pytest.mark.parametrize(("which", "action"), CASES, ids=[f"{o}-{a}" for o, a in CASES])
def test_each_outcome_and_each_allowed_action_does_what_the_table_says(kiosk_for, gateway, which, action):
    services = kiosk_for(outcomes={which: action})
    code = CARD[which]
    who = person(code)
    if code == "down":
        gateway.mode(down=True)
    before = {c["id"] for c in coverages(services, f"GD4{who['citizen_id'][2:4]}{who['citizen_id'][-10:]}")}
    run = Run(services, who)
    if action == oc.COUNTER:
        assert run.journey.step is j.Step.INSURANCE and run.journey.insurance_action == oc.COUNTER
        assert run.journey.insurance_message == MESSAGE.get(which, run.journey.insurance_message) is not None
        assert run.result is None and run.journey.identity is None  # nothing registered, nothing personal kept
        assert queued(services) == []
        return
    assert run.checked_in, run.journey.step
    assert outcome(run.request.coverage.check) == which
    encounter = FhirClient(services.config.his).read("Encounter", run.result.encounter_id).body
    billed = coverage_of(encounter, services.config.his)
    card = run.request.coverage.check.card_number if run.request.coverage.check else None
    written = [c for c in coverages(services, card) if c["id"] not in before] if card else []
    if action == oc.FEE:
        assert run.request.coverage.fee_paying and run.ticket_line == "fee"
        assert billed is None and queued(services) == []
    elif action == oc.INSURED:
        assert run.ticket_line == GOES_ON[which] and billed is not None
    elif action == oc.CHECK_LATER:
        assert run.ticket_line == "unchecked" and billed is None
        assert [e["state"] for e in queued(services)] == ["pending"]
    status = WRITES.get(which)
    if status and action != oc.CHECK_LATER:
        assert coverages(services, card) and all(c["status"] == status for c in coverages(services, card))
    else:
        assert written == []


def test_the_defaults_a_patient_without_a_card_is_offered_a_fee_paying_visit(kiosk_for):
    services = kiosk_for()
    run = Run(services, person("050"), take_fee=False)
    assert run.journey.step is j.Step.INSURANCE and run.journey.insurance_action == oc.FEE
    assert run.journey.identity is not None  # one tap goes on
    run = Run(services, person("050"))
    assert run.checked_in and run.ticket_line == "fee"


def test_the_defaults_a_gateway_that_does_not_answer_checks_the_patient_in_to_be_checked_later(kiosk_for, gateway):
    services = kiosk_for()
    gateway.mode(down=True)
    run = Run(services, person("down"))
    assert run.checked_in and run.ticket_line == "unchecked"
    assert [e["state"] for e in queued(services)] == ["pending"]


def test_the_readme_s_new_patient_without_a_card_is_checked_in_with_the_defaults(kiosk_for):
    """079200003333 Võ Thị Thu Hương: not in the HIS, no card in the simulator (050)."""
    services = kiosk_for()
    huong = demo_person("huong")
    run = Run(services, huong)
    assert run.checked_in and run.ticket_line == "fee" and run.result.patient_id
    assert outcome(run.request.coverage.check) == oc.NO_CARD


@pytest.mark.parametrize(("on_invalid", "table", "expected"), [
    ("counter", {}, oc.COUNTER), ("fee", {}, oc.FEE), ("counter", {"no_card": "fee"}, oc.FEE),
    ("fee", {"no_card": "counter"}, oc.COUNTER)])
def test_the_old_key_sets_the_invalid_card_outcomes_and_the_table_wins(kiosk_for, on_invalid, table, expected):
    services = kiosk_for(on_invalid=on_invalid, outcomes=table)
    policy = services.config.insurance.policy()
    assert policy["no_card"] == expected
    assert policy["other_facility"] == oc.INSURED and policy["unavailable"] == oc.CHECK_LATER  # not invalid cards
    if "no_card" not in table:
        assert all(policy[o] == on_invalid for o in oc.INVALID_OUTCOMES)
    run = Run(services, person("050"), take_fee=False)
    assert run.journey.step is j.Step.INSURANCE and run.journey.insurance_action == expected


@pytest.mark.parametrize(("table", "expected"), [
    ('[insurance.outcomes]\nno_card = "insured"', "insurance.outcomes: expected no_card = one of fee, counter"),
    ('[insurance.outcomes]\nunavailable = "desk"',
     "insurance.outcomes: expected unavailable = one of check_later, fee, counter"),
    ('[insurance.outcomes]\nlost_card = "fee"', "insurance.outcomes: expected outcomes among no_card, expired"),
    ('[insurance]\non_invalid = "insured"', "insurance.on_invalid: expected counter or fee"),
])
def test_kiosk_config_check_names_a_bad_value_with_its_key(tmp_path, table, expected):
    from tests.robustness.cli import kiosk, one_error_line

    cfg = tmp_path / "kiosk.toml"
    cfg.write_text(f'[kiosk]\ndata_dir = "{tmp_path / "data"}"\n{table}\n', encoding="utf-8")
    assert expected in one_error_line(kiosk("config", "check", str(cfg)))


def test_kiosk_checkin_checks_in_the_readme_s_new_patient_with_the_gateway_configured(his, gateway, tmp_path):
    """`kiosk checkin` (headless, no card check) against the sandbox HIS with [insurance] at the simulator."""
    import json

    from tests.robustness.cli import kiosk

    settings = gateway.insurance_settings(tmp_path)
    lines = "\n".join(f"{k} = {json.dumps(v)}" for k, v in settings.items())
    cfg = tmp_path / "kiosk.toml"
    cfg.write_text(f'[kiosk]\ndata_dir = "{tmp_path / "data"}"\n[his]\nbase_url = "{his.base_url}"\n'
                   f'[insurance]\n{lines}\n', encoding="utf-8")
    done = kiosk("checkin", "--json", "--id", "079200003333", "--name", "VÕ THỊ THU HƯƠNG", "--dob", "2000-05-20",
                 "--sex", "Nữ", "--department", "SAN", config=cfg)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["ticket"]["department"] == "SAN"
