"""The journey's steps are one table (``kiosk.journey.table.STEPS``): a new step is one
module and one row. Proved with a payment-like step written as a module into a
scratch package and one row added to a copy of the table — nothing else touched —
and with the default table's own declarations."""
from __future__ import annotations

import importlib
import logging
import sys
import textwrap
from datetime import date, datetime, timezone

import pytest

from kiosk.demo_data import demo_person
from kiosk.domain import Appointment, CheckInResult, Department, Patient, Ticket
from kiosk.journey import machine as j
from kiosk.journey import table
from kiosk.journey.steps import identify
from kiosk.journey.walker import FEE_JOURNEY, INSURANCE_JOURNEY, walk_all
from kiosk.ports import PatientLookup

TODAY = date(2026, 11, 25)
AN = demo_person("an")
QR_AN = "|".join([AN["citizen_id"], AN["old_id"], AN["full_name"], "05011993", "Nam", AN["address"], "10042021"])
DEPTS = (Department("NOI", "Nội khoa"), Department("TIM", "Tim mạch"))

# A step as a new issue would add it: its own module, its own screen and event, one row.
PAYMENT_MODULE = textwrap.dedent('''
    """Payment (a test's stand-in): pay the visit at the kiosk; a booked visit is skipped."""
    import enum
    from dataclasses import dataclass

    from kiosk.journey.steps import JourneyStep


    class Screen(str, enum.Enum):
        PAYMENT = "payment"


    @dataclass(frozen=True)
    class Paid:
        receipt: str


    class PaymentStep(JourneyStep):
        name = "payment"
        screens = (Screen.PAYMENT,)
        on = {Paid: "paid"}
        needs = ("identity", "department_code")
        gives = ("receipt",)
        log = []  # what the test looks at: the entry and the exit

        def skip(self, j):
            return j.appointment is not None

        def enter(self, j, notice=None):
            self.log.append(("enter", j.department_code, j.priority))
            j.receipt = None
            j.go(Screen.PAYMENT, notice)
            return []

        def paid(self, j, ev):
            if j.step is not Screen.PAYMENT:
                return None
            j.receipt = ev.receipt
            self.log.append(("exit", ev.receipt))
            return j.exit(self)


    STEP = PaymentStep()
''')


