"""One complete chip read: authenticate, read EF.COM, DG1, DG13, EF.SOD (and
DG2 only when asked, last, off the critical path), parse, and run passive
authentication. Transport-free: the PC/SC adapter, the benchmark and the tests
all call :func:`read_chip` with a :class:`ChipSession`."""
from __future__ import annotations

from dataclasses import dataclass, field

from cryptography import x509

from devices.cccd.dg13 import CitizenRecord, parse_dg13
from devices.cccd.errors import CardCommandError
from devices.cccd.lds import Com, FaceImage, dg_number, parse_com, parse_dg1, parse_dg2
from devices.cccd.mrz import Mrz
from devices.cccd.session import ChipSession, Key
from devices.cccd.sod import PassiveAuthResult, Sod, parse_sod, passive_authentication


@dataclass
class ChipData:
    protocol: str
    com: Com
    mrz: Mrz = field(repr=False)
    record: CitizenRecord | None = field(repr=False)
    sod: Sod | None = field(repr=False)
    passive_auth: PassiveAuthResult
    photo: FaceImage | None = field(default=None, repr=False)
    raw: dict[str, bytes] = field(default_factory=dict, repr=False)


def read_chip(session: ChipSession, key: Key, *, trust: list[x509.Certificate],
              with_photo: bool = False) -> ChipData:
    protocol = session.open(key)
    raw: dict[str, bytes] = {}
    raw["COM"] = session.read_file("COM")
    com = parse_com(raw["COM"])
    wanted = ["DG1"] + (["DG13"] if "DG13" in com.data_groups else []) + ["SOD"]
    for name in wanted:
        raw[name] = session.read_file(name)
    if with_photo and "DG2" in com.data_groups:
        raw["DG2"] = session.read_file("DG2")
    mrz = parse_dg1(raw["DG1"])
    record = parse_dg13(raw["DG13"]) if "DG13" in raw else None
    photo = parse_dg2(raw["DG2"]) if "DG2" in raw else None
    sod = parse_sod(raw["SOD"])
    groups = {dg_number(n): v for n, v in raw.items() if n.startswith("DG")}
    result = passive_authentication(sod, groups, trust)
    return ChipData(protocol, com, mrz, record, sod, result, photo, raw)


def read_photo(session: ChipSession, data: ChipData, trust: list[x509.Certificate]) -> FaceImage:
    """Read DG2 later in the same session (after the identity was shown) and add
    it to the passive-authentication check."""
    if "DG2" not in data.com.data_groups:
        raise CardCommandError("the card has no DG2 (face image)")
    data.raw["DG2"] = session.read_file("DG2")
    data.photo = parse_dg2(data.raw["DG2"])
    groups = {dg_number(n): v for n, v in data.raw.items() if n.startswith("DG")}
    data.passive_auth = passive_authentication(data.sod, groups, trust)
    return data.photo
