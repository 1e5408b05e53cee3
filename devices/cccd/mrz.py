"""Machine-readable zone (ICAO 9303 Parts 4-5): TD1 ID cards and TD3 passports.

The CCCD's DG1 holds a TD1 MRZ whose document number is the last 9 digits of
the 12-digit ID, with the full ID in line 1's optional data. A kiosk is a
generic eMRTD reader first, so TD3 passports parse too. Check digits are
verified; a wrong one raises ``CardParseError`` (a misread or a forged MRZ).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

from devices.cccd.errors import CardParseError

_WEIGHTS = (7, 3, 1)
_ALLOWED = re.compile(r"^[0-9A-Z<]*$")


def char_value(ch: str) -> int:
    if "0" <= ch <= "9":
        return ord(ch) - 48
    if "A" <= ch <= "Z":
        return ord(ch) - 55
    if ch == "<":
        return 0
    raise CardParseError("MRZ: character outside 0-9, A-Z and '<'")


def check_digit(text: str) -> str:
    return str(sum(char_value(c) * _WEIGHTS[i % 3] for i, c in enumerate(text)) % 10)


def _verify(value: str, digit: str, what: str) -> None:
    if digit == "<" and set(value) <= {"<"}:
        return  # empty optional field: filler instead of a digit is allowed
    if check_digit(value) != digit:
        raise CardParseError(f"MRZ: check digit of {what} is wrong")


def parse_yymmdd(text: str, *, future: bool) -> date | None:
    """YYMMDD to a date. Birth dates take the century that puts them in the past;
    expiry dates the one that puts them within +50 years. Unknown parts ('<<')
    give None."""
    if not re.fullmatch(r"[0-9]{6}", text):
        return None
    yy, mm, dd = int(text[:2]), int(text[2:4]), int(text[4:])
    today = date.today()
    if future:
        year = 2000 + yy if 2000 + yy <= today.year + 50 else 1900 + yy
    else:
        year = 2000 + yy if 2000 + yy <= today.year else 1900 + yy
    try:
        return date(year, mm, dd)
    except ValueError:
        raise CardParseError("MRZ: date field is not a calendar date") from None


def yymmdd(d: date) -> str:
    return d.strftime("%y%m%d")


@dataclass(frozen=True)
class Mrz:
    format: str  # "TD1" or "TD3"
    document_code: str
    issuing_state: str
    document_number: str = field(repr=False)
    birth_date_raw: str = field(repr=False)
    sex: str = field(repr=False)  # M / F / <
    expiry_date_raw: str = field(repr=False)
    nationality: str = ""
    primary_name: str = field(default="", repr=False)
    secondary_name: str = field(default="", repr=False)
    optional_data: str = field(default="", repr=False)
    optional_data_2: str = field(default="", repr=False)

    @property
    def birth_date(self) -> date | None:
        return parse_yymmdd(self.birth_date_raw, future=False)

    @property
    def expiry_date(self) -> date | None:
        return parse_yymmdd(self.expiry_date_raw, future=True)

    @property
    def citizen_id(self) -> str | None:
        """The 12-digit CCCD number when the optional data carries it."""
        m = re.match(r"^([0-9]{12})", self.optional_data.replace("<", ""))
        return m.group(1) if m else None


def _clean(text: str) -> str:
    return text.replace("<", " ").strip()


def _names(field_: str) -> tuple[str, str]:
    primary, _, secondary = field_.partition("<<")
    return _clean(primary), _clean(secondary)


def parse_mrz(text: str) -> Mrz:
    """Parse the MRZ lines (newlines optional) as found in DG1 or printed."""
    if not isinstance(text, str):
        raise CardParseError("MRZ: text expected")
    flat = "".join(text.split()).upper()
    if not _ALLOWED.match(flat):
        raise CardParseError("MRZ: character outside 0-9, A-Z and '<'")
    if len(flat) == 90:
        return _parse_td1(flat[:30], flat[30:60], flat[60:])
    if len(flat) == 88:
        return _parse_td3(flat[:44], flat[44:])
    raise CardParseError(f"MRZ: {len(flat)} characters, expected 90 (TD1) or 88 (TD3)")


def _parse_td1(l1: str, l2: str, l3: str) -> Mrz:
    doc_no, doc_cd = l1[5:14], l1[14]
    opt1 = l1[15:30]
    if doc_cd == "<" and opt1.rstrip("<"):
        # long document number continues in the optional data (Part 5, 4.2.4)
        rest = opt1.rstrip("<")
        doc_no, doc_cd, opt1 = doc_no + rest[:-1], rest[-1], ""
    _verify(doc_no, doc_cd, "document number")
    dob, dob_cd = l2[0:6], l2[6]
    _verify(dob, dob_cd, "date of birth")
    exp, exp_cd = l2[8:14], l2[14]
    _verify(exp, exp_cd, "date of expiry")
    composite = l1[5:30] + l2[0:7] + l2[8:15] + l2[18:29]
    _verify(composite, l2[29], "the whole MRZ (composite)")
    primary, secondary = _names(l3)
    return Mrz("TD1", _clean(l1[0:2]), _clean(l1[2:5]), doc_no.rstrip("<"), dob, l2[7], exp,
               _clean(l2[15:18]), primary, secondary, opt1.rstrip("<"), l2[18:29].rstrip("<"))


def _parse_td3(l1: str, l2: str) -> Mrz:
    doc_no, doc_cd = l2[0:9], l2[9]
    _verify(doc_no, doc_cd, "document number")
    dob, dob_cd = l2[13:19], l2[19]
    _verify(dob, dob_cd, "date of birth")
    exp, exp_cd = l2[21:27], l2[27]
    _verify(exp, exp_cd, "date of expiry")
    opt = l2[28:42]
    _verify(opt, l2[42], "optional data")
    composite = l2[0:10] + l2[13:20] + l2[21:43]
    _verify(composite, l2[43], "the whole MRZ (composite)")
    primary, secondary = _names(l1[5:44])
    return Mrz("TD3", _clean(l1[0:2]), _clean(l1[2:5]), doc_no.rstrip("<"), dob, l2[20], exp,
               _clean(l2[10:13]), primary, secondary, opt.rstrip("<"))


def bac_key_seed_input(document_number: str, birth: str, expiry: str) -> str:
    """'MRZ information' of Part 11 §9.7.2: number, DOB, expiry, each + check digit.
    ``birth``/``expiry`` are YYMMDD."""
    number = document_number.upper()
    if len(number) < 9:
        number = number + "<" * (9 - len(number))
    for name, value in (("date of birth", birth), ("date of expiry", expiry)):
        if not re.fullmatch(r"[0-9]{6}", value):
            raise CardParseError(f"BAC key: {name} must be YYMMDD")
    if not _ALLOWED.match(number):
        raise CardParseError("BAC key: document number has characters outside 0-9, A-Z and '<'")
    return number + check_digit(number) + birth + check_digit(birth) + expiry + check_digit(expiry)


def td1_for_cccd(citizen_id: str, birth: date, sex: str, expiry: date, surname: str,
                 given: str, nationality: str = "VNM") -> str:
    """Build a CCCD-style TD1 MRZ (used by the sample cards and tests)."""
    doc = citizen_id[-9:]
    l1 = f"IDVNM{doc}{check_digit(doc)}{citizen_id}".ljust(30, "<")[:30]
    b, e = yymmdd(birth), yymmdd(expiry)
    l2_head = f"{b}{check_digit(b)}{sex}{e}{check_digit(e)}{nationality}"
    l2_opt = "<" * 11
    composite = l1[5:30] + l2_head[0:7] + l2_head[8:15] + l2_opt
    l2 = l2_head + l2_opt + check_digit(composite)
    l3 = f"{surname.replace(' ', '<')}<<{given.replace(' ', '<')}".ljust(30, "<")[:30]
    return l1 + "\n" + l2 + "\n" + l3