@pytest.fixture
def payment(tmp_path, monkeypatch):
    package = tmp_path / "extra_steps"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "payment.py").write_text(PAYMENT_MODULE, encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    module = importlib.import_module("extra_steps.payment")
    yield module
    for name in ("extra_steps.payment", "extra_steps"):
        sys.modules.pop(name, None)


def journey(steps=table.STEPS, **kw) -> j.Journey:
    kw.setdefault("flow", j.FLOW_STEP_BY_STEP)
    jr = j.Journey(j.Settings(kiosk_id="K1", **kw), today=lambda: TODAY, steps=steps)
    jr.handle(j.DepartmentsLoaded(DEPTS, {"NOI": 4}))
    return jr


def only(effects, kind):
    assert len(effects) == 1 and isinstance(effects[0], kind), effects
    return effects[0]


def result():
    ticket = Ticket(reference="x", number=12, label="012", department_code="TIM", department_name="Tim mạch",
                    room_code=None, room_name=None, room_where=None,
                    issued_at=datetime(2026, 11, 25, 8, 0, tzinfo=timezone.utc), booked=False)
    return CheckInResult(ticket=ticket, mode="online", patient_id="p1", encounter_id="e1", appointment_id=None)


def to_priority(jr, appointments=()):
    """QR → "is this you?" → the lookup → the visit screen (step by step)."""
    assert jr.handle(j.QrScanned(QR_AN)) == [] and jr.step is j.Step.CONFIRM_IDENTITY
    look = only(jr.handle(j.Confirm()), j.LookupPatient)
    jr.handle(j.OpDone(look.op, PatientLookup([Patient("p1")], {"p1": list(appointments)})))


def test_a_new_step_is_one_module_and_one_row_and_the_journey_passes_through_it_in_order(payment, caplog):
    steps = table.STEPS + (payment.STEP,)  # one row, after priority
    jr = journey(steps)
    seen = []
    to_priority(jr)
    seen.append(jr.step)
    assert jr.handle(j.ChooseDepartment("TIM")) == []
    seen.append(jr.step)
    assert jr.handle(j.DeclarePriority(None)) == []  # priority's exit: the table says payment comes next
    seen.append(jr.step)
    assert seen == [j.Step.DEPARTMENT, j.Step.PRIORITY, payment.Screen.PAYMENT]
    assert payment.STEP.log == [("enter", "TIM", None)]  # entered with what it needs
    assert jr.timeout_s() == jr.settings.idle_timeout_s and jr.owner(jr.step) is payment.STEP
    assert jr.handle(j.Confirm()) == [] and jr.handle(j.ChooseDepartment("NOI")) == []  # not its events
    assert jr.step is payment.Screen.PAYMENT
    check = only(jr.handle(payment.Paid("R-1")), j.CheckIn)  # its exit: past the last row, the check-in
    assert payment.STEP.log[-1] == ("exit", "R-1") and jr.receipt == "R-1"
    assert jr.step is j.Step.CHECKING_IN and check.request.department_code == "TIM"
    printing = only(jr.handle(j.OpDone(check.op, result())), j.PrintTicket)
    jr.handle(j.OpDone(printing.op, None))
    assert jr.step is j.Step.DONE and jr.printed
    assert entered_without_inputs(caplog) == []
    jr.handle(j.GoHome())
    assert jr.step is j.Step.WELCOME and jr.identity is None


def test_a_step_that_says_skip_me_is_passed_by(payment):
    jr = journey(table.STEPS + (payment.STEP,))
    appt = Appointment("a1", "p1", datetime(2026, 11, 25, 9, 0), "booked", department_code="NOI")
    to_priority(jr, [appt])
    assert jr.step is j.Step.APPOINTMENT
    assert jr.handle(j.Confirm()) == [] and jr.step is j.Step.PRIORITY
    only(jr.handle(j.DeclarePriority(None)), j.CheckIn)  # a booked visit: payment skipped
    assert payment.STEP.log == [] and jr.step is j.Step.CHECKING_IN


def test_the_default_table_is_unchanged_by_a_copy(payment):
    jr = journey()
    to_priority(jr)
    jr.handle(j.ChooseDepartment("TIM"))
    only(jr.handle(j.DeclarePriority(None)), j.CheckIn)
    assert payment.STEP not in table.STEPS and payment.STEP.log == []


def test_the_rows_in_order_and_every_screen_has_one_owner():
    assert [row.name for row in table.STEPS] == ["consent", "identify", "confirm", "insurance", "department", "priority"]
    jr = journey()
    owned = [screen for row in jr.rows for screen in row.screens]
    assert len(owned) == len(set(owned))
    assert set(owned) == set(j.Step) - {j.Step.ERROR}  # the error screen is the journey's own
    assert j.BUSY_STEPS == {j.Step.READING, j.Step.FINDING_BOOKING, j.Step.FINDING_PATIENT, j.Step.LOOKING_UP,
                            j.Step.CHECKING_IN, j.Step.PRINTING}


def entered_without_inputs(caplog) -> list:
    return [r for r in caplog.records if getattr(r, "event", None) == "journey.entry_missing"]


@pytest.mark.parametrize("flow", [j.FLOW_SHORT, j.FLOW_STEP_BY_STEP])
def test_every_journey_enters_each_step_with_what_it_needs(caplog, flow):
    with caplog.at_level(logging.ERROR, logger="kiosk.journey"):
        walks = walk_all(flow)
    assert walks and entered_without_inputs(caplog) == []
    assert any(j.Step.INSURANCE in walk.screens for walk in walks)
    assert {INSURANCE_JOURNEY, FEE_JOURNEY} <= {walk.journey for walk in walks}


def test_a_row_entered_without_its_inputs_is_logged_by_name_only(caplog):
    class Wants(j.JourneyStep):
        name, screens, needs = "wants", (j.Step.PRIORITY,), ("department_code",)

    jr = journey((identify.STEP, Wants()))
    with caplog.at_level(logging.ERROR, logger="kiosk.journey"):
        jr.handle(j.QrScanned(QR_AN))  # identify's exit: the next row lacks a department
    [record] = entered_without_inputs(caplog)
    assert record.step == "wants" and record.missing == ["department_code"]
    assert AN["citizen_id"] not in caplog.text and AN["full_name"] not in caplog.text


def test_an_unknown_event_is_still_refused():
    with pytest.raises(TypeError):
        journey().handle(object())
