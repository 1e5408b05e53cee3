"""`kiosk doctor`'s insurance checks: password file private, staff identity
set, facility code set, gateway reachable and credentials accepted (one
token request — it costs one login)."""
from __future__ import annotations

import time

from bhxh_gateway.codes import LOGIN_KEYS, STAFF_KEYS
from bhxh_gateway.transport import Trouble
from kiosk.config.loader import password_file_problem
from kiosk.insurance.card_check import CoverageStatus
from kiosk.operations.diagnostics import FAIL, OK, WARN, Check

DIAGNOSE_TIMEOUT_S = 5.0


def diagnose(gateway, timeout_s: float | None = None) -> list[Check]:
    settings = gateway.settings
    checks = []
    problem = password_file_problem(settings.password_file) if settings.password_file else \
        "insurance.password_file is not set"
    if problem:
        checks.append(Check("insurance.password_file", FAIL, problem if problem.startswith("insurance.")
                            else f"insurance.password_file: {problem}",
                            "put the gateway password alone in that file, owned by the kiosk user, mode 0600"))
    else:
        checks.append(Check("insurance.password_file", OK, "password file present and private (mode 0600 or stricter)"))
    if settings.staff_name and settings.staff_cccd:
        checks.append(Check("insurance.staff", OK, "staff identity set (sent with every lookup)"))
    else:
        checks.append(Check("insurance.staff", FAIL, "staff identity not set: every lookup would be refused (054)",
                            f"set {STAFF_KEYS} to a staff member registered with BHXH for this facility"))
    if settings.facility_code:
        checks.append(Check("insurance.facility", OK, f"facility code {settings.facility_code}"))
    else:
        checks.append(Check("insurance.facility", WARN, "no facility code: cards registered elsewhere cannot be told "
                                                        "apart", "set insurance.facility_code (5 digits, mã CSKCB)"))
    if problem:
        checks.append(Check("insurance.login", FAIL, "login not tried until the password file is fixed",
                            "fix insurance.password_file, then run `kiosk doctor` again"))
        return checks
    wait = min(settings.timeout_s, timeout_s or DIAGNOSE_TIMEOUT_S)
    started = time.monotonic()
    try:
        token = gateway.tokens.login(started + wait)
    except Trouble as exc:
        if exc.status is CoverageStatus.UNAVAILABLE:
            checks.append(Check("insurance.reachable", FAIL, exc.reason,
                                "check the network path to the gateway and insurance.base_url; "
                                "BHXH's gateway is sometimes down: try again later"))
        else:
            checks.append(Check("insurance.reachable", OK, "the gateway answered"))
            checks.append(Check("insurance.login", FAIL, exc.reason,
                                f"check {LOGIN_KEYS} with the hospital's BHXH account manager"))
        return checks
    latency_ms = (time.monotonic() - started) * 1000
    checks.append(Check("insurance.reachable", OK, f"the gateway answered in {latency_ms:.0f} ms"))
    lifetime = max(0.0, token.expires_at - time.monotonic())
    checks.append(Check("insurance.login", OK, f"credentials accepted (token valid for {lifetime:.0f} s)"))
    return checks
