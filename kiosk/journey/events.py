"""The journey's vocabulary: its steps, the events that drive it, the effects
(slow work) it asks for and its settings. ``kiosk.journey.machine`` holds the state
machine itself, ``kiosk.journey.steps`` what each step does and ``kiosk.journey.table``
their order (which also says which screens are busy ones: ``machine.BUSY_STEPS``); ``kiosk.journey.work.perform`` runs an effect against the
kiosk's services on a worker thread."""
from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from kiosk.config.loader import CameraSection, KioskSection, SpeechSection
from kiosk.domain import AccessKey, CheckInRequest, Department, Priority
from kiosk.identity.qr_payload import DEFAULT_APPOINTMENT_PATTERN
from kiosk.ports import PRINTER_OK, PRINTER_PAPER_LOW


class Step(str, enum.Enum):
    WELCOME = "welcome"            # attract screen: place the card / show the QR
    CONSENT = "consent"            # privacy.consent = "tap": the notice, agree or go to the desk (before reading)
    NEED_KEY = "need_key"          # card on the reader, but the chip needs the ID number first
    KEYPAD = "keypad"              # typing the 12-digit ID or the patient code
    READING = "reading"            # chip being read
    CONFIRM_IDENTITY = "confirm_identity"
    FINDING_BOOKING = "finding_booking"  # appointment QR: asking the HIS whose booking it is
    FINDING_PATIENT = "finding_patient"  # patient code: asking the HIS whose code it is
    LOOKING_UP = "looking_up"      # asking the HIS for today's appointment
    APPOINTMENT = "appointment"    # appointment found: confirm check-in
    DEPARTMENT = "department"      # walk-in: choose a department
    PRIORITY = "priority"          # self-declared priority (pregnant, disability)
    INSURANCE = "insurance"        # the BHYT card cannot be used: the desk, or a fee-paying visit ([insurance.outcomes])
    CHECKING_IN = "checking_in"
    PRINTING = "printing"
    DONE = "done"
    ALREADY = "already"            # the patient already has a number today for this department: it again, or a reprint
    ERROR = "error"


VISIT_STEPS = frozenset({Step.APPOINTMENT, Step.DEPARTMENT})  # the screens that show the visit to choose
DECLARABLE_PRIORITIES = (Priority.PREGNANT, Priority.DISABILITY)
PRINTABLE = (PRINTER_OK, PRINTER_PAPER_LOW)

# Error screen actions: a button each, except USE_QR, a hint (the camera is always listening).
RETRY, TYPE_ID, HOME, USE_QR = "retry", "type_id", "home", "use_qr"

# What the keypad is typing.
CITIZEN_ID, PATIENT_CODE = "citizen_id", "patient_code"

FLOW_SHORT, FLOW_STEP_BY_STEP = "short", "step_by_step"

# privacy.consent: the notice on the welcome screen only, or also an explicit agree / refuse tap.
CONSENT_NOTICE, CONSENT_TAP = "notice", "tap"


# --- events (what happened) ----------------------------------------------------------

@dataclass(frozen=True)
class CardInserted: ...


@dataclass(frozen=True)
class CardRemoved: ...


@dataclass(frozen=True)
class QrScanned:
    text: str = field(repr=False)


@dataclass(frozen=True)
class OpenKeypad:
    field: str = CITIZEN_ID  # CITIZEN_ID or PATIENT_CODE


@dataclass(frozen=True)
class IdTyped:
    digits: str = field(repr=False)


@dataclass(frozen=True)
class PatientCodeTyped:
    digits: str = field(repr=False)  # the digits after kiosk.patient_code_prefix


@dataclass(frozen=True)
class Confirm: ...


@dataclass(frozen=True)
class GoHome: ...


@dataclass(frozen=True)
class RefuseConsent:
    """On the consent screen: "Không đồng ý — đến quầy" (nothing is read or kept; agreeing is ``Confirm``)."""


@dataclass(frozen=True)
class Retry: ...


@dataclass(frozen=True)
class ChooseDepartment:
    code: str


@dataclass(frozen=True)
class DeclarePriority:
    """The answer on the priority screen (step-by-step flow): checks in."""

    priority: Priority | None


@dataclass(frozen=True)
class TogglePriority:
    """A priority button on the visit screen (short flow): chosen, or un-chosen."""

    priority: Priority


@dataclass(frozen=True)
class AcceptFee:
    """On the insurance screen (an outcome set to ``"fee"`` in ``[insurance.outcomes]``): go on as a
    fee-paying patient, without BHYT."""


@dataclass(frozen=True)
class SetLanguage:
    language: str


@dataclass(frozen=True)
class SetSpeech:
    on: bool


@dataclass(frozen=True)
class SetLargeText:
    on: bool


@dataclass(frozen=True)
class PrinterStatus:
    status: str  # a PRINTER_* constant, or "none" when the kiosk has no printer


@dataclass(frozen=True)
class OutOfService:
    """The kiosk cannot work (e.g. its services failed to start): say so, offer nothing."""

    key: str = "error.out_of_service"


@dataclass(frozen=True)
class Connectivity:
    mode: str  # MODE_ONLINE / MODE_OFFLINE from the connectivity monitor


@dataclass(frozen=True)
class TimedOut:
    generation: int


@dataclass(frozen=True)
class OpDone:
    op: int
    value: Any = field(repr=False)


@dataclass(frozen=True)
class OpFailed:
    op: int
    error: BaseException


