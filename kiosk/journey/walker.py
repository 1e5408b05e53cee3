"""Count the taps and screens of each journey, from the state machine itself.

A *walk* drives ``kiosk.journey.machine.Journey`` through ``handle`` with one journey's
script — what the patient does, step by step — and answers every effect the
journey asks for from a canned world (the demo people, a HIS answer, a ticket;
no I/O, no Qt, no threads). It counts:

- **taps**: every user event (a button; the keypad entry of one field counts as
  one action, not one per key); laying the card and showing a code are device
  events, listed but not counted;
- **screens**: the distinct steps shown from the first event to the ticket.

Each script entry names the step the patient must be on before acting, so a
script that no longer fits the journey fails loudly instead of counting wrong.
``kiosk.flow = "step_by_step"`` is the flow before issue #18: replaying its
scripts gives the "before" counts in the same run (``benchmarks/bench_journeys.py``).
``privacy.consent = "tap"`` (``walk(..., consent=CONSENT_TAP)``) adds the consent screen
after the patient presents the card or a code: the same scripts with that one tap
(``Confirm`` on ``Step.CONSENT``) put in where it comes.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timezone
from zoneinfo import ZoneInfo

from kiosk.demo_data import cccd_qr_payload, demo_patient_code, demo_people, demo_person, person_identity
from kiosk.domain import (
    Appointment,
    Assurance,
    CheckInResult,
    ClinicRoom,
    Department,
    IdentitySource,
    Patient,
    PatientLookup,
    Priority,
    Ticket,
)
from kiosk.identity.patient_code import PatientCodeMatch
from kiosk.insurance.card_check import CoverageStatus, InsuranceCheck
from kiosk.insurance.rules import ticket_status
from kiosk.journey.machine import (
    CONSENT_NOTICE,
    CONSENT_TAP,
    FLOW_SHORT,
    FLOW_STEP_BY_STEP,
    PATIENT_CODE,
    AcceptFee,
    CardInserted,
    CardRemoved,
    CheckIn,
    CheckInsurance,
    ChooseDepartment,
    Confirm,
    DeclarePriority,
    DepartmentsLoaded,
    FindBooking,
    FindPatient,
    GoHome,
    IdTyped,
    Journey,
    LoadDepartments,
    LookupPatient,
    OpDone,
    OpenKeypad,
    PatientCodeTyped,
    PrintTicket,
    QrScanned,
    ReadChip,
    ReadPhoto,
    RefuseConsent,
    Retry,
    SetLanguage,
    SetLargeText,
    SetSpeech,
    Settings,
    Step,
    TogglePriority,
)

USER_EVENTS = (OpenKeypad, IdTyped, PatientCodeTyped, Confirm, ChooseDepartment, DeclarePriority, TogglePriority,
               AcceptFee, GoHome, Retry, SetLanguage, SetSpeech, SetLargeText, RefuseConsent)
DEVICE_EVENTS = (CardInserted, CardRemoved, QrScanned)
TODAY = date(2026, 11, 25)
TZ = "Asia/Ho_Chi_Minh"
PATIENT_CODE_PREFIX = "BN-"


class WalkError(AssertionError):
    """The script does not fit the journey (it expected another screen)."""


@dataclass(frozen=True)
class Walk:
    journey: str
    flow: str
    taps: int
    screens: tuple[Step, ...]      # distinct steps shown, in order
    actions: tuple[str, ...]       # every event the patient caused, device events included
    ticket: Ticket | None

    @property
    def screen_count(self) -> int:
        return len(self.screens)


def patient_code(key: str) -> str:
    """The demo person's hospital patient code, as the sandbox HIS seeds it."""
    return demo_patient_code(demo_person(key))


