"""The sandbox HIS: Medplum's FHIR engine (npm) behind ``sandbox_his/server.mjs``;
and the BHXH gateway simulator (``sandbox_bhxh``), see ``GatewaySimulator``.

For tests and the demo. Listens on 127.0.0.1 only, on the given port or a free
one, keeps everything in memory, and is seeded with the demo hospital.

    with SandboxHis() as his:
        print(his.base_url)
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import requests

from kiosk.config import HisSection
from kiosk.errors import ConfigError
from app.sandbox_seed import build_seed_bundle

ROOT = Path(__file__).resolve().parent.parent
SERVER_DIR = ROOT / "sandbox_his"
NODE = SERVER_DIR / "node_modules" / ".bin" / "node"
START_TIMEOUT_S = 30.0


def _resolve_refs(node, resolved: dict[str, str]):
    if isinstance(node, dict):
        return {k: (resolved.get(v, v) if k == "reference" else _resolve_refs(v, resolved))
                for k, v in node.items()}
    if isinstance(node, list):
        return [_resolve_refs(v, resolved) for v in node]
    return node


class SandboxHis:
    def __init__(self, port: int = 0, *, seed: bool | str = True, timezone: str = "Asia/Ho_Chi_Minh",
                 his: HisSection | None = None):
        self.requested_port = port
        self.seed_source = seed
        self.tz = ZoneInfo(timezone)
        self.his = his or HisSection()
        self.proc: subprocess.Popen | None = None
        self.port: int | None = None
        self._stderr_tail: list[str] = []

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/fhir/R4"

    @property
    def admin_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/__admin"

    def start(self) -> "SandboxHis":
        if not NODE.exists():
            raise ConfigError(f"sandbox HIS not installed: {NODE} is missing (run `make install`)")
        self.proc = subprocess.Popen(
            [str(NODE), "server.mjs", "--port", str(self.requested_port), "--base", "/fhir/R4"],
            cwd=SERVER_DIR, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            start_new_session=True)
        ready: dict = {}

        def read_first_line():
            line = self.proc.stdout.readline()
            if line:
                ready.update(json.loads(line))

        t = threading.Thread(target=read_first_line, daemon=True)
        t.start()
        t.join(START_TIMEOUT_S)
        if not ready:
            err = self._drain_stderr()
            self.stop()
            raise RuntimeError(f"sandbox HIS did not start within {START_TIMEOUT_S:.0f} s: {err}")
        self.port = ready["port"]
        threading.Thread(target=self._drain_stderr_forever, daemon=True).start()
        if self.seed_source:
            self.seed(None if self.seed_source is True else str(self.seed_source))
        return self

    def seed(self, demo_path: str | None = None) -> None:
        day = datetime.now(self.tz).date()
        bundle = build_seed_bundle(self.his, day, self.tz, demo_path)
        # One conditional create per resource, in order (the engine refuses
        # large transactions), resolving the bundle's urn:uuid references.
        resolved: dict[str, str] = {}
        with requests.Session() as http:
            for entry in bundle["entry"]:
                res = _resolve_refs(entry["resource"], resolved)
                r = http.post(f"{self.base_url}/{res['resourceType']}", json=res, timeout=30, headers={
                    "Content-Type": "application/fhir+json",
                    "If-None-Exist": entry["request"]["ifNoneExist"]})
                r.raise_for_status()
                body = r.json()
                resolved[entry["fullUrl"]] = f"{body['resourceType']}/{body['id']}"

    # -- test helpers -------------------------------------------------------------
    def stats(self) -> dict:
        return requests.get(f"{self.admin_url}/stats", timeout=5).json()

    def reset_stats(self) -> None:
        requests.post(f"{self.admin_url}/reset-stats", timeout=5)

    def set_faults(self, *, delay_ms: int = 0, fail_status: int = 0, fail_count: int = 0) -> None:
        requests.post(f"{self.admin_url}/faults", timeout=5, json={
            "delay_ms": delay_ms, "fail_status": fail_status, "fail_count": fail_count})

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
        self.proc = None

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
            [sys.executable, "-m", "sandbox_bhxh", "--port", str(self.requested_port), *self.args],
            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
        ready: dict = {}

        def read_first_line():
            line = self.proc.stdout.readline()
            if line.strip():
                ready.update(json.loads(line))

        t = threading.Thread(target=read_first_line, daemon=True)
        t.start()
        t.join(START_TIMEOUT_S)
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
        if self.proc and self.proc.stdout:
            self.proc.stdout.close()
        self.proc = None

    def __enter__(self) -> "GatewaySimulator":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
