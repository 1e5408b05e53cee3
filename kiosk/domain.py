"""Domain objects of the check-in kiosk.

Plain dataclasses, no I/O. Personal fields (names, ID numbers, dates of birth,
addresses, photos) are excluded from ``repr`` so that an object that ends up in
a log line or a traceback never leaks them.
"""
from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the port module; the domain itself imports nothing of the kiosk
    from kiosk.insurance.card_check import InsuranceCheck

# ASCII digits only, matched in full (``\d`` would accept Arabic-Indic or
# full-width digits and ``$`` a trailing newline): see kiosk.identity.input_rules.
CITIZEN_ID_RE = re.compile(r"[0-9]{12}")


class IdentitySource(str, enum.Enum):
    """How the patient identified themselves at the kiosk."""

    CHIP = "chip"  # CCCD chip read over PC/SC
    CCCD_QR = "cccd_qr"  # QR code printed on the CCCD
    APPOINTMENT_QR = "appointment_qr"  # booking QR from the hospital
    TYPED = "typed"  # 12 digits typed on the keypad
    PATIENT_CODE = "patient_code"  # the hospital's patient code, typed or scanned from an old slip


class Assurance(str, enum.Enum):
    """How much the kiosk can trust the identity data."""

    CHIP_VERIFIED = "chip_verified"  # chip read and passive authentication verified
    CHIP_UNVERIFIED = "chip_unverified"  # chip read, signature not verifiable/failed
    QR = "qr"  # printed QR: anyone could forge one
    TYPED = "typed"  # typed number only: no name, no date of birth


class Priority(str, enum.Enum):
    """Priority groups of Law 15/2023/QH15 Art. 3(2)."""

    EMERGENCY = "emergency"
    CHILD_UNDER_6 = "child_under_6"
    PREGNANT = "pregnant"
    DISABILITY = "disability"
    ELDERLY_75 = "elderly_75"
    MERITORIOUS = "meritorious"


def is_valid_citizen_id(value: str) -> bool:
    return isinstance(value, str) and CITIZEN_ID_RE.fullmatch(value) is not None


def mask_citizen_id(value: str) -> str:
    """'001093012345' -> '********2345' (what a screen or a log may show)."""
    if not value:
        return ""
    return "*" * max(0, len(value) - 4) + value[-4:]


def mask_name(full_name: str | None) -> str:
    """Mask a Vietnamese name for anything others can see.

    'NGUYỄN VĂN AN' -> 'NGUYỄN V** AN': family name and given name kept, the
    middle names reduced to their first letter.
    """
    if not full_name:
        return ""
    parts = full_name.split()
    if len(parts) == 1:
        word = parts[0]
        return word[0] + "*" * (len(word) - 1)
    middle = [p[0] + "*" * (len(p) - 1) for p in parts[1:-1]]
    return " ".join([parts[0], *middle, parts[-1]])


def age_on(birth_date: date, day: date) -> int:
    years = day.year - birth_date.year
    if (day.month, day.day) < (birth_date.month, birth_date.day):
        years -= 1
    return years


def age_priority(birth_date: date | None, day: date) -> Priority | None:
    """Priority that follows from the date of birth alone (children < 6, 75+)."""
    if birth_date is None:
        return None
    age = age_on(birth_date, day)
    if age < 6:
        return Priority.CHILD_UNDER_6
    if age >= 75:
        return Priority.ELDERLY_75
    return None


# Who may be offered "pregnant" (Law 15/2023 Art. 3(2)): not a man, and not a child or an
# older woman when the card gives the date of birth (ages outside this range: the desk decides).
PREGNANCY_AGES = range(10, 61)


def may_be_pregnant(sex: str | None, birth_date: date | None, day: date) -> bool:
    """Whether the kiosk offers the "pregnant" priority to this person: the card's
    sex and age when it gives them; offered when it does not (typed ID)."""
    if sex == "male":
        return False
    return birth_date is None or age_on(birth_date, day) in PREGNANCY_AGES


@dataclass(frozen=True)
class Identity:
    """Who is at the kiosk, as far as the card, QR code or keypad tells."""

    citizen_id: str = field(repr=False)
    source: IdentitySource
    assurance: Assurance
    full_name: str | None = field(default=None, repr=False)
    birth_date: date | None = field(default=None, repr=False)
    sex: str | None = field(default=None, repr=False)  # FHIR gender: male/female/other/unknown
    address: str | None = field(default=None, repr=False)
    old_id: str | None = field(default=None, repr=False)
    issue_date: date | None = field(default=None, repr=False)
    expiry_date: date | None = field(default=None, repr=False)
    photo: bytes | None = field(default=None, repr=False)
    extra: dict[str, str] = field(default_factory=dict, repr=False)

    @property
    def masked_id(self) -> str:
        return mask_citizen_id(self.citizen_id)


@dataclass(frozen=True)
class AccessKey:
    """Key to open the chip: the CAN for PACE (last 6 digits of the ID) and/or
    the MRZ data for BAC (document number = last 9 ID digits, DOB, expiry)."""

    can: str | None = field(default=None, repr=False)
    document_number: str | None = field(default=None, repr=False)
    birth_date: date | None = field(default=None, repr=False)
    expiry_date: date | None = field(default=None, repr=False)

    @classmethod
    def from_citizen_id(cls, citizen_id: str) -> "AccessKey":
        return cls(can=citizen_id[-6:], document_number=citizen_id[-9:])

    @property
    def has_bac(self) -> bool:
        return bool(self.document_number and self.birth_date and self.expiry_date)


