"""The sandbox HIS: Medplum's FHIR engine (npm) behind ``sandbox_his/server.mjs``;
and the BHXH gateway simulator (``sandbox_bhxh``), see ``GatewaySimulator``.

For tests and the demo. Listens on 127.0.0.1 only, on the given port or a free
one, keeps everything in memory, and is seeded with the demo hospital.
Honest R4 behaviour by default; ``profile="minimal,no-search-mode"`` (etc.)
reproduces documented behaviours of production FHIR servers — see
``sandbox_his/README.md``.

    with SandboxHis(profile="production-like", queue_numbers="his") as his:
        print(his.base_url)
"""
from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
import tempfile
import threading
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import requests

from app.sandbox_seed import build_seed_bundle
from kiosk.config.loader import HisSection
from kiosk.errors import ConfigError

ROOT = Path(__file__).resolve().parent.parent
SERVER_DIR = ROOT / "sandbox_his"
NODE = SERVER_DIR / "node_modules" / ".bin" / "node"
START_TIMEOUT_S = 30.0
DEMO_CLIENT_ID = "kiosk-demo"


class SandboxHis:
    def __init__(self, port: int = 0, *, seed: bool | str = True, timezone: str = "Asia/Ho_Chi_Minh",
                 his: HisSection | None = None, profile: str = "honest", queue_numbers: str | None = None,
                 token_ttl_s: float | None = None, clients: list[dict] | None = None):
        if queue_numbers not in (None, "his"):
            raise ConfigError(f'sandbox HIS: queue_numbers must be None or "his", got {queue_numbers!r}')
        self.requested_port = port
        self.seed_source = seed
        self.timezone = timezone
        self.tz = ZoneInfo(timezone)
        self.his = his or HisSection()
        self.profile = profile or "honest"
        self.queue_numbers = queue_numbers
        self.token_ttl_s = token_ttl_s
        self.clients = list(clients or [])
        self.token_on = "token" in [p.strip() for p in self.profile.split(",")]
        # A client the launcher registers itself when the token profile is on.
        self.demo_client: dict | None = (
            {"client_id": DEMO_CLIENT_ID, "client_secret": secrets.token_urlsafe(24)} if self.token_on else None)
        self.proc: subprocess.Popen | None = None
        self.port: int | None = None
        self.active_profile: list[str] = []
        self._stderr_tail: list[str] = []

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/fhir/R4"

    @property
    def admin_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/__admin"

    @property
    def token_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/oauth2/token"

    def _command(self, clients_file: str | None) -> list[str]:
        cmd = [str(NODE), "server.mjs", "--port", str(self.requested_port), "--base", "/fhir/R4",
               "--profile", self.profile, "--timezone", self.timezone,
               "--parent-pid", str(os.getpid()), "--exit-on-stdin-close"]
        if self.queue_numbers == "his":
            cmd += ["--queue-numbers", "his", "--queue-system", self.his.queue_system,
                    "--department-system", self.his.department_system]
        if self.token_ttl_s is not None:
            cmd += ["--token-ttl", str(self.token_ttl_s)]
        if clients_file:
            cmd += ["--clients", clients_file]
        return cmd

    def start(self) -> "SandboxHis":
        if not NODE.exists():
            raise ConfigError(f"sandbox HIS not installed: {NODE} is missing (run `make install`)")
        clients = self.clients + ([self.demo_client] if self.demo_client else [])
        clients_file = None
        if self.token_on and clients:
            fd, clients_file = tempfile.mkstemp(prefix="sandbox-clients-", suffix=".json")
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(clients, f)
        try:
            self._spawn(clients_file)
        finally:
            if clients_file:
                os.unlink(clients_file)
        if self.seed_source:
            self.seed(None if self.seed_source is True else str(self.seed_source))
            self.reset_stats()  # counts start at zero for the tests
        return self

    def _spawn(self, clients_file: str | None) -> None:
        # stdin stays open for the server's whole life: when this process dies,
        # the pipe closes and the server exits (--exit-on-stdin-close).
        self.proc = subprocess.Popen(
            self._command(clients_file), cwd=SERVER_DIR, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True, start_new_session=True)
        ready: dict = {}

        def read_first_line():
            line = self.proc.stdout.readline()
            if line:
                ready.update(json.loads(line))

        t = threading.Thread(target=read_first_line, daemon=True)
        t.start()
        t.join(START_TIMEOUT_S)
        if not ready:
            code = None
            if not t.is_alive():  # stdout closed: the server exited
                try:
                    code = self.proc.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    pass
            err = self._drain_stderr()
            self.stop()
            if code == 2:  # the server refused its options (unknown profile, time zone...)
                raise ConfigError(err.strip() or "sandbox HIS: bad options")
            raise RuntimeError(f"sandbox HIS did not start within {START_TIMEOUT_S:.0f} s: {err}")
        self.port = ready["port"]
        self.active_profile = ready.get("profile", [])
        threading.Thread(target=self._drain_stderr_forever, daemon=True).start()

    def seed(self, demo_path: str | None = None) -> dict:
        """Load the demo hospital through the admin path (works under every
        profile, sign-in included; conditional creates, so seeding twice
        changes nothing)."""
        day = datetime.now(self.tz).date()
        bundle = build_seed_bundle(self.his, day, self.tz, demo_path)
        r = requests.post(f"{self.admin_url}/seed", json=bundle, timeout=60)
        if r.status_code != 200:
            raise RuntimeError(f"sandbox HIS seeding failed: {r.status_code} {r.text[:300]}")
        return r.json()

    # -- test helpers -------------------------------------------------------------
    def _admin(self, method: str, what: str, body=None) -> dict:
        r = requests.request(method, f"{self.admin_url}/{what}", json=body, timeout=10)
        if r.status_code != 200:
            raise RuntimeError(f"sandbox HIS admin {method} {what}: {r.status_code} {r.text[:300]}")
        return r.json()

    def stats(self) -> dict:
        return self._admin("GET", "stats")

    def reset_stats(self) -> None:
        self._admin("POST", "reset-stats")

    def info(self) -> dict:
        return self._admin("GET", "info")

    def set_faults(self, *, delay_ms: int = 0, fail_status: int = 0, fail_count: int = 0) -> None:
        self._admin("POST", "faults", {"delay_ms": delay_ms, "fail_status": fail_status, "fail_count": fail_count})

    def add_fault(self, *, match: str, action: str, count: int = 1) -> dict:
        """A fault rule: ``match`` is "METHOD path-regex" (path after the FHIR
        base, e.g. "POST /$" for transactions); ``action`` one of status:NNN,
        delay:MS, lose_reply, html, invalid_json, truncate, bundle_without_ids, first_entry_only,
        huge, endless, trickle, huge_field (sandbox_his/faults.mjs)."""
        return self._admin("POST", "faults", {"match": match, "action": action, "count": count})

    def clear_faults(self) -> None:
        self._admin("DELETE", "faults")

    def register_client(self, client: dict | list[dict]) -> list[str]:
        return self._admin("POST", "clients", client)["registered"]

    def expire_tokens(self) -> int:
        return self._admin("POST", "expire-tokens")["expired"]

    def get_token(self, client_id: str | None = None, client_secret: str | None = None,
                  scope: str = "system/*.rs") -> str:
        """An access token for a secret client (the demo client by default)."""
        cid = client_id or (self.demo_client or {}).get("client_id")
        secret = client_secret or (self.demo_client or {}).get("client_secret")
        r = requests.post(self.token_url, auth=(cid, secret), timeout=10,
                          data={"grant_type": "client_credentials", "scope": scope})
        r.raise_for_status()
        return r.json()["access_token"]

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        if proc is None:
            return
        if proc.poll() is None:
            try:
                os.killpg(proc.pid, signal.SIGTERM)
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                proc.wait(timeout=5)
            except ProcessLookupError:
                proc.wait(timeout=5)
        for stream in (proc.stdin, proc.stdout):
            try:
                if stream:
                    stream.close()
            except OSError:
                pass

    def _drain_stderr(self) -> str:
        if self.proc and self.proc.poll() is not None and self.proc.stderr:
            return self.proc.stderr.read()[-2000:]
        return "".join(self._stderr_tail)[-2000:]

    def _drain_stderr_forever(self) -> None:
        proc = self.proc
        for line in proc.stderr if proc and proc.stderr else []:
            self._stderr_tail = (self._stderr_tail + [line])[-50:]

    def __enter__(self) -> "SandboxHis":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