@dataclass
class World:
    """What the devices and the HIS answer: the demo hospital's people, canned."""

    departments: tuple[Department, ...] = field(default_factory=lambda: tuple(
        Department(code, name, (ClinicRoom(room, f"Phòng khám {name}", "Tầng 1"),))
        for code, name, room in (("NOI", "Nội khoa", "P101"), ("SAN", "Sản phụ khoa", "P301"),
                                 ("TIM", "Tim mạch", "P203"))))
    coverage: str = "000"  # the gateway's answer for every card: "000" valid, "010" expired

    def card_check(self, key: str) -> InsuranceCheck:
        """The gateway's answer about the demo person's card, as the adapter reads it."""
        valid = self.coverage == "000"
        return InsuranceCheck(
            status=CoverageStatus.VALID if valid else CoverageStatus.EXPIRED, result_code=self.coverage,
            message_key="coverage.valid" if valid else "coverage.expired", staff_reason="canned answer",
            checked_at=datetime(2026, 11, 25, 1, 0, tzinfo=timezone.utc), about_card=True,
            card_number=demo_person(key)["citizen_id"], valid_from=date(2026 if valid else 2025, 1, 1),
            valid_to=date(2026 if valid else 2025, 12, 31), primary_care_facility="27001", facility_matches=True)

    def lookup(self, key: str) -> PatientLookup:
        person = demo_person(key)
        patient = Patient(f"p-{key}", person["citizen_id"], person["full_name"],
                          date.fromisoformat(person["birth_date"]))
        appt = person.get("appointment")
        if not appt:
            return PatientLookup([patient])
        start = datetime.combine(TODAY, time.fromisoformat(appt["time"]), tzinfo=ZoneInfo(TZ))
        booked = Appointment(f"a-{key}", patient.id, start, "booked", department_code=appt["department"],
                             room_code=appt["room"])
        return PatientLookup([patient], {patient.id: [booked]})

    def answer(self, effect, key: str, journey: Journey):
        if isinstance(effect, ReadChip):
            return OpDone(effect.op, person_identity(demo_person(key)))
        if isinstance(effect, ReadPhoto):
            return OpDone(effect.op, b"\xff\xd8photo")
        if isinstance(effect, LookupPatient):
            return OpDone(effect.op, self.lookup(key))
        if isinstance(effect, FindBooking):
            ident = person_identity(demo_person(key), IdentitySource.APPOINTMENT_QR, Assurance.QR)
            return OpDone(effect.op, ident)
        if isinstance(effect, FindPatient):
            ident = replace(person_identity(demo_person(key), IdentitySource.PATIENT_CODE, Assurance.TYPED),
                            address=None, issue_date=None, old_id=None)
            return OpDone(effect.op, PatientCodeMatch(ident, self.lookup(key)))
        if isinstance(effect, CheckInsurance):
            return OpDone(effect.op, self.card_check(key))
        if isinstance(effect, LoadDepartments):
            return DepartmentsLoaded(self.departments, {d.code: 3 for d in self.departments})
        if isinstance(effect, CheckIn):
            return OpDone(effect.op, self._result(effect, journey))
        if isinstance(effect, PrintTicket):
            return OpDone(effect.op, None)
        raise WalkError(f"walker: no answer for {type(effect).__name__}")

    def _result(self, effect: CheckIn, journey: Journey) -> CheckInResult:
        code = (journey.appointment.department_code if journey.appointment else None) or \
            effect.request.department_code
        dept = journey.department(code)
        room = dept.rooms[0]
        ticket = Ticket(reference=effect.request.checkin_id, number=12, label="012", department_code=dept.code,
                        department_name=dept.name, room_code=room.code, room_name=room.name,
                        room_where=room.where, issued_at=datetime(2026, 11, 25, 8, 0, tzinfo=timezone.utc),
                        booked=journey.appointment is not None, priority=effect.request.declared_priority,
                        insurance_status=ticket_status(effect.request.coverage))
        return CheckInResult(ticket, "online", "p", "e", journey.appointment.id if journey.appointment else None)


PRESENTING = (CardInserted, QrScanned, IdTyped, PatientCodeTyped)


def with_consent(script) -> list:
    """``script`` as it runs with ``privacy.consent = "tap"``: the first time the patient
    presents the card or a code, the consent screen comes, and one tap agrees."""
    out = list(script)
    first = next(i for i, (_, ev) in enumerate(out) if isinstance(ev, PRESENTING))
    out.insert(first + 1, (Step.CONSENT, Confirm()))
    return out


