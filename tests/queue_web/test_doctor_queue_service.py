"""`kiosk doctor` on a kiosk whose tickets carry a phone link: the queue
service answers at queue_web.public_base_url and accepts the kiosk's links;
another key, a wrong address or a stopped service are named with the fix."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from kiosk.board.follow import write_secret
from tests.queue_web.conftest import ROOT, write_config

pytestmark = pytest.mark.integration


def doctor(config) -> dict[str, dict]:
    out = subprocess.run([sys.executable, "-m", "app", "doctor", "--json", "--only", "queue_web",
                          "--config", str(config)], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.stderr == "" or "Traceback" not in out.stderr, out.stderr
    return {c["name"]: c for c in json.loads(out.stdout)["checks"] if c["name"].startswith("queue_web")}


def test_the_doctor_checks_the_phone_links_the_tickets_carry(server, his, secret, tmp_path):
    # The kiosk with the server's key: both OK.
    kiosk = tmp_path / "kiosk"
    kiosk.mkdir()
    config = write_config(kiosk, his.base_url, secret=secret, queue_web={"public_base_url": server.url})
    checks = doctor(config)
    assert checks["queue_web"]["status"] == "OK" and server.url in checks["queue_web"]["detail"]
    assert checks["queue_web.links"]["status"] == "OK"

    # A kiosk given another key: its patients' links would say "not found".
    other = write_secret(tmp_path / "other.secret")
    config = write_config(kiosk, his.base_url, secret=other, queue_web={"public_base_url": server.url})
    checks = doctor(config)
    assert checks["queue_web"]["status"] == "OK"
    links = checks["queue_web.links"]
    assert links["status"] == "FAIL" and "token_secret_file" in links["fix"]

    # An address where something else answers.
    config = write_config(kiosk, his.base_url, secret=secret,
                          queue_web={"public_base_url": server.url + "/elsewhere"})
    checks = doctor(config)
    assert checks["queue_web"]["status"] == "FAIL" and "HTTP 404" in checks["queue_web"]["detail"]
    assert "public_base_url" in checks["queue_web"]["fix"]


def test_a_queue_service_that_does_not_answer_is_a_warning_with_what_to_look_at(his, secret, tmp_path):
    import socket

    with socket.socket() as s:  # a free port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    config = write_config(tmp_path, his.base_url, secret=secret,
                          queue_web={"public_base_url": f"http://127.0.0.1:{port}"})
    checks = doctor(config)
    assert checks["queue_web"]["status"] == "WARN"
    assert "kiosk queue-server" in checks["queue_web"]["fix"] and "queue_web.links" not in checks


def test_a_kiosk_without_phone_links_has_no_queue_service_check(his, tmp_path):
    config = tmp_path / "kiosk.toml"
    config.write_text(f'[kiosk]\ndata_dir = "{tmp_path / "data"}"\n[his]\nbase_url = "{his.base_url}"\n',
                      encoding="utf-8")
    assert doctor(config) == {}
