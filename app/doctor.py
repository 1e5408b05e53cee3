"""`kiosk doctor`: what is wrong with this kiosk, one line each, with the fix.

Gathers ``kiosk.diagnostics.Check`` results from:

- the config file (found? valid? admin PIN set?);
- each device package's ``diagnose(config)`` (``devices.card``, ``devices.camera``,
  ``devices.printer``, ``devices.voice``) and ``offline_cache.diagnose`` (outbox);
  a package that is missing, has no ``diagnose`` or raises is a FAIL saying so;
- the HIS: reachable, authentication accepted, capability statement
  (``/metadata``), clock skew against the HIS's HTTP ``Date`` header;
- the data folder's free disk space and the local database (``PRAGMA integrity_check``);
- when ``[metrics]`` is on, whether the running kiosk serves ``/metrics``.

Probes run concurrently, each on its own daemon thread; a probe that has not
answered by the deadline is reported as a FAIL instead of holding the doctor
up. No check reports OK for a state it could not read.
"""
from __future__ import annotations

import email.utils
import importlib
import os
import shutil
import sqlite3
import threading
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

from kiosk.config import Config, find_config_file, load_config
from kiosk.diagnostics import FAIL, OK, WARN, Check
from kiosk.errors import KioskError
from kiosk.logs import redact

SEARCH_ORDER = "--config, $KIOSK_CONFIG, ~/.config/kiosk/kiosk.toml, /etc/kiosk/kiosk.toml"

# (name shown, module, "section.key" of the driver setting that may switch it off)
DEVICE_MODULES = [
    ("card_reader", "devices.card", "card_reader.driver"),
    ("camera", "devices.camera", "camera.driver"),
    ("printer", "devices.printer", "printer.driver"),
    ("voice", "devices.voice", "display.voice_driver"),
    ("outbox", "offline_cache", None),
]

# Resources the check-in writes or reads, with the interactions it uses.
NEEDED_RESOURCES = {
    "Patient": {"search-type", "create"},
    "Appointment": {"search-type", "update"},
    "Encounter": {"search-type", "create"},
    "HealthcareService": {"search-type"},
    "Location": {"search-type"},
}

CLOCK_WARN_S, CLOCK_FAIL_S = 30.0, 120.0
DISK_WARN_BYTES, DISK_FAIL_BYTES = 1_000_000_000, 200_000_000

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
    else:
        checks.append(Check("config.admin_pin", OK, "admin PIN set"))
    return checks, config


# --- device packages -----------------------------------------------------------

def _setting(config: Config, dotted: str):
    section, _, key = dotted.partition(".")
    return getattr(getattr(config, section, None), key, None)


def device_probe(config: Config, label: str, module: str, driver_key: str | None) -> Probe:
    def probe() -> list[Check]:
        if driver_key and _setting(config, driver_key) == "none":
            return [Check(label, OK, f"not used ({driver_key} = \"none\")")]
        if module == "devices.voice" and not (config.display.department or config.display.rooms):
            return [Check(label, OK, "not a ward display ([display] department and rooms are empty)")]
        try:
            mod = importlib.import_module(module)
        except ModuleNotFoundError as exc:
            what = "is not installed" if exc.name and module.startswith(exc.name) else f"needs {exc.name!r}"
            return [Check(label, FAIL, f"{module} {what}: {label} cannot be checked",
                          "reinstall the kiosk software (`make install`)")]
        except Exception as exc:  # a broken package is a finding, not a crash
            return [Check(label, FAIL, f"{module} cannot be loaded ({type(exc).__name__}: {redact(str(exc))})",
                          "reinstall the kiosk software (`make install`)")]
        diagnose = getattr(mod, "diagnose", None)
        if not callable(diagnose):
            return [Check(label, FAIL, f"{module} has no diagnose(): {label} cannot be checked",
                          "update the kiosk software")]
        try:
            found = list(diagnose(config))
        except Exception as exc:
            return [Check(label, FAIL, f"{module}.diagnose failed ({type(exc).__name__}: {redact(str(exc))})",
                          f"see the kiosk log; check the {label} settings and cabling")]
        if not found or not all(isinstance(c, Check) for c in found):
            return [Check(label, FAIL, f"{module}.diagnose returned no usable result",
                          "update the kiosk software")]
        return found
    return probe