def walk(name: str, script, key: str, *, flow: str = FLOW_SHORT, world: World | None = None,
         check_insurance: bool = False, on_invalid: str = "counter", consent: str = CONSENT_NOTICE) -> Walk:
    """Drive one journey with ``script`` — ``(step the patient is on, event)``
    pairs — answering every effect from ``world``; the walk must end on the
    ticket (``Step.DONE``). With ``consent = CONSENT_TAP`` the script gets the consent tap."""
    world = world or World()
    if consent == CONSENT_TAP:
        script = with_consent(script)
    settings = Settings(kiosk_id="WALK", flow=flow, timezone=TZ, check_insurance=check_insurance,
                        insurance_on_invalid=on_invalid, patient_code_prefix=PATIENT_CODE_PREFIX, consent=consent)
    journey = Journey(settings, today=lambda: TODAY)
    journey.handle(DepartmentsLoaded(world.departments, None))
    screens: list[Step] = []
    actions: list[str] = []
    taps = 0

    def seen() -> None:
        if journey.step is not Step.WELCOME and journey.step not in screens:
            screens.append(journey.step)

    def settle(effects: list) -> None:
        queue = list(effects)
        while queue:
            answer = world.answer(queue.pop(0), key, journey)
            queue.extend(journey.handle(answer))
            seen()

    for expected, event in script:
        if journey.step is not expected:
            raise WalkError(f"{name} ({flow}): expected the {expected.value} screen before "
                            f"{type(event).__name__}, the journey is on {journey.step.value}")
        if isinstance(event, USER_EVENTS):
            taps += 1
        elif not isinstance(event, DEVICE_EVENTS):
            raise WalkError(f"{name}: {type(event).__name__} is neither a user nor a device event")
        actions.append(type(event).__name__)
        effects = journey.handle(event)
        seen()
        settle(effects)
    if journey.step is not Step.DONE:
        raise WalkError(f"{name} ({flow}): ended on {journey.step.value}, not on the ticket")
    return Walk(name, flow, taps, tuple(screens), tuple(actions), journey.result.ticket)


# --- the journeys -------------------------------------------------------------------------

def _qr(key: str) -> QrScanned:
    return QrScanned(cccd_qr_payload(demo_person(key)))


W, NK, KP, CI, AP, DE, PR = (Step.WELCOME, Step.NEED_KEY, Step.KEYPAD, Step.CONFIRM_IDENTITY, Step.APPOINTMENT,
                             Step.DEPARTMENT, Step.PRIORITY)