@dataclass(frozen=True)
class Patient:
    id: str
    citizen_id: str | None = field(default=None, repr=False)
    full_name: str | None = field(default=None, repr=False)
    birth_date: date | None = field(default=None, repr=False)
    sex: str | None = field(default=None, repr=False)


@dataclass(frozen=True)
class ClinicRoom:
    code: str
    name: str
    where: str = ""  # floor / building, shown on the ticket
    location_id: str | None = None  # FHIR Location id


@dataclass(frozen=True)
class Department:
    code: str
    name: str
    rooms: tuple[ClinicRoom, ...] = ()
    service_id: str | None = None  # FHIR HealthcareService id
    name_en: str = ""
    opening_hours: str = ""  # e.g. "Mon-Fri 07:00-16:30"

    def room(self, code: str) -> ClinicRoom | None:
        return next((r for r in self.rooms if r.code == code), None)


@dataclass(frozen=True)
class Appointment:
    id: str
    patient_id: str
    start: datetime | None
    status: str
    version_id: str | None = None
    department_code: str | None = None
    room_code: str | None = None
    resource: dict | None = field(default=None, repr=False, compare=False)


@dataclass(frozen=True)
class OpenVisit:
    """A visit of today not finished yet (arrived, triaged, in progress): a
    second check-in for its department gets this number again
    (``kiosk.repeat_visits``), never a second visit."""

    encounter_id: str
    patient_id: str
    department_code: str
    queue_number: int
    queue_label: str
    checkin_id: str | None = None
    room_code: str | None = None
    priority: Priority | None = None
    booked: bool = False


@dataclass
class PatientLookup:
    """Patients matching one citizen ID, with their booked appointments of the
    day and their visits of the day still open (by patient id)."""

    patients: list[Patient]
    appointments: dict[str, list[Appointment]] = field(default_factory=dict)
    open_visits: dict[str, list[OpenVisit]] = field(default_factory=dict)


@dataclass(frozen=True)
class VisitCoverage:
    """The BHYT side of one check-in (only when the kiosk checks cards,
    ``insurance.gateway`` not "none"). ``check`` is the gateway's answer, None
    when none came in time; ``card_number``, ``full_name`` and ``birth_date``
    are what the card was (or is to be) checked with, kept so that a check
    that could not be made is made later; ``fee_paying`` is the patient's
    choice to be seen without BHYT after an invalid card (an outcome set to ``"fee"`` in ``[insurance.outcomes]``).
    The rules for what each answer means live in ``kiosk.insurance.rules``."""

    check: InsuranceCheck | None = field(default=None, repr=False)
    card_number: str | None = field(default=None, repr=False)
    full_name: str | None = field(default=None, repr=False)
    birth_date: date | int | None = field(default=None, repr=False)
    fee_paying: bool = False


@dataclass(frozen=True)
class CheckInRequest:
    """One patient's check-in; ``checkin_id`` is the idempotency key that
    stays the same when the same check-in is retried. ``lookup`` is the HIS
    answer the kiosk already has for this patient today (the screen that
    showed the appointment asked for it): the check-in reuses it instead of
    asking again."""

    checkin_id: str
    identity: Identity
    department_code: str | None = None
    declared_priority: Priority | None = None
    kiosk_id: str = ""
    is_retry: bool = False  # the same check-in submitted again after a failure
    lookup: PatientLookup | None = field(default=None, repr=False, compare=False)
    coverage: VisitCoverage | None = field(default=None, repr=False, compare=False)  # None: no BHYT check here


@dataclass(frozen=True)
class Ticket:
    reference: str  # the check-in id, printed as a QR code
    number: int
    label: str  # what is printed large, e.g. "012" or "K2-005" offline
    department_code: str
    department_name: str
    room_code: str
    room_name: str
    room_where: str
    issued_at: datetime
    booked: bool
    priority: Priority | None = None
    masked_name: str = ""
    insurance_status: str | None = None  # kiosk.insurance.rules.ticket_status: valid, fee, unchecked…
    people_ahead: int | None = None
    estimated_wait_min: int | None = None
    offline: bool = False
    hospital_name: str = ""
    follow_url: str = ""  # the phone page ([queue_web] public_base_url): printed as the QR code when set


@dataclass(frozen=True)
class CheckInResult:
    ticket: Ticket
    mode: str  # "online" or "offline"
    patient_id: str | None
    encounter_id: str | None
    appointment_id: str | None
    patient_created: bool = False
    repeat: bool = False  # the patient already had this number today: no new visit was made

    def to_json(self) -> dict:
        t = self.ticket
        return {
            "mode": self.mode,
            "repeat": self.repeat,
            "ticket": {
                "reference": t.reference,
                "number": t.number,
                "label": t.label,
                "department": t.department_code,
                "department_name": t.department_name,
                "room": t.room_code,
                "room_name": t.room_name,
                "room_where": t.room_where,
                "issued_at": t.issued_at.isoformat(),
                "booked": t.booked,
                "priority": t.priority.value if t.priority else None,
                "masked_name": t.masked_name,
                "offline": t.offline,
                "insurance": t.insurance_status,
                "follow_url": t.follow_url or None,
            },
            "patient": {"id": self.patient_id, "created": self.patient_created},
            "encounter": {"id": self.encounter_id},
            "appointment": {"id": self.appointment_id},
        }
