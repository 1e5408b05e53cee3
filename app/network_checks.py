"""The doctor's checks that go over the network on this machine: the kiosk's own
/metrics endpoint, and the queue service the tickets' phone links lead to.
(The HIS's and the BHXH gateway's checks live in their adapters.)
"""
from __future__ import annotations

import urllib.error
import urllib.request
import uuid

from kiosk.board.follow import follow_links
from kiosk.clock import SystemClock
from kiosk.config.loader import Config
from kiosk.operations.diagnostics import FAIL, OK, WARN, Check

# --- metrics endpoint ----------------------------------------------------------

def check_metrics(config: Config) -> list[Check]:
    """When ``[metrics]`` is on, whether the running kiosk serves /metrics."""
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


# --- kiosk doctor: do the links this kiosk prints open? ------------------------------

def check_queue_web(config: Config, timeout_s: float = 3.0) -> list[Check]:
    """When tickets carry a phone link (``queue_web.public_base_url``): whether
    the queue service answers at that address, and accepts this kiosk's links
    (a link for a made-up check-in, signed with this kiosk's key: the service
    shows it as "not in the HIS yet"; another key or another day gives 404)."""
    base = config.queue_web.public_base_url.rstrip("/")
    if not base:
        return [Check("queue_web", OK, "tickets carry no phone link (queue_web.public_base_url is not set)")]
    try:
        with urllib.request.urlopen(f"{base}/health", timeout=timeout_s) as r:
            healthy = r.status == 200 and r.read(100).strip() == b"ok"
    except urllib.error.HTTPError as exc:
        return [Check("queue_web", FAIL, f"{base}/health answered HTTP {exc.code}: the tickets' phone links lead "
                      "elsewhere", "check queue_web.public_base_url and the reverse proxy's location for the queue "
                      "service (deploy/nginx/kiosk-queue-server.conf)")]
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        return [Check("queue_web", WARN, f"the queue service does not answer at {base} from this kiosk "
                      f"({type(reason).__name__}): the tickets' phone links may not open",
                      "is `kiosk queue-server` running (systemctl status kiosk-queue-server) and is the address "
                      "reachable? Patients' phones open this address")]
    if not healthy:
        return [Check("queue_web", FAIL, f"{base}/health answers, but not as the queue service",
                      "check queue_web.public_base_url and the reverse proxy")]
    today = SystemClock(config.kiosk.timezone).now().date()
    link = follow_links(config.queue_web).url_for(str(uuid.uuid4()), today)
    try:
        with urllib.request.urlopen(link, timeout=timeout_s) as r:
            accepted = r.status == 200
    except urllib.error.HTTPError as exc:
        accepted = False
        if exc.code != 404:
            return [Check("queue_web.links", FAIL, f"the queue service answered a ticket link with HTTP {exc.code}",
                          "see the queue server's log (journalctl -u kiosk-queue-server)")]
    except (urllib.error.URLError, OSError) as exc:
        return [Check("queue_web.links", WARN, f"a ticket link was not answered ({type(exc).__name__})",
                      "see the queue server's log (journalctl -u kiosk-queue-server)")]
    checks = [Check("queue_web", OK, f"the queue service answers at {base}")]
    if accepted:
        checks.append(Check("queue_web.links", OK, "the queue service accepts this kiosk's ticket links"))
    else:
        checks.append(Check("queue_web.links", FAIL, "the queue service refuses this kiosk's ticket links: patients "
                            "who scan their ticket get \"not found\"",
                            "queue_web.token_secret_file must hold the same key here as on the queue server "
                            "(copy the file, mode 0600), and both clocks must show the same day"))
    return checks