def test_print_probe(config: Config) -> Probe:
    """Print a test ticket through the configured printer (``--test-print``)."""
    def probe() -> list[Check]:
        if config.printer.driver == "none":
            return [Check("printer.test_print", WARN, "no printer configured (printer.driver = \"none\")",
                          "set printer.driver and printer.connection")]
        try:
            printer = importlib.import_module("devices.printer").build_printer(config, keep_tickets=False)
        except Exception as exc:
            return [Check("printer.test_print", FAIL, f"printer could not be opened ({type(exc).__name__}: "
                          f"{redact(str(exc))})", "check printer.connection and the cable/power")]
        try:
            printer.print_ticket(test_ticket(config))
        except Exception as exc:
            return [Check("printer.test_print", FAIL, f"test ticket not printed ({type(exc).__name__}: "
                          f"{redact(str(exc))})", "check paper, cover and cable; then try again")]
        finally:
            close = getattr(printer, "close", None)
            if callable(close):
                try:
                    close()
                except Exception:
                    pass
        return [Check("printer.test_print", OK, "test ticket sent to the printer: check that it came out")]
    return probe


def test_ticket(config: Config):
    from kiosk.domain import Ticket

    now = datetime.now(timezone.utc)
    return Ticket(reference="TEST-" + now.strftime("%Y%m%d%H%M%S"), number=0, label="TEST",
                  department_code="TEST", department_name="IN THỬ / TEST PRINT", room_code="-",
                  room_name=config.kiosk.id, room_where=now.strftime("%Y-%m-%d %H:%M UTC"),
                  issued_at=now, booked=False, hospital_name=config.kiosk.hospital_name)


# --- HIS -----------------------------------------------------------------------

def _his_session(config: Config):
    try:
        from kiosk.fhir.client import FhirClient

        return FhirClient(config.his).session
    except ImportError:  # the adapter is not installed: the same settings by hand
        import requests

        s = requests.Session()
        s.headers["Accept"] = "application/fhir+json"
        his = config.his
        if his.auth == "bearer":
            s.headers["Authorization"] = f"Bearer {his.token}"
        elif his.auth == "basic":
            s.auth = (his.username, his.password)
        s.verify = (his.ca_bundle or True) if his.verify_tls else False
        return s


def _auth_fix(config: Config) -> str:
    if config.his.auth == "none":
        return "the HIS wants credentials: set his.auth (bearer/basic) and his.token or his.username/his.password"
    if config.his.auth == "bearer":
        return "his.token was refused: ask the HIS team for a valid token for this kiosk"
    return "his.username/his.password were refused: check them with the HIS team"


def check_his(config: Config, timeout_s: float = 5.0) -> list[Check]:
    import requests

    base = config.his.base_url.rstrip("/")
    timeout = (min(config.his.connect_timeout_s, timeout_s), min(config.his.read_timeout_s, timeout_s))
    session = _his_session(config)
    try:
        sent = time.time()
        started = time.perf_counter()
        try:
            r = session.get(f"{base}/metadata", timeout=timeout)
        except requests.exceptions.SSLError:
            return [Check("his.reachable", FAIL, f"{base}: TLS certificate not accepted",
                          "set his.ca_bundle to the hospital CA's PEM file (or fix the HIS certificate)")]
        except requests.exceptions.Timeout:
            return [Check("his.reachable", FAIL, f"{base}: no answer within {timeout[1]:.0f} s",
                          "check the network path to the HIS; ask the HIS team whether it is overloaded")]
        except requests.exceptions.RequestException as exc:
            reason = "connection refused" if "refused" in str(exc).lower() else type(exc).__name__
            return [Check("his.reachable", FAIL, f"{base}: cannot connect ({reason})",
                          "check the network cable/Wi-Fi and his.base_url; is the HIS's FHIR server running?")]
        latency_ms = (time.perf_counter() - started) * 1000
        received = time.time()
        checks = []
        if r.status_code >= 500:
            return [Check("his.reachable", FAIL, f"{base}/metadata answered HTTP {r.status_code}",
                          "the HIS has a server error: call the HIS team")]
        if r.status_code == 404:
            return [Check("his.reachable", FAIL, f"{base}/metadata not found (HTTP 404): not a FHIR base URL",
                          "his.base_url must be the FHIR base, e.g. https://his.example.vn/fhir/R4")]
        checks.append(Check("his.reachable", OK, f"{base} answered in {latency_ms:.0f} ms"))
        checks.append(_clock_check(r.headers.get("Date"), (sent + received) / 2))
        if r.status_code in (401, 403):
            checks.append(Check("his.auth", FAIL, f"HIS refused the kiosk's credentials (HTTP {r.status_code})",
                                _auth_fix(config)))
            return checks
        checks.append(_capability_check(r))
        checks.append(_auth_check(session, base, timeout, config))
        return checks
    finally:
        session.close()