@dataclass(frozen=True)
class DepartmentsLoaded:
    departments: tuple[Department, ...]
    waiting: dict[str, int] | None  # None when the counts could not be read


@dataclass(frozen=True)
class DepartmentsFailed:
    error: BaseException


# --- effects (slow work the caller runs off the GUI thread) ----------------------------

@dataclass(frozen=True)
class ReadChip:
    op: int
    key: AccessKey = field(repr=False)
    with_photo: bool = True
    timeout_s: float = 15.0


@dataclass(frozen=True)
class ReadPhoto:
    """The face image (DG2), read right after the identity so that the confirm
    screen appears without waiting for it; it is added when it arrives."""

    op: int
    timeout_s: float = 10.0


@dataclass(frozen=True)
class FindBooking:
    """An appointment QR holds only the booking code: ask the HIS whose it is."""

    op: int
    code: str


@dataclass(frozen=True)
class FindPatient:
    """A hospital patient code: ask the HIS whose it is (and their appointments today)."""

    op: int
    code: str = field(repr=False)


@dataclass(frozen=True)
class CheckInsurance:
    """The BHYT card check (``kiosk.insurance.card_check``), asked beside the patient lookup
    as soon as the name and date of birth are known (from the card or the QR,
    or from the HIS record for a typed ID or a patient code)."""

    op: int
    card_number: str = field(repr=False)
    full_name: str = field(repr=False)
    birth_date: date | int = field(repr=False)
    timeout_s: float = 15.0


@dataclass(frozen=True)
class LookupPatient:
    op: int
    citizen_id: str = field(repr=False)
    day: date


@dataclass(frozen=True)
class LoadDepartments: ...


@dataclass(frozen=True)
class CheckIn:
    op: int
    request: CheckInRequest


@dataclass(frozen=True)
class PrintTicket:
    op: int
    ticket: Any  # kiosk.domain.Ticket


@dataclass
class Settings:
    """Timeouts and switches, taken from the config by ``Settings.from_config``."""

    language: str = "vi"
    idle_timeout_s: float = 30.0
    done_timeout_s: float = 20.0
    read_timeout_s: float = 15.0
    lookup_timeout_s: float = 16.0
    checkin_timeout_s: float = 45.0
    print_timeout_s: float = 15.0
    read_photo: bool = False        # privacy.read_photo (old name card_reader.read_photo)
    consent: str = CONSENT_NOTICE   # privacy.consent
    hospital_name: str = ""         # who keeps the data (the notice names it)
    notice_url: str = ""            # privacy.notice_url: the QR to the hospital's full notice
    notice_texts: dict[str, str] = field(default_factory=dict)  # privacy.notice_vi / _en, where set
    kiosk_id: str = ""
    appointment_pattern: str = DEFAULT_APPOINTMENT_PATTERN
    patient_code_pattern: str = CameraSection().patient_code_pattern
    patient_code_prefix: str = KioskSection().patient_code_prefix
    timezone: str = "Asia/Ho_Chi_Minh"
    flow: str = FLOW_SHORT
    speech: bool = False            # each patient starts with speech on
    large_text: bool = False        # each patient starts with large text
    speech_timeout_factor: float = SpeechSection().timeout_factor
    check_insurance: bool = False   # ask the BHYT check beside the patient lookup (CheckInsurance)
    insurance_on_invalid: str = "counter"  # an invalid card: "counter" (go to the desk) or "fee" (fee-paying visit)
    insurance_outcomes: tuple = ()  # (outcome, action) pairs of [insurance.outcomes]; they win over on_invalid
    insurance_timeout_s: float = 15.0  # the longest the patient waits for the gateway

    @classmethod
    def from_config(cls, config) -> "Settings":
        his, off, k = config.his, config.offline, config.kiosk
        attempt = his.connect_timeout_s + his.read_timeout_s
        return cls(language=k.language, idle_timeout_s=k.idle_timeout_s,
                   done_timeout_s=min(20.0, k.idle_timeout_s),
                   read_timeout_s=config.card_reader.timeout_s + 5,
                   lookup_timeout_s=attempt + off.go_offline_after_s,
                   checkin_timeout_s=attempt * (his.retries + 1) + off.go_offline_after_s,
                   print_timeout_s=config.printer.timeout_s + 5,
                   read_photo=config.privacy.read_photo, consent=config.privacy.consent,
                   hospital_name=k.hospital_name, notice_url=config.privacy.notice_url,
                   notice_texts={lang: text for lang, text in (("vi", config.privacy.notice_vi),
                                                               ("en", config.privacy.notice_en)) if text},
                   kiosk_id=k.id,
                   appointment_pattern=config.camera.appointment_pattern,
                   patient_code_pattern=config.camera.patient_code_pattern,
                   patient_code_prefix=k.patient_code_prefix, timezone=k.timezone, flow=k.flow,
                   speech=k.speech, large_text=k.large_text,
                   speech_timeout_factor=config.speech.timeout_factor,
                   check_insurance=config.insurance.gateway != "none",
                   insurance_on_invalid=config.insurance.on_invalid,
                   insurance_outcomes=tuple(config.insurance.policy().items()),
                   insurance_timeout_s=config.insurance.timeout_s)


@dataclass
class ErrorInfo:
    key: str                     # message catalogue key shown to the patient
    actions: tuple[str, ...]     # RETRY / TYPE_ID / HOME
