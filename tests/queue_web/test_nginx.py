"""The shipped nginx snippet (deploy/nginx/kiosk-queue-server.conf) in front of
the queue server, run by Debian's nginx on loopback. Only what a test machine
cannot have is changed: the listen ports (random loopback ports, plain HTTP
instead of TLS), the log folder and the upstream port. Checked: the file is
valid, pages and event streams pass through, /status is closed, and nginx's
logs hold no token."""
from __future__ import annotations

import re
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest
import requests

from tests.helpers import free_port
from tests.queue_web.conftest import ROOT, kiosk_cli, wait_for

pytestmark = pytest.mark.integration
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
SNIPPET = ROOT / "deploy" / "nginx" / "kiosk-queue-server.conf"


def _adapted(folder: Path, upstream_port: int) -> tuple[Path, int]:
    text = SNIPPET.read_text(encoding="utf-8")
    redirect_port, site_port = free_port(), free_port()
    text = text.replace("listen 80;", f"listen 127.0.0.1:{redirect_port};")
    text = re.sub(r"listen 443 ssl http2;[^\n]*", f"listen 127.0.0.1:{site_port};", text)
    text = re.sub(r"\n\s*ssl_certificate(_key)?\s[^\n]*", "", text)
    text = text.replace("/var/log/nginx/", f"{folder}/").replace("127.0.0.1:8090", f"127.0.0.1:{upstream_port}")
    assert "ssl" not in text.split("server {", 2)[2].split("location")[0]  # nothing of TLS left in the site block
    (folder / "site.conf").write_text(text, encoding="utf-8")
    main = folder / "nginx.conf"
    main.write_text(f"pid {folder}/nginx.pid;\nerror_log {folder}/error.log;\nevents {{}}\n"
                    f"http {{\n  access_log off;\n  client_body_temp_path {folder}/body;\n"
                    f"  proxy_temp_path {folder}/proxy;\n  include {folder}/site.conf;\n}}\n", encoding="utf-8")
    return main, site_port


def test_snippet_passes_pages_and_streams_and_keeps_tokens_out_of_its_log(server, tmp_path):
    main, port = _adapted(tmp_path, server.port)
    check = subprocess.run([NGINX, "-t", "-c", str(main), "-p", str(tmp_path)], capture_output=True, text=True,
                           timeout=30)
    assert check.returncode == 0, check.stderr
    proc = subprocess.Popen([NGINX, "-c", str(main), "-p", str(tmp_path), "-g", "daemon off;"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        site = f"http://127.0.0.1:{port}"
        wait_for(lambda: _up(site))
        ticket = kiosk_cli(server.config, "checkin", "--id", "027185004321", "--department", "MAT", "--json")["ticket"]
        path = ticket["follow_url"].replace(server.url, "")
        page = requests.get(site + path, timeout=10)
        assert page.status_code == 200 and ticket["label"] in page.text
        started = time.monotonic()
        with requests.get(site + path + "/events", stream=True, timeout=(5, 10)) as stream:
            assert stream.headers["content-type"].startswith("text/event-stream")
            first = next(line for line in stream.iter_lines(decode_unicode=True) if line.startswith("data:"))
        assert ticket["label"] in first and time.monotonic() - started < 10  # the event came through at once
        assert requests.get(site + "/status", timeout=10).status_code == 404  # for IT on the server only
    finally:
        proc.send_signal(signal.SIGQUIT)
        proc.wait(timeout=15)
    log = (tmp_path / "kiosk-queue.access.log").read_text(encoding="utf-8")
    token = path.split("/")[2]
    assert " /t/... " in log and " /t/.../events " in log
    assert token not in log and token not in (tmp_path / "kiosk-queue.error.log").read_text(encoding="utf-8")


def _up(site: str) -> bool:
    try:
        return requests.get(site + "/health", timeout=2).status_code == 200
    except requests.exceptions.ConnectionError:
        return False
