"""`kiosk doctor` (and the admin screen's status tab): what is wrong with this
kiosk, one line each, with the fix.

The one place that runs the checks. It gathers ``kiosk.operations.diagnostics.Check``s
from:

- the config file (found? valid? admin PIN set?);
- each device's own ``diagnose()`` — the card reader, the camera, the printer
  and (on a calling board) the voice, built from the config by the
  composition root, or the running kiosk's live devices on the admin screen;
- the offline cache (outbox backlog, dead letters, reference data, the
  database's integrity);
- the core's checks in ``kiosk.operations.diagnostics``: the HIS (reachable with the
  kiosk's TLS and credentials, capability statement, clock skew), disk space,
  the metrics endpoint when ``[metrics]`` is on, and the queue service when
  tickets carry a phone link.

Probes run concurrently, each on its own daemon thread; a probe that has not
answered by the deadline is reported as a FAIL instead of holding the doctor
up. No check reports OK for a state it could not read.
"""
from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Callable

import offline_cache
from app import compose
from app.network_checks import check_metrics, check_queue_web
from fhir_his.doctor_checks import check_his
from kiosk.checkin.visit_rules import test_ticket
from kiosk.config.his_settings import his_warnings
from kiosk.config.loader import DEFAULT_NAMESPACE, Config, find_config_file, load_config
from kiosk.errors import KioskError
from kiosk.operations.admin_pin import SET_PIN_FIX, hash_problem
from kiosk.operations.diagnostics import FAIL, OK, WARN, Check, check_disk
from kiosk.operations.logs import redact

SEARCH_ORDER = "--config, $KIOSK_CONFIG, ~/.config/kiosk/kiosk.toml, /etc/kiosk/kiosk.toml"

Probe = Callable[[], list[Check]]


# --- config ------------------------------------------------------------------

def check_config(explicit: str | None) -> tuple[list[Check], Config | None]:
    found = find_config_file(explicit)
    if found is None:
        checks = [Check("config", WARN, f"no config file found (searched {SEARCH_ORDER}); using built-in defaults",
                        "copy assets/kiosk.sample.toml to /etc/kiosk/kiosk.toml and edit it")]
        config = Config(source="(built-in defaults)")
    else:
        if not Path(found).is_file():
            return [Check("config", FAIL, f"config file {found} does not exist",
                          "create it from assets/kiosk.sample.toml, or point --config / $KIOSK_CONFIG "
                          "at the right file")], None
        try:
            config = load_config(found)
        except KioskError as exc:
            return [Check("config", FAIL, redact(str(exc)),
                          f"fix that setting in {found}, then run `kiosk config check {found}`")], None
        checks = [Check("config", OK, f"{found} is valid (kiosk {config.kiosk.id})")]
    if not config.admin.pin_hash:
        checks.append(Check("config.admin_pin", WARN, "no admin PIN set: the admin screen cannot be opened",
                            "run `kiosk admin set-pin` on this kiosk"))
    elif weak := hash_problem(config.admin.pin_hash):
        checks.append(Check("config.admin_pin", WARN, weak, SET_PIN_FIX))
    else:
        checks.append(Check("config.admin_pin", OK, "admin PIN set"))
    for key, what, fix in his_warnings(config.his):
        checks.append(Check("config.his_sign_in", WARN, f"{key}: {what}", fix))
    if config.his.kiosk_namespace == DEFAULT_NAMESPACE:
        checks.append(Check("config.namespace", WARN, f"his.kiosk_namespace is the documented placeholder "
                            f"({DEFAULT_NAMESPACE}): the kiosk's identifier systems and extensions are not "
                            "under a URL your hospital controls",
                            "set his.kiosk_namespace to an https URL of the hospital, e.g. https://fhir.benhvien.vn/kiosk, "
                            "before the first check-in (changing it later splits the HIS's data)"))
    return checks, config