def _clock_check(date_header: str | None, local_mid: float) -> Check:
    if not date_header:
        return Check("his.clock", WARN, "the HIS sent no Date header: clock not compared",
                     "make sure this kiosk syncs its clock (timedatectl set-ntp true)")
    try:
        his_time = email.utils.parsedate_to_datetime(date_header).timestamp()
    except (TypeError, ValueError):
        return Check("his.clock", WARN, "the HIS's Date header is unreadable: clock not compared",
                     "make sure this kiosk syncs its clock (timedatectl set-ntp true)")
    skew = local_mid - his_time  # the header has 1 s resolution
    detail = f"kiosk clock is {abs(skew):.0f} s {'ahead of' if skew > 0 else 'behind'} the HIS"
    fix = "enable time sync: `timedatectl set-ntp true` (and an NTP server reachable from the kiosk)"
    if abs(skew) > CLOCK_FAIL_S:
        return Check("his.clock", FAIL, detail + " (queue times and appointments depend on it)", fix)
    if abs(skew) > CLOCK_WARN_S:
        return Check("his.clock", WARN, detail, fix)
    return Check("his.clock", OK, f"kiosk clock within {max(abs(skew), 1):.0f} s of the HIS")


def _capability_check(r) -> Check:
    try:
        cap = r.json()
    except ValueError:
        cap = None
    if not isinstance(cap, dict) or cap.get("resourceType") != "CapabilityStatement":
        return Check("his.capability", WARN, "/metadata did not return a CapabilityStatement",
                     "check that his.base_url points at the FHIR R4 endpoint")
    version = cap.get("fhirVersion") or "?"
    problems = [] if str(version).startswith("4.0") else [f"FHIR version {version}, expected 4.0.x (R4)"]
    rest = next((x for x in cap.get("rest") or [] if x.get("mode", "server") == "server"), None)
    if rest is None:
        problems.append("no server 'rest' section")
    else:
        offered = {res.get("type"): {i.get("code") for i in res.get("interaction") or []}
                   for res in rest.get("resource") or []}
        for rtype, needed in NEEDED_RESOURCES.items():
            if rtype not in offered:
                problems.append(f"{rtype} not offered")
            elif offered[rtype] and not needed <= offered[rtype]:
                problems.append(f"{rtype} lacks {', '.join(sorted(needed - offered[rtype]))}")
    if problems:
        return Check("his.capability", WARN, "capability statement: " + "; ".join(problems[:4]),
                     "ask the HIS team whether the kiosk's FHIR profile is enabled")
    return Check("his.capability", OK, f"FHIR {version}; Patient, Appointment, Encounter, "
                                        "HealthcareService, Location offered")


def _auth_check(session, base: str, timeout, config: Config) -> Check:
    import requests

    try:
        r = session.get(f"{base}/HealthcareService", params={"_count": "1"}, timeout=timeout)
    except requests.exceptions.RequestException as exc:
        return Check("his.auth", FAIL, f"authenticated request failed ({type(exc).__name__})",
                     "check the network path to the HIS")
    if r.status_code in (401, 403):
        return Check("his.auth", FAIL, f"HIS refused the kiosk's credentials (HTTP {r.status_code})",
                     _auth_fix(config))
    if r.status_code >= 400:
        return Check("his.auth", WARN, f"HealthcareService search answered HTTP {r.status_code}",
                     "ask the HIS team to allow this kiosk to read HealthcareService")
    how = "no credentials needed" if config.his.auth == "none" else f"{config.his.auth} credentials accepted"
    return Check("his.auth", OK, how)


# --- metrics endpoint ----------------------------------------------------------

def check_metrics(config: Config) -> list[Check]:
    """When ``[metrics]`` is on, whether the running kiosk serves /metrics."""
    import urllib.error
    import urllib.request

    url = f"http://127.0.0.1:{config.metrics.port}/metrics"
    try:
        with urllib.request.urlopen(url, timeout=2) as r:
            body = r.read(200_000).decode("utf-8", "replace")
    except (urllib.error.URLError, OSError) as exc:
        return [Check("metrics", WARN, f"metrics enabled but nothing answers on {url} ({type(exc).__name__})",
                      "is the kiosk running? (systemctl status kiosk); another program on metrics.port?")]
    if "kiosk_up" not in body:
        return [Check("metrics", WARN, f"{url} answers but is not the kiosk's metrics",
                      "another program uses metrics.port: choose a free port")]
    return [Check("metrics", OK, f"served on {url}")]


# --- disk and database -------------------------------------------------------

