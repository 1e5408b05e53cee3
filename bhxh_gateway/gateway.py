"""``BhxhGateway``: the ``InsuranceGateway`` port over the BHXH gateway's
HTTP protocol (the real gateway, or the simulator in ``sandbox_bhxh``).

One check: validate the input; answer from the day's recheck cache when the
same card, name and birth date were checked less than
``insurance.recheck_after_s`` ago; otherwise take the shared token (one login
serves many checks), POST the card check form, and on an authentication
failure (HTTP 401 or ``maKetQua`` 401) renew the token once and ask once
more. The whole check runs on a daemon thread of its own and the caller waits
at most ``timeout_s``: the patient never waits longer, whatever the network
does (a worker stuck on a reply that trickles in neither blocks later checks
nor the process's exit). Every outcome is an ``InsuranceCheck``; nothing is raised for the
gateway's trouble.
"""
from __future__ import annotations

import logging
import threading
import time
import unicodedata
from datetime import date

import requests

from bhxh_gateway.cache import RecheckCache
from bhxh_gateway.codes import AUTH_FAILED, STAFF_KEYS, meaning
from bhxh_gateway.diagnose import diagnose
from bhxh_gateway.reply import Garbled, interpret, is_auth_failure, json_object
from bhxh_gateway.transport import CHECK_PATH, Tokens, Transport, Trouble, http_trouble, unavailable
from kiosk.clock import SystemClock
from kiosk.config.loader import InsuranceSection
from kiosk.errors import InvalidIdentity
from kiosk.insurance.card_check import (
    CoverageStatus,
    InsuranceCheck,
    check_birth_date,
    no_answer,
    normalize_card_number,
)
from kiosk.operations import metrics
from kiosk.operations.diagnostics import Check

log = logging.getLogger(__name__)

UNAVAILABLE, REFUSED = CoverageStatus.UNAVAILABLE, CoverageStatus.REFUSED
# The worker's own deadline comes this much before the caller stops waiting, so
# that its timeouts normally answer first, with a more precise reason.
MARGIN_S = 0.25


def birth_date_text(value: date | int) -> str:
    """``ngaySinh``: dd/MM/yyyy, or yyyy for cards that show only the year."""
    value = check_birth_date(value)
    return str(value) if isinstance(value, int) else value.strftime("%d/%m/%Y")


def normalize_name(value: str) -> str:
    text = " ".join(unicodedata.normalize("NFC", value or "").split())
    if not text or len(text) > 100:
        raise InvalidIdentity("name: expected the name as printed on the card (1-100 characters)")
    return text


