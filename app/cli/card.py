"""`kiosk read-card`: read a CCCD chip once and show what the kiosk sees.

For IT staff checking a reader, a trust store or a patient's card at the
desk: the output contains the card's personal data (it is never logged).
Access key: ``--can`` (6 digits, PACE), ``--id`` (12 digits: CAN = last 6),
or ``--mrz`` (the MRZ lines, or the 24-character 'MRZ information', for BAC).
"""
from __future__ import annotations

import copy
import sys
import time

from app.cli import print_json, shown
from kiosk.config.loader import load_config
from kiosk.domain import AccessKey
from kiosk.errors import InvalidIdentity
from kiosk.identity import input_rules
from kiosk.texts.messages import t


def register(sub) -> None:
    p = sub.add_parser("read-card", help="read a CCCD chip (PACE/BAC, DG1, DG13, passive authentication)")
    key = p.add_mutually_exclusive_group(required=True)
    key.add_argument("--can", metavar="6DIGITS", help="card access number = last 6 digits of the ID")
    key.add_argument("--id", metavar="12DIGITS", help="the 12-digit ID number (CAN = its last 6 digits)")
    key.add_argument("--mrz", metavar="TEXT", help="MRZ lines (TD1/TD3) or 'MRZ information' for BAC")
    p.add_argument("--reader", metavar="NAME", help="part of the PC/SC reader name (default: card_reader.reader)")
    p.add_argument("--photo", metavar="FILE", help="also read DG2 and write the face image here")
    p.add_argument("--trust", metavar="DIR", help="CSCA trust-store folder (default: card_reader.trust_store)")
    p.add_argument("--simulator", metavar="PERSON",
                   help="use the simulated reader with this demo person's card (an, ngoc, …) instead of PC/SC")
    p.add_argument("--timeout", type=float, help="seconds (default: card_reader.timeout_s)")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument("--config", help="config file (default: $KIOSK_CONFIG, then the platform config dir)")
    p.set_defaults(func=_read_card)


def access_key(args) -> AccessKey:
    if args.can is not None:
        return AccessKey(can=input_rules.can(args.can, "--can"))
    if args.id is not None:
        return AccessKey.from_citizen_id(input_rules.citizen_id(args.id, "--id"))
    from devices.cccd.errors import CardParseError
    from devices.cccd.mrz import check_digit, parse_mrz, parse_yymmdd

    text = "".join(args.mrz.split()).upper()
    if not (text.isascii() and text.replace("<", "").isalnum()):
        raise input_rules.InputRefused("--mrz", "the MRZ's characters only (A-Z, 0-9 and <)", key="error.input.code")
    try:
        if len(text) == 24:  # number(9)+cd, DOB+cd, expiry+cd
            for start, end in ((0, 9), (10, 16), (17, 23)):
                if check_digit(text[start:end]) != text[end]:
                    raise CardParseError("MRZ information: a check digit is wrong")
            return AccessKey(document_number=text[:9].rstrip("<"), birth_date=parse_yymmdd(text[10:16], future=False),
                             expiry_date=parse_yymmdd(text[17:23], future=True))
        mrz = parse_mrz(text)
    except CardParseError as exc:
        raise InvalidIdentity(f"--mrz: {exc}") from None
    return AccessKey(document_number=mrz.document_number, birth_date=mrz.birth_date, expiry_date=mrz.expiry_date)


def _read_card(args) -> int:
    from app import compose
    from devices.cccd.errors import CardError

    config = copy.deepcopy(load_config(args.config))
    section = config.card_reader
    if args.reader is not None:
        section.reader = args.reader
    if args.trust is not None:
        section.trust_store = args.trust
    timeout = args.timeout or section.timeout_s
    key = access_key(args)
    section.timeout_s = timeout
    try:
        reader = compose.build_card_reader_with(config, simulated_card=args.simulator)
    except KeyError:
        raise InvalidIdentity(f"--simulator {args.simulator}: no such demo person (the people of the demo hospital: an, ngoc, …)") from None
    started = time.perf_counter()
    try:
        data = reader.read_chip(key, with_photo=bool(args.photo), timeout=timeout)
    except CardError as exc:
        result = {"ok": False, "error": type(exc).__name__, "detail": str(exc),
                  "message": t(exc.patient_message_key, config.kiosk.language)}
        _print(result, args.json)
        return 1
    finally:
        reader.stop()
    elapsed = time.perf_counter() - started
    if args.photo and data.photo:
        with open(args.photo, "wb") as fh:
            fh.write(data.photo.data)
    stats = reader.last_stats or {}
    mrz = data.mrz
    result = {
        "ok": True,
        "access_control": data.protocol,
        "passive_auth": data.passive_auth.status,
        "passive_auth_reason": data.passive_auth.reason,
        "data_groups": list(data.com.data_groups),
        "dg1": {"format": mrz.format, "document_code": mrz.document_code, "issuing_state": mrz.issuing_state,
                "document_number": mrz.document_number, "birth_date": str(mrz.birth_date or mrz.birth_date_raw),
                "sex": mrz.sex, "expiry_date": str(mrz.expiry_date or mrz.expiry_date_raw),
                "nationality": mrz.nationality, "name": f"{mrz.primary_name} {mrz.secondary_name}".strip(),
                "optional_data": mrz.optional_data},
        "dg13": data.record.as_json() if data.record else None,
        "photo": {"file": args.photo, "type": data.photo.mime, "bytes": len(data.photo.data)} if data.photo else None,
        "apdus": stats.get("apdus"),
        "bytes_read": stats.get("bytes_read"),
        "wire_bytes": stats.get("wire_bytes"),
        "seconds": round(elapsed, 3),
    }
    _print(result, args.json)
    return 0


def _print(result: dict, as_json: bool) -> None:
    if as_json:
        print_json(result)
        return
    if not result["ok"]:
        print(f"{result['error']}: {shown(result['detail'])}\n{result['message']}", file=sys.stderr)
        return
    print(f"access: {result['access_control']}   passive authentication: {result['passive_auth']}"
          + (f" ({shown(result['passive_auth_reason'])})" if result["passive_auth_reason"] else ""))
    for name, value in (result["dg13"] or {}).items():
        print(f"  {shown(name):22} {shown(value)}")
    print(f"APDUs {result['apdus']}, file bytes {result['bytes_read']}, {result['seconds']} s")
