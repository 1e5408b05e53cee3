"""`kiosk insurance check`: ask the BHXH gateway (or its simulator) about one
BHYT card and print the answer.

Exit 0 when the gateway answered about the card (valid, expired, not found,
mismatch, withdrawn); 1 with a one-line message when it did not (gateway
unavailable, credentials or staff identity refused); 2 for bad arguments.
With ``--json`` the result is printed whatever the outcome.
"""
from __future__ import annotations

import logging
import re
import sys
from datetime import date

from app.cli import print_json
from kiosk.config.loader import load_config
from kiosk.errors import ConfigError, InvalidIdentity
from kiosk.identity import input_rules
from kiosk.insurance.card_check import InsuranceCheck, check_birth_date, normalize_card_number
from kiosk.texts.messages import t


def register(sub) -> None:
    p = sub.add_parser("insurance", help="BHYT health insurance: check a card through the BHXH gateway")
    isub = p.add_subparsers(dest="insurance_command", metavar="ACTION", required=True)
    check = isub.add_parser("check", help="check one card (insurance.gateway must not be \"none\")")
    check.add_argument("--id", required=True, dest="card",
                       help="12-digit CCCD number, 10-digit BHXH number or 15-character card code")
    check.add_argument("--name", required=True, help="full name as on the card")
    check.add_argument("--dob", required=True, help="date of birth YYYY-MM-DD, or YYYY when the card shows only the year")
    check.add_argument("--config", help="config file (default: $KIOSK_CONFIG, then the usual places)")
    check.add_argument("--json", action="store_true", help="print the result as JSON")
    check.set_defaults(func=run)


def parse_dob(text: str) -> date | int:
    """YYYY-MM-DD, or YYYY for cards that show only the year of birth."""
    text = text.strip()
    value = None
    if re.fullmatch(r"[0-9]{4}", text):
        value = int(text)
    elif re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", text):
        try:
            value = date.fromisoformat(text)
        except ValueError:
            pass
    if value is None:
        raise InvalidIdentity("--dob: expected YYYY-MM-DD, or YYYY when the card shows only the year")
    return check_birth_date(value)


def result_json(result: InsuranceCheck, lang: str) -> dict:
    out = result.to_json()
    out["message"] = t(result.message_key, lang)
    return out


def run(args) -> int:
    try:
        card = normalize_card_number(args.card)
        born = parse_dob(args.dob)
        if not args.name.strip():
            raise InvalidIdentity("--name: expected the name as printed on the card")
        name = input_rules.name(args.name, "--name")  # no control/bidi characters, NFC, at most 100
    except InvalidIdentity as exc:
        print(f"kiosk insurance check: {exc}", file=sys.stderr)
        return 2
    config = load_config(args.config)
    if config.insurance.gateway == "none":
        raise ConfigError(f'insurance.gateway = "none" in {config.source}: set it to "bhxh" or "simulator" '
                          "and fill in the [insurance] section")
    from app.compose import build_insurance_gateway

    # The adapter logs its warnings for the kiosk's journal; here the one-line
    # message below says it, so keep Python's last-resort handler quiet.
    logging.getLogger("bhxh_gateway").addHandler(logging.NullHandler())
    gateway = build_insurance_gateway(config)
    try:
        result = gateway.check(card, name, born)
    finally:
        gateway.close()
    lang = config.kiosk.language
    if args.json:
        print_json(result_json(result, lang))
    else:
        dates = f", valid {result.valid_from or '?'} to {result.valid_to}" if result.valid_to else ""
        facility = f", facility {result.primary_care_facility}" if result.primary_care_facility else ""
        print(f"{result.status.value} (maKetQua {result.result_code or '-'}{dates}{facility}"
              f"{', new card' if result.new_card else ''}): {t(result.message_key, lang)}")
    if not result.about_card:
        print(f"kiosk insurance check: no answer about the card: {result.staff_reason}", file=sys.stderr)
        return 1
    return 0