class BhxhGateway:
    def __init__(self, settings: InsuranceSection, *, clock=None, timezone: str = "Asia/Ho_Chi_Minh",
                 monotonic=time.monotonic, session_factory=requests.Session):
        self.settings = settings
        self.clock = clock or SystemClock(timezone)
        self.transport = Transport(settings, session_factory)
        self.tokens = Tokens(self.transport, settings)
        self.cache = RecheckCache(settings.recheck_after_s, monotonic)
        self._closed = False

    def __repr__(self) -> str:
        return f"BhxhGateway(gateway={self.settings.gateway!r})"

    # -- the port -------------------------------------------------------------
    def check(self, card_number: str, full_name: str, birth_date: date | int, *,
              timeout_s: float | None = None) -> InsuranceCheck:
        card = normalize_card_number(card_number)
        name = normalize_name(full_name)
        born = birth_date_text(birth_date)
        started = time.monotonic()
        now = self.clock.now()
        key = self.cache.key(card, name.casefold(), born)
        hit = self.cache.get(key, now.date())
        if hit is not None:
            self._record(hit, started, cached=True)
            return hit
        timeout = timeout_s if timeout_s and timeout_s > 0 else self.settings.timeout_s
        if self._closed:
            result = no_answer(UNAVAILABLE, "the insurance gateway adapter is closed", now)
        elif not (self.settings.staff_name and self.settings.staff_cccd):
            result = no_answer(REFUSED, f"no staff identity configured: set {STAFF_KEYS} "
                                        "(every lookup must carry a registered staff member)", now)
        else:
            result = self._ask_in_time(card, name, born, started, timeout, now)
        if result.about_card:
            self.cache.put(key, result, now.date())
        self._record(result, started, cached=False)
        return result

    def close(self) -> None:
        self._closed = True
        self.transport.close()

    def diagnose(self, timeout_s: float | None = None) -> list[Check]:
        return diagnose(self, timeout_s)

    # -- one lookup -----------------------------------------------------------
    def _ask_in_time(self, card, name, born, started, timeout, now) -> InsuranceCheck:
        """Ask on a worker thread; stop waiting ``timeout`` seconds after
        ``started`` whatever the worker is doing (a reply trickling in)."""
        deadline = started + timeout - min(MARGIN_S, timeout / 4)
        answer: list[InsuranceCheck] = []
        done = threading.Event()

        def work():
            answer.append(self._ask(card, name, born, deadline))
            done.set()

        threading.Thread(target=work, name="bhxh-check", daemon=True).start()
        if done.wait(max(0.0, started + timeout - time.monotonic())):
            return answer[0]
        return no_answer(UNAVAILABLE, f"no answer within {timeout:g} s (insurance.timeout_s)", now)

    def _ask(self, card: str, name: str, born: str, deadline: float) -> InsuranceCheck:
        now = self.clock.now()
        try:
            return self._lookup(card, name, born, deadline)
        except Trouble as exc:
            return no_answer(exc.status, exc.reason, now)
        except Exception as exc:  # never an exception for the gateway's trouble; the text may hold a URL
            log.warning("insurance check failed unexpectedly", extra={
                "event": "insurance.unexpected", "error": type(exc).__name__})
            return no_answer(UNAVAILABLE, f"unexpected {type(exc).__name__} while asking the gateway", now)

    def _lookup(self, card: str, name: str, born: str, deadline: float) -> InsuranceCheck:
        form = {"maThe": card, "hoTen": name, "ngaySinh": born,
                "hoTenCb": self.settings.staff_name, "cccdCb": self.settings.staff_cccd}
        code = None
        for attempt in (1, 2):
            token = self.tokens.get(deadline)
            status, body = self.transport.post(CHECK_PATH, params=token.query(), form=form,
                                               deadline=deadline, kind="check")
            if status == 401:
                code = None
            elif status != 200:
                raise http_trouble("check", status)
            else:
                try:
                    obj = json_object(body)
                    if not is_auth_failure(obj):
                        now = self.clock.now()
                        return interpret(obj, queried_card=card, today=now.date(),
                                         facility_code=self.settings.facility_code, checked_at=now)
                except Garbled as exc:
                    raise unavailable(f"check: unusable reply ({exc})") from None
                code = AUTH_FAILED
            self.tokens.invalidate(token)
            log.info("gateway refused the token", extra={"event": "insurance.token_refused", "attempt": attempt})
        return no_answer(REFUSED, meaning(AUTH_FAILED).reason, self.clock.now(), result_code=code)

    def _record(self, result: InsuranceCheck, started: float, *, cached: bool) -> None:
        metrics.INSURANCE_CHECKS.inc(status=result.status.value)
        if not result.about_card and not cached:
            metrics.INSURANCE_GATEWAY_FAILURES.inc(status=result.status.value)
        extra = {"event": "insurance.check", "status": result.status.value, "result_code": result.result_code,
                 "cached": cached, "duration_ms": round((time.monotonic() - started) * 1000, 1)}
        if result.status in (UNAVAILABLE, REFUSED):
            log.warning("insurance check without a usable answer",
                        extra={**extra, "staff_reason": result.staff_reason})
        else:
            log.info("insurance check", extra=extra)