class GatewaySimulator:
    """The BHXH gateway simulator (``python -m sandbox_bhxh``) on a random
    loopback port, for tests and the demo.

        with GatewaySimulator(token_ttl_s=2) as gw:
            config = config_from_dict({"insurance": gw.insurance_settings(tmp_dir)})
            gw.mode(slow_s=5)      # or down=True: HTTP 503
            gw.stats()["token_requests"]
    """

    def __init__(self, port: int = 0, *, slow_s: float = 0.0, down: bool = False, token_ttl_s: float = 600.0):
        self.requested_port = port
        self.args = ["--slow", str(slow_s), "--token-ttl", str(token_ttl_s)] + (["--down"] if down else [])
        self.proc: subprocess.Popen | None = None
        self.port: int | None = None
        self.stderr_tail: list[str] = []

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def admin_url(self) -> str:
        return f"{self.base_url}/__admin"

    def start(self) -> "GatewaySimulator":
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "sandbox_bhxh", "--port", str(self.requested_port), *self.args,
             "--parent-pid", str(os.getpid()), "--exit-on-stdin-close"],
            cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            start_new_session=True)
        ready: dict = {}

        def read_first_line():
            line = self.proc.stdout.readline()
            if line.strip():
                ready.update(json.loads(line))

        t = threading.Thread(target=read_first_line, daemon=True)
        t.start()
        try:
            t.join(START_TIMEOUT_S)
        except BaseException:  # a signal (Ctrl-C, the demo's SIGTERM) while it starts
            self.stop()
            raise
        if not ready:
            err = self.proc.stderr.read()[-2000:] if self.proc.poll() is not None else ""
            self.stop()
            raise RuntimeError(f"gateway simulator did not start within {START_TIMEOUT_S:.0f} s: {err}")
        self.port = ready["port"]
        threading.Thread(target=self._drain_stderr, args=(self.proc,), daemon=True).start()
        return self

    def _drain_stderr(self, proc: subprocess.Popen) -> None:
        """Keep the pipe from filling up; the last lines help when a test fails."""
        with proc.stderr:
            for line in proc.stderr:
                self.stderr_tail = (self.stderr_tail + [line])[-50:]

    def insurance_settings(self, secret_dir: str | os.PathLike, **overrides) -> dict:
        """An ``[insurance]`` table for this simulator; writes its password
        file (mode 0600) into ``secret_dir``."""
        from sandbox_bhxh.cards import demo_facility
        from sandbox_bhxh.server import PASSWORD, STAFF, USERNAME

        password_file = Path(secret_dir) / "bhxh-password"
        fd = os.open(password_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(PASSWORD + "\n")
        os.chmod(password_file, 0o600)
        staff_cccd, staff_name = next(iter(STAFF.items()))
        return {"gateway": "simulator", "base_url": self.base_url, "username": USERNAME,
                "password_file": str(password_file), "staff_name": staff_name, "staff_cccd": staff_cccd,
                "facility_code": demo_facility(), **overrides}

    # -- test controls (loopback /__admin/) -------------------------------------
    def _admin(self, action: str, **body) -> dict:
        r = requests.post(f"{self.admin_url}/{action}", json=body, timeout=5)
        r.raise_for_status()
        return r.json()

    def mode(self, *, slow_s: float = 0.0, down: bool = False, token_ttl_s: float | None = None) -> None:
        self._admin("mode", slow_s=slow_s, down=down, token_ttl_s=token_ttl_s)

    def stats(self) -> dict:
        return requests.get(f"{self.admin_url}/stats", timeout=5).json()

    def reset_stats(self) -> None:
        self._admin("reset-stats")

    def expire_tokens(self) -> None:
        """Forget every token issued so far (the next check gets a 401)."""
        self._admin("expire-tokens")

    def reject_next(self, count: int, style: str = "code") -> None:
        """Refuse the next ``count`` checks' tokens: maKetQua 401 ("code") or HTTP 401 ("http")."""
        self._admin("reject", count=count, style=style)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
                self.proc.wait(timeout=5)
            except (subprocess.TimeoutExpired, ProcessLookupError):
                try:
                    os.killpg(self.proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                self.proc.wait(timeout=5)
        for stream in (self.proc.stdin, self.proc.stdout) if self.proc else ():
            try:
                if stream:
                    stream.close()
            except OSError:
                pass
        self.proc = None

    def __enter__(self) -> "GatewaySimulator":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
