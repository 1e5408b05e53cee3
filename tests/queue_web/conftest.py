"""The queue service under test: ``kiosk queue-server`` started as its own
process on a random loopback port (``--port 0``; it prints its address),
against a sandbox HIS started by the tests; pages checked in Debian's headless
Chromium through Selenium and chromedriver (never a downloaded browser)."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import requests

from kiosk.board.follow import write_secret

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run", "--hide-scrollbars",
                  "--autoplay-policy=no-user-gesture-required", "--mute-audio"]


def write_config(folder: Path, base_url: str, *, queue_web: dict | None = None, board: dict | None = None,
                 secret: Path | None = None, metrics: dict | None = None) -> Path:
    """A kiosk.toml for the server, the kiosk CLI and call-next (one file for all, as in a hospital)."""
    qw = {"public_base_url": "http://127.0.0.1:9", **(queue_web or {})}
    if secret is not None:
        qw["token_secret_file"] = str(secret)
    b = {"voice_driver": "simulator", "poll_interval_s": 0.3, **(board or {})}

    def table(name: str, values: dict) -> str:
        return f"[{name}]\n" + "".join(f"{k} = {json.dumps(v)}\n" for k, v in values.items())

    text = "\n".join([table("kiosk", {"data_dir": str(folder / "data"), "repeat_visits": "allow"}),
                      table("his", {"base_url": base_url, "connect_timeout_s": 2.0, "read_timeout_s": 5.0}),
                      table("board", b), table("queue_web", qw), table("logging", {"format": "json"}),
                      *([table("metrics", metrics)] if metrics else [])])
    path = folder / "kiosk.toml"
    path.write_text(text, encoding="utf-8")
    return path


class QueueServer:
    """``kiosk queue-server`` in its own process; its stderr (the log) is kept."""

    def __init__(self, config: Path):
        self.config = config
        self.proc: subprocess.Popen | None = None
        self.url = ""
        self.port = 0
        self.log_lines: list[str] = []

    def start(self) -> "QueueServer":
        self.proc = subprocess.Popen([sys.executable, "-m", "app", "queue-server", "--config", str(self.config),
                                      "--port", "0"], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True, start_new_session=True)
        threading.Thread(target=self._drain, daemon=True).start()
        ready: dict = {}
        reader = threading.Thread(target=lambda: ready.update(json.loads(self.proc.stdout.readline() or "{}")),
                                  daemon=True)
        reader.start()
        reader.join(60)
        if not ready:
            self.stop()
            raise RuntimeError("queue server did not start:\n" + self.log_text()[-3000:])
        self.url, self.port = ready["url"], ready["port"]
        return self

    def _drain(self) -> None:
        for line in self.proc.stderr:
            self.log_lines.append(line)

    def log_text(self) -> str:
        return "".join(self.log_lines)

    def get(self, path: str, **kw) -> requests.Response:
        return requests.get(self.url + path, timeout=kw.pop("timeout", 15), **kw)

    def status(self) -> dict:
        return self.get("/status").json()

    def feed(self, key: str) -> dict:
        return next((f for f in self.status()["feeds"] if f["key"] == key), {})

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        self.proc = None


def kiosk_cli(config: Path, *args: str) -> dict:
    """Run a ``kiosk`` command with the test config; its JSON answer."""
    out = subprocess.run([sys.executable, "-m", "app", *args, "--config", str(config)], cwd=ROOT,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def wait_for(predicate, timeout: float = 60.0, every: float = 0.1):
    """Poll ``predicate`` until it gives a true value (the timeout only ends a hung test)."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        time.sleep(every)


@pytest.fixture(scope="module")
def his():
    from app.sandbox import SandboxHis

    sandbox = SandboxHis(port=0).start()
    yield sandbox
    sandbox.stop()


@pytest.fixture(scope="module")
def secret(tmp_path_factory) -> Path:
    return write_secret(tmp_path_factory.mktemp("secret") / "queue-token.secret")


@pytest.fixture(scope="module")
def server(his, secret, tmp_path_factory):
    folder = tmp_path_factory.mktemp("queue")
    srv = start_server(folder, his, secret)
    yield srv
    srv.stop()


def start_server(folder: Path, his, secret: Path, **settings) -> QueueServer:
    """A server for ``his``; the config then names the server's own address as
    ``public_base_url``, so tickets checked in with it link to this server."""
    config = write_config(folder, his.base_url, secret=secret, **settings)
    srv = QueueServer(config).start()
    qw = {**settings.get("queue_web", {}), "public_base_url": srv.url}
    write_config(folder, his.base_url, secret=secret, **{**settings, "queue_web": qw})
    return srv


class Browser:
    """One headless Chromium for the session; ``size`` emulates a screen or a phone."""

    def __init__(self):
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service

        options = webdriver.ChromeOptions()
        options.binary_location = CHROMIUM
        for flag in CHROMIUM_FLAGS:
            options.add_argument(flag)
        self.driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))

    def size(self, width: int, height: int, *, phone: bool = False) -> None:
        self.driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
            "width": width, "height": height, "deviceScaleFactor": 2 if phone else 1, "mobile": phone})

    def open(self, url: str) -> None:
        self.driver.get(url)

    def js(self, script: str):
        return self.driver.execute_script(script)

    def text(self) -> str:
        return self.js("return document.body.innerText")

    def html(self) -> str:
        return self.driver.page_source

    def screenshot(self, path: Path) -> bytes:
        png = self.driver.get_screenshot_as_png()
        path.write_bytes(png)
        return png

    def quit(self) -> None:
        self.driver.quit()


@pytest.fixture(scope="session")
def browser():
    if not (os.path.exists(CHROMIUM) and shutil.which(CHROMEDRIVER)):
        pytest.fail("Debian's chromium and chromium-driver are needed (make apt installs them)")
    b = Browser()
    yield b
    b.quit()
