"""`kiosk checkin`: check one patient in, headless, and print the result."""
from __future__ import annotations

import sys

from app.cli import print_json, shown
from app.compose import build_kiosk
from kiosk.config.loader import load_config
from kiosk.domain import Assurance, CheckInRequest, Identity, IdentitySource, Priority
from kiosk.errors import InvalidIdentity
from kiosk.identity import input_rules
from kiosk.texts.messages import t


def register(sub) -> None:
    p = sub.add_parser("checkin", help="check a patient in (headless) and print the ticket")
    p.add_argument("--config", help="config file (default: $KIOSK_CONFIG, then the platform config dir)")
    who = p.add_mutually_exclusive_group(required=True)
    who.add_argument("--id", dest="citizen_id", help="12-digit CCCD number")
    who.add_argument("--patient-code", help="the hospital patient code (mã bệnh nhân), looked up in "
                                            "his.patient_code_system")
    p.add_argument("--name", help="full name (used when the patient is new)")
    p.add_argument("--dob", help="date of birth YYYY-MM-DD (also picks among duplicate records)")
    p.add_argument("--sex", help="male/female (Nam/Nữ accepted)")
    p.add_argument("--address")
    p.add_argument("--department", help="department code for a walk-in (ignored when booked today)")
    p.add_argument("--priority", choices=[p.value for p in Priority], help="self-declared priority")
    p.add_argument("--checkin-id", help="idempotency key (a UUID, lower case); reuse it to retry the same "
                   "check-in safely")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.set_defaults(func=run)


def build_identity(args) -> Identity:
    """The identity from the options, each checked by ``kiosk.identity.input_rules``
    (refusals name the option: ``--dob: expected a date YYYY-MM-DD …``)."""
    citizen_id = input_rules.citizen_id(args.citizen_id, "--id")
    name = input_rules.name(args.name, "--name") if args.name is not None else None
    dob = input_rules.birth_date(args.dob, "--dob") if args.dob is not None else None
    sex = input_rules.sex(args.sex, "--sex") if args.sex is not None else None
    address = input_rules.address(args.address, "--address") if args.address is not None else None
    typed_only = not (name or dob)
    return Identity(
        citizen_id=citizen_id, full_name=name, birth_date=dob, sex=sex, address=address,
        source=IdentitySource.TYPED if typed_only else IdentitySource.CCCD_QR,
        assurance=Assurance.TYPED if typed_only else Assurance.QR)


def run(args) -> int:
    config = load_config(args.config)
    lookup = None
    try:
        identity = build_identity(args) if args.citizen_id is not None else None
        code = input_rules.patient_code(args.patient_code, "--patient-code") if identity is None else None
        checkin_id = (input_rules.checkin_id(args.checkin_id, "--checkin-id") if args.checkin_id is not None
                      else input_rules.new_checkin_id())
        department = (input_rules.department_code(args.department, "--department")
                      if args.department is not None else None)
    except InvalidIdentity as exc:
        print(t(exc.patient_message_key, config.kiosk.language), file=sys.stderr)
        raise
    services = build_kiosk(config, with_devices=False, background=False)  # one check-in: no sender thread
    try:
        if identity is None:  # --patient-code: the HIS says whose it is (and brings today's appointments)
            match = services.patient_for_code(code)
            identity, lookup = match.identity, match.lookup
        request = CheckInRequest(
            checkin_id=checkin_id, identity=identity,
            department_code=department, lookup=lookup,
            declared_priority=Priority(args.priority) if args.priority else None,
            kiosk_id=config.kiosk.id)
        result = services.checkin.check_in(request)
    except Exception as exc:
        key = getattr(exc, "patient_message_key", None)
        if key:
            print(t(key, config.kiosk.language), file=sys.stderr)
        raise
    finally:
        services.close()
    if args.json:
        print_json(result.to_json())
    else:
        tk = result.ticket
        print(f"Số thứ tự {shown(tk.label)} — {shown(tk.department_name)}, {shown(tk.room_name)} "
              f"({shown(tk.room_where)})"
              f"{' — OFFLINE' if tk.offline else ''} [mode: {result.mode}]"
              f"{' [repeat: the patient already has this number today; no new visit]' if result.repeat else ''}")
    return 0