def _existing_parent(path: Path) -> Path:
    path = path.expanduser().absolute()
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def check_disk(config: Config) -> list[Check]:
    data_dir = config.data_dir()
    checks = []
    if data_dir.is_dir():
        if os.access(data_dir, os.W_OK):
            checks.append(Check("disk.data_dir", OK, f"{data_dir} is writable"))
        else:
            checks.append(Check("disk.data_dir", FAIL, f"{data_dir} is not writable by this user",
                                "chown the folder to the kiosk user or set kiosk.data_dir"))
    else:
        parent = _existing_parent(data_dir)
        state = FAIL if not os.access(parent, os.W_OK) else WARN
        checks.append(Check("disk.data_dir", state, f"{data_dir} does not exist yet"
                            + ("" if state == WARN else f" and {parent} is not writable"),
                            f"create it: install -d -o kiosk {data_dir} (or set kiosk.data_dir)"))
    usage = shutil.disk_usage(_existing_parent(data_dir))
    free_mb = usage.free / 1e6
    detail = f"{free_mb:,.0f} MB free of {usage.total / 1e6:,.0f} MB on the data folder's disk"
    if usage.free < DISK_FAIL_BYTES:
        checks.append(Check("disk.space", FAIL, detail, "free disk space (old logs: journalctl --vacuum-size=100M)"))
    elif usage.free < DISK_WARN_BYTES:
        checks.append(Check("disk.space", WARN, detail, "free disk space soon (journalctl --vacuum-size=100M)"))
    else:
        checks.append(Check("disk.space", OK, detail))
    return checks


def check_database(config: Config) -> list[Check]:
    path = config.database_path()
    if not path.exists():
        return [Check("database", WARN, f"no local database yet at {path}",
                      "start the kiosk once (it creates the database) or set offline.database")]
    try:
        con = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=2)
        try:
            rows = [r[0] for r in con.execute("PRAGMA integrity_check").fetchmany(5)]
        finally:
            con.close()
    except sqlite3.Error as exc:
        return [Check("database", FAIL, f"{path} cannot be read ({exc})",
                      "restart the kiosk: it keeps the damaged file aside (never deleted), starts a fresh one "
                      "and names the kept file; then `kiosk outbox recover FILE`")]
    if rows == ["ok"]:
        size_kb = path.stat().st_size / 1024
        return [Check("database", OK, f"{path} integrity ok ({size_kb:,.0f} KB)")]
    return [Check("database", FAIL, f"{path} is damaged: {'; '.join(map(str, rows))[:200]}",
                  "restart the kiosk: it keeps the damaged file aside (never deleted), starts a fresh one and "
                  "names the kept file; then `kiosk outbox recover FILE`")]


# --- running everything --------------------------------------------------------

def _guarded(name: str, fn: Callable[[], list[Check]]) -> Probe:
    def probe() -> list[Check]:
        try:
            return fn()
        except Exception as exc:
            return [Check(name, FAIL, f"check crashed ({type(exc).__name__}: {redact(str(exc))})",
                          "report this with the kiosk log")]
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
               only: set[str] | None = None) -> tuple[list[Check], Config | None]:
    """All checks, in a fixed order. ``only`` limits the probes by name
    (card_reader, camera, printer, voice, outbox, his, disk, database, metrics)."""
    checks, config = check_config(config_path)
    if config is None:
        return checks + [Check("doctor", WARN, "other checks skipped until the config loads",
                               "fix the config, then run `kiosk doctor` again")], None
    probes: list[tuple[str, Probe]] = []
    for label, module, section in DEVICE_MODULES:
        probes.append((label, _guarded(label, device_probe(config, label, module, section))))
    if test_print:
        probes.append(("printer.test_print", _guarded("printer.test_print", test_print_probe(config))))
    probes.append(("his", _guarded("his", lambda: check_his(config, timeout_s=min(5.0, timeout_s)))))
    probes.append(("disk", _guarded("disk", lambda: check_disk(config))))
    probes.append(("database", _guarded("database", lambda: check_database(config))))
    if config.metrics.enabled:
        probes.append(("metrics", _guarded("metrics", lambda: check_metrics(config))))
    if only:
        probes = [p for p in probes if p[0] in only or p[0].split(".")[0] in only]
    return checks + run_probes(probes, timeout_s), config


def summary(checks: list[Check]) -> dict[str, int]:
    return {s: sum(c.status == s for c in checks) for s in (OK, WARN, FAIL)}


def exit_code(checks: list[Check]) -> int:
    return 1 if any(c.status == FAIL for c in checks) else 0
