"""The hospital patient code (mã bệnh nhân / mã y tế): how a code typed on the
keypad or scanned from an old slip (Code 128 or QR) is recognised, and who it
belongs to.

A code is looked up in the HIS by ``his.patient_code_system`` (``His.find_patient_by_code``,
one round trip that also brings today's appointments). The identity it gives
is of lower assurance — anyone can read a slip — and is upgraded when the
patient's card is read on the reader, as for a typed ID number.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

from kiosk.domain import Assurance, Identity, IdentitySource, PatientLookup
from kiosk.errors import PatientAmbiguous, PatientCodeNotUsable
from kiosk.identity import input_rules
from kiosk.ports import His

DIGITS_MIN, DIGITS_MAX = 4, 10  # what the keypad accepts for a typed code


@dataclass(frozen=True)
class PatientCodeRules:
    """``pattern`` (camera.patient_code_pattern) tells a patient code from
    other scanned codes; ``prefix`` (kiosk.patient_code_prefix) is put before
    the digits a patient types."""

    pattern: str
    prefix: str = ""

    def from_scan(self, text: str) -> str | None:
        """The code in a scanned text, or None when the text is not a patient code."""
        match = re.search(self.pattern, text.strip())
        if not (match and match.groupdict().get("code")):
            return None
        try:  # ASCII only, whatever the configured pattern lets through (kiosk.identity.input_rules)
            return input_rules.patient_code(match.group("code"))
        except input_rules.InputRefused:
            return None

    def from_digits(self, digits: str) -> str | None:
        """The code for digits typed on the keypad, or None when they cannot be one."""
        if not (isinstance(digits, str) and digits.isascii() and digits.isdigit()
                and DIGITS_MIN <= len(digits) <= DIGITS_MAX):
            return None  # "１２３４" or "١٢٣٤" is refused, not converted (kiosk.identity.input_rules)
        return self.from_scan(self.prefix + digits)


@dataclass(frozen=True)
class PatientCodeMatch:
    """Who a patient code belongs to, and the HIS answer the check-in reuses."""

    identity: Identity = field(repr=False)
    lookup: PatientLookup = field(repr=False)


def patient_for_code(his: His, code: str, now: datetime) -> PatientCodeMatch:
    """The one patient with this code and their appointments today. No patient,
    or a record without a CCCD number, is ``PatientCodeNotUsable`` (the patient
    types their CCCD instead, or goes to the desk); several is ``PatientAmbiguous``."""
    lookup = his.find_patient_by_code(code, now.date())
    if not lookup.patients:
        raise PatientCodeNotUsable("no patient with this patient code")
    if len(lookup.patients) > 1:
        raise PatientAmbiguous(f"{len(lookup.patients)} patient records share the patient code")
    patient = lookup.patients[0]
    if not patient.citizen_id:
        raise PatientCodeNotUsable("the patient record has no CCCD identifier", key="error.patient_code_no_citizen_id")
    identity = Identity(citizen_id=patient.citizen_id, source=IdentitySource.PATIENT_CODE,
                        assurance=Assurance.TYPED, full_name=patient.full_name, birth_date=patient.birth_date,
                        sex=patient.sex)
    return PatientCodeMatch(identity, lookup)