def test_print_probe(config: Config) -> Probe:
    """Print a test ticket through the configured printer (``--test-print``)."""
    def probe() -> list[Check]:
        try:
            printer = compose.build_printer(config, keep_tickets=False)
        except Exception as exc:
            return [Check("printer.test_print", FAIL, f"printer could not be opened ({type(exc).__name__}: "
                          f"{redact(str(exc))})", "check printer.connection and the cable/power")]
        if printer is None:
            return [Check("printer.test_print", WARN, "no printer configured (printer.driver = \"none\")",
                          "set printer.driver and printer.connection")]
        try:
            printer.print_ticket(test_ticket(config))
        except Exception as exc:
            return [Check("printer.test_print", FAIL, f"test ticket not printed ({type(exc).__name__}: "
                          f"{redact(str(exc))})", "check paper, cover and cable; then try again")]
        finally:
            printer.close()
        return [Check("printer.test_print", OK, "test ticket sent to the printer: check that it came out")]
    return probe


def _guarded(name: str, fn: Callable[[], list[Check]]) -> Probe:
    """A probe that never crashes the doctor: an exception, or an answer that
    is not a list of checks, is itself a FAIL (redacted)."""
    def probe() -> list[Check]:
        try:
            found = list(fn())
        except Exception as exc:
            return [Check(name, FAIL, f"check crashed ({type(exc).__name__}: {redact(str(exc))})",
                          "report this with the kiosk log")]
        if not found or not all(isinstance(c, Check) for c in found):
            return [Check(name, FAIL, f"the {name} check returned no usable result", "update the kiosk software")]
        return found
    return probe


def run_probes(probes: list[tuple[str, Probe]], timeout_s: float) -> list[Check]:
    """Run the probes concurrently; results in the probes' order. A probe
    still running at the deadline becomes a FAIL (its thread is left behind;
    it is a daemon and dies with the process)."""
    results: dict[int, list[Check]] = {}
    threads = []
    for i, (name, probe) in enumerate(probes):
        def target(i=i, probe=probe):
            results[i] = probe()
        t = threading.Thread(target=target, name=f"doctor-{name}", daemon=True)
        t.start()
        threads.append(t)
    deadline = time.monotonic() + timeout_s
    for t in threads:
        t.join(max(0.0, deadline - time.monotonic()))
    out = []
    for i, (name, _) in enumerate(probes):
        out.extend(results.get(i) or [Check(name, FAIL, f"no answer within {timeout_s:.0f} s",
                                            f"the {name} check hangs: restart the device or service it talks to")])
    return out


def run_doctor(config_path: str | None = None, *, test_print: bool = False, timeout_s: float = 8.0,
               only: set[str] | None = None, services=None) -> tuple[list[Check], Config | None]:
    """All checks, in a fixed order. ``only`` limits the probes by name
    (card_reader, camera, printer, voice, outbox, his, disk, database, metrics, queue_web).
    ``services``: the running kiosk's (the admin screen), whose live devices
    are asked instead of opening them a second time."""
    checks, config = check_config(config_path)
    if config is None:
        return checks + [Check("doctor", WARN, "other checks skipped until the config loads",
                               "fix the config, then run `kiosk doctor` again")], None
    probes: list[tuple[str, Probe]] = [(name, _guarded(name, probe))
                                       for name, probe in compose.device_checks(config, services)]
    probes.append(("outbox", _guarded("outbox", lambda: offline_cache.diagnose(config))))
    if test_print:
        probes.append(("printer.test_print", _guarded("printer.test_print", test_print_probe(config))))
    probes.append(("his", _guarded("his", lambda: check_his(config, timeout_s=min(5.0, timeout_s)))))
    probes.append(("disk", _guarded("disk", lambda: check_disk(config))))
    if config.metrics.enabled:
        probes.append(("metrics", _guarded("metrics", lambda: check_metrics(config))))
    if config.queue_web.public_base_url:  # tickets carry a phone link: does it open?
        probes.append(("queue_web", _guarded("queue_web", lambda: check_queue_web(config, min(3.0, timeout_s)))))
    if only:
        probes = [p for p in probes if p[0] in only or p[0].split(".")[0] in only]
    return checks + run_probes(probes, timeout_s), config


def summary(checks: list[Check]) -> dict[str, int]:
    return {s: sum(c.status == s for c in checks) for s in (OK, WARN, FAIL)}


def exit_code(checks: list[Check]) -> int:
    return 1 if any(c.status == FAIL for c in checks) else 0
