"""The shipped nginx snippet (deploy/nginx/kiosk-queue-server.conf) in front of
the queue server, run by Debian's nginx on loopback. Only what a test machine
cannot have is changed: the listen addresses (random loopback ports, TLS and
HTTP/2 kept), the certificate (a self-signed one made for the test), the log
folder and the upstream port. Checked: the file is valid, plain HTTP is
redirected to HTTPS, HTTP/2 is offered, pages and event streams pass through,
/status is closed, and nginx's logs hold no token; a slow request head is
closed at client_header_timeout and limit_conn caps one address's requests
(both shortened for the test)."""
from __future__ import annotations

import datetime
import ipaddress
import re
import shutil
import signal
import socket
import ssl
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


def _certificate(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (what the hospital's real one is in production)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sothutu.test")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_file, key_file = folder / "site.pem", folder / "site.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_file, key_file


def _adapted(folder: Path, upstream_port: int, tweaks: dict[str, str] | None = None) -> tuple[Path, int, int, Path]:
    text = SNIPPET.read_text(encoding="utf-8")
    for old, new in (tweaks or {}).items():
        assert old in text
        text = text.replace(old, new)
    redirect_port, site_port = free_port(), free_port()
    cert_file, key_file = _certificate(folder)
    text = text.replace("listen 80;", f"listen 127.0.0.1:{redirect_port};")
    assert "listen 443 ssl http2;" in text
    text = text.replace("listen 443 ssl http2;", f"listen 127.0.0.1:{site_port} ssl http2;")
    text = re.sub(r"ssl_certificate\s+[^;]+;", f"ssl_certificate {cert_file};", text)
    text = re.sub(r"ssl_certificate_key\s+[^;]+;", f"ssl_certificate_key {key_file};", text)
    text = text.replace("/var/log/nginx/", f"{folder}/").replace("127.0.0.1:8090", f"127.0.0.1:{upstream_port}")
    (folder / "site.conf").write_text(text, encoding="utf-8")
    main = folder / "nginx.conf"
    main.write_text(f"pid {folder}/nginx.pid;\nerror_log {folder}/error.log;\nevents {{}}\n"
                    f"http {{\n  access_log off;\n  client_body_temp_path {folder}/body;\n"
                    f"  proxy_temp_path {folder}/proxy;\n  include {folder}/site.conf;\n}}\n", encoding="utf-8")
    return main, site_port, redirect_port, cert_file


def _alpn(port: int, cert_file: Path) -> str | None:
    """The protocol nginx picks when a browser offers HTTP/2 and HTTP/1.1."""
    context = ssl.create_default_context(cafile=str(cert_file))
    context.set_alpn_protocols(["h2", "http/1.1"])
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
        with context.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
            return tls.selected_alpn_protocol()


def test_snippet_passes_pages_and_streams_and_keeps_tokens_out_of_its_log(server, tmp_path):
    main, port, redirect_port, cert_file = _adapted(tmp_path, server.port)
    check = subprocess.run([NGINX, "-t", "-c", str(main), "-p", str(tmp_path)], capture_output=True, text=True,
                           timeout=30)
    assert check.returncode == 0, check.stderr
    proc = subprocess.Popen([NGINX, "-c", str(main), "-p", str(tmp_path), "-g", "daemon off;"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        site = f"https://127.0.0.1:{port}"
        wait_for(lambda: _up(site, cert_file))
        assert _alpn(port, cert_file) == "h2"
        moved = requests.get(f"http://127.0.0.1:{redirect_port}/t/x", allow_redirects=False, timeout=10)
        assert moved.status_code == 301 and moved.headers["location"].startswith("https://")
        ticket = kiosk_cli(server.config, "checkin", "--id", "027185004321", "--department", "MAT", "--json")["ticket"]
        path = ticket["follow_url"].replace(server.url, "")
        page = requests.get(site + path, timeout=10, verify=str(cert_file))
        assert page.status_code == 200 and ticket["label"] in page.text
        started = time.monotonic()
        with requests.get(site + path + "/events", stream=True, timeout=(5, 10), verify=str(cert_file)) as stream:
            assert stream.headers["content-type"].startswith("text/event-stream")
            first = next(line for line in stream.iter_lines(decode_unicode=True) if line.startswith("data:"))
        assert ticket["label"] in first and time.monotonic() - started < 10  # the event came through at once
        assert requests.get(site + "/status", timeout=10, verify=str(cert_file)).status_code == 404  # for IT on the server only
    finally:
        proc.send_signal(signal.SIGQUIT)
        proc.wait(timeout=15)
    log = (tmp_path / "kiosk-queue.access.log").read_text(encoding="utf-8")
    token = path.split("/")[2]
    assert " /t/... " in log and " /t/.../events " in log
    assert token not in log and token not in (tmp_path / "kiosk-queue.error.log").read_text(encoding="utf-8")


def _up(site: str, cert_file: Path) -> bool:
    try:
        return requests.get(site + "/health", timeout=2, verify=str(cert_file)).status_code == 200
    except requests.exceptions.ConnectionError:
        return False


def test_snippet_closes_slow_heads_and_caps_one_address(server, tmp_path):
    main, port, redirect_port, cert_file = _adapted(tmp_path, server.port, {
        "client_header_timeout 10s;": "client_header_timeout 2s;",
        "limit_conn kiosk_queue_conn 64;": "limit_conn kiosk_queue_conn 2;"})
    proc = subprocess.Popen([NGINX, "-c", str(main), "-p", str(tmp_path), "-g", "daemon off;"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    streams = []
    try:
        site = f"https://127.0.0.1:{port}"
        wait_for(lambda: _up(site, cert_file))
        with socket.create_connection(("127.0.0.1", redirect_port), timeout=15) as slow:
            slow.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
            started = time.monotonic()
            try:
                answer = slow.recv(4096)
            except ConnectionResetError:
                answer = b""
            took = time.monotonic() - started
        assert 1.5 <= took <= 8 and (answer == b"" or b" 408 " in answer)  # closed at client_header_timeout
        for _ in range(2):
            streams.append(requests.get(site + "/board-events/NOI", stream=True, timeout=10, verify=str(cert_file)))
        assert [r.status_code for r in streams] == [200, 200]
        third = requests.get(site + "/board-events/NOI", stream=True, timeout=10, verify=str(cert_file))
        assert third.status_code == 429  # limit_conn: this address has 2 requests in progress
        third.close()
    finally:
        for r in streams:
            r.close()
        proc.send_signal(signal.SIGQUIT)
        proc.wait(timeout=15)