def scripts(flow: str) -> dict[str, tuple[str, list]]:
    """Each journey's script in ``flow``: name -> (demo person, [(step, event)…])."""
    an, ngoc = demo_person("an")["citizen_id"], demo_person("ngoc")["citizen_id"]
    code_digits = patient_code("an")[len(PATIENT_CODE_PREFIX):]
    if flow == FLOW_SHORT:
        return {
            "booked, chip (card, then its QR)": ("an", [(W, CardInserted()), (NK, _qr("an")), (AP, Confirm())]),
            "booked, chip (card, then the ID typed)": ("an", [(W, CardInserted()), (NK, IdTyped(an)),
                                                              (AP, Confirm())]),
            "booked, QR only": ("an", [(W, _qr("an")), (AP, Confirm())]),
            "walk-in, QR": ("ngoc", [(W, _qr("ngoc")), (DE, ChooseDepartment("NOI"))]),
            "walk-in, QR, pregnant": ("ngoc", [(W, _qr("ngoc")), (DE, TogglePriority(Priority.PREGNANT)),
                                               (DE, ChooseDepartment("SAN"))]),
            "walk-in, typed ID": ("ngoc", [(W, OpenKeypad()), (KP, IdTyped(ngoc)), (DE, ChooseDepartment("NOI"))]),
            "booked, patient code typed": ("an", [(W, OpenKeypad(PATIENT_CODE)), (KP, PatientCodeTyped(code_digits)),
                                                  (AP, Confirm())]),
            "booked, patient code scanned (old slip)": ("an", [(W, QrScanned(patient_code("an"))), (AP, Confirm())]),
        }
    return {
        "booked, chip (card, then its QR)": ("an", [(W, CardInserted()), (NK, _qr("an")), (CI, Confirm()),
                                                    (AP, Confirm()), (PR, DeclarePriority(None))]),
        "booked, chip (card, then the ID typed)": ("an", [(W, CardInserted()), (NK, OpenKeypad()), (KP, IdTyped(an)),
                                                          (CI, Confirm()), (AP, Confirm()),
                                                          (PR, DeclarePriority(None))]),
        "booked, QR only": ("an", [(W, _qr("an")), (CI, Confirm()), (AP, Confirm()), (PR, DeclarePriority(None))]),
        "walk-in, QR": ("ngoc", [(W, _qr("ngoc")), (CI, Confirm()), (DE, ChooseDepartment("NOI")),
                                 (PR, DeclarePriority(None))]),
        "walk-in, QR, pregnant": ("ngoc", [(W, _qr("ngoc")), (CI, Confirm()), (DE, ChooseDepartment("SAN")),
                                           (PR, DeclarePriority(Priority.PREGNANT))]),
        "walk-in, typed ID": ("ngoc", [(W, OpenKeypad()), (KP, IdTyped(ngoc)), (CI, Confirm()),
                                       (DE, ChooseDepartment("NOI")), (PR, DeclarePriority(None))]),
        "booked, patient code typed": ("an", [(W, OpenKeypad(PATIENT_CODE)), (KP, PatientCodeTyped(code_digits)),
                                              (CI, Confirm()), (AP, Confirm()), (PR, DeclarePriority(None))]),
        "booked, patient code scanned (old slip)": ("an", [(W, QrScanned(patient_code("an"))), (CI, Confirm()),
                                                           (AP, Confirm()), (PR, DeclarePriority(None))]),
    }


INSURANCE_JOURNEY = "booked, chip + BHYT card valid"
FEE_JOURNEY = "walk-in, QR + BHYT card expired, fee-paying"
IN = Step.INSURANCE


def insurance_scripts(flow: str) -> dict[str, tuple[str, list, str, str]]:
    """The journeys with the BHYT check on: name -> (person, script, the gateway's code, insurance.on_invalid)."""
    key, chip = scripts(flow)["booked, chip (card, then its QR)"]
    if flow == FLOW_SHORT:
        fee = [(W, _qr("ngoc")), (IN, AcceptFee()), (DE, ChooseDepartment("NOI"))]
    else:
        fee = [(W, _qr("ngoc")), (CI, Confirm()), (IN, AcceptFee()), (DE, ChooseDepartment("NOI")),
               (PR, DeclarePriority(None))]
    return {INSURANCE_JOURNEY: (key, chip, "000", "counter"), FEE_JOURNEY: ("ngoc", fee, "010", "fee")}


def walk_all(flow: str, consent: str = CONSENT_NOTICE) -> list[Walk]:
    """Every journey in ``flow``, and the journeys with the BHYT card check on
    (``Settings.check_insurance``): the chip journey with a valid card, and a
    walk-in whose expired card is accepted as a fee-paying visit (one more tap).
    ``consent``: ``privacy.consent`` (``CONSENT_TAP`` adds the consent tap to each)."""
    walks = [walk(name, script, key, flow=flow, consent=consent) for name, (key, script) in scripts(flow).items()]
    for name, (key, script, code, on_invalid) in insurance_scripts(flow).items():
        walks.append(walk(name, script, key, flow=flow, world=World(coverage=code), check_insurance=True,
                          on_invalid=on_invalid, consent=consent))
    return walks


FLOWS = (FLOW_SHORT, FLOW_STEP_BY_STEP)
CONSENTS = (CONSENT_NOTICE, CONSENT_TAP)
__all__ = ["Walk", "WalkError", "World", "walk", "walk_all", "scripts", "insurance_scripts", "FLOWS", "CONSENTS",
           "with_consent",
           "patient_code", "demo_people"]
