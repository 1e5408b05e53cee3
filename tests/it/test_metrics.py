"""Metrics registry and the localhost Prometheus endpoint, scraped over real HTTP."""
from __future__ import annotations

import pytest
import requests
from helpers import free_port, make_config
from prometheus_client.parser import text_string_to_metric_families

from app.metrics_http import MetricsServer, start_metrics_server
from kiosk.operations import metrics
from kiosk.operations.metrics import Registry


def samples(text: str) -> dict[tuple, float]:
    """{(sample name, sorted labels): value} of a Prometheus text exposition."""
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def test_counters_gauges_histograms_render_in_prometheus_text():
    reg = Registry(buckets=(0.1, 1.0))
    reg.inc(metrics.CHECKINS, mode="online")
    reg.inc(metrics.CHECKINS, mode="online")
    reg.inc(metrics.CHECKINS, mode="offline")
    reg.set(metrics.OUTBOX_BACKLOG, 3)
    reg.observe(metrics.HIS_REQUEST_SECONDS, 0.05)
    reg.observe(metrics.HIS_REQUEST_SECONDS, 0.5)
    text = reg.render()
    assert "# TYPE kiosk_checkins_total counter" in text and "# TYPE kiosk_his_request_seconds histogram" in text
    got = samples(text)
    assert got[("kiosk_checkins_total", (("mode", "online"),))] == 2
    assert got[("kiosk_checkins_total", (("mode", "offline"),))] == 1
    assert got[("kiosk_outbox_backlog", ())] == 3
    assert got[("kiosk_his_request_seconds_bucket", (("le", "0.1"),))] == 1
    assert got[("kiosk_his_request_seconds_bucket", (("le", "1.0"),))] == 2
    assert got[("kiosk_his_request_seconds_bucket", (("le", "+Inf"),))] == 2
    assert got[("kiosk_his_request_seconds_sum", ())] == pytest.approx(0.55)
    assert got[("kiosk_his_request_seconds_count", ())] == 2
    assert "_created" not in text  # no doubled counter lines


def test_the_declared_names_and_labels_are_the_ones_dashboards_scrape():
    reg = Registry()
    with pytest.raises(ValueError, match="takes labels mode"):
        reg.inc(metrics.CHECKINS, room="P101")  # a typo in a label would split the series


def test_types_are_enforced_and_counters_only_go_up():
    reg = Registry()
    with pytest.raises(ValueError):
        reg.set(metrics.CHECKINS, 1)
    with pytest.raises(ValueError):
        reg.inc(metrics.CHECKINS, -1)
    custom = metrics.Metric("custom_gauge", metrics.GAUGE, "a gauge of a test", ("room",))
    custom.set(2, registry=reg, room="P101")
    assert reg.value(custom, room="P101") == 2


def test_metrics_are_named_by_their_declared_objects_not_by_strings():
    reg = Registry()
    with pytest.raises(TypeError, match="declared once as Metric objects"):
        reg.inc("kiosk_checkins_total", mode="online")
    assert reg.value("kiosk_checkins_total", mode="online") is None  # reading by name stays possible
    names = [m.name for m in metrics.KNOWN]
    assert len(names) == len(set(names)) and "kiosk_checkins_total" in names and "kiosk_up" in names


def test_label_values_are_escaped():
    reg = Registry()
    metrics.DEVICE_UP.set(1, registry=reg, device='a"b\\c')
    assert samples(reg.render())[("kiosk_device_up", (("device", 'a"b\\c'),))] == 1


def test_endpoint_serves_the_registry_on_localhost():
    reg = Registry()
    with MetricsServer(0, reg) as server:
        assert server.url.startswith("http://127.0.0.1:")
        reg.inc(metrics.PRINT_FAILURES)
        r = requests.get(server.url, timeout=5)
        assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/plain; version=0.0.4")
        assert samples(r.text)[("kiosk_print_failures_total", ())] == 1
        assert requests.get(server.url.replace("/metrics", "/other"), timeout=5).status_code == 404


def test_off_by_default_and_started_from_config():
    assert start_metrics_server(make_config()) is None
    port = free_port()
    reg = Registry()
    server = start_metrics_server(make_config(metrics={"enabled": True, "port": port}, kiosk={"id": "K-9"}), reg)
    try:
        text = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
        got = samples(text)
        info = [labels for (name, labels) in got if name == "kiosk_info"]
        assert got[("kiosk_up", ())] == 1 and len(info) == 1
        # the kiosk label existing scrapes use is still there; version and config_hash came beside it
        assert dict(info[0])["kiosk"] == "K-9" and set(dict(info[0])) == {"kiosk", "version", "config_hash"}
        # a second kiosk process on the same port: logged, not fatal
        assert start_metrics_server(make_config(metrics={"enabled": True, "port": port}), Registry()) is None
    finally:
        server.stop()


def test_module_level_helpers_use_the_shared_registry():
    before = metrics.REGISTRY.value("kiosk_checkins_total", mode="online") or 0
    metrics.CHECKINS.inc(mode="online")
    metrics.set_paper_state("paper_low")
    metrics.HIS_REQUEST_SECONDS.observe(0.2)
    assert metrics.REGISTRY.value("kiosk_checkins_total", mode="online") == before + 1
    assert metrics.REGISTRY.value("kiosk_printer_paper") == 1


def test_collectors_refresh_gauges_at_scrape_time_and_a_broken_one_is_skipped():
    reg = Registry()
    backlog = [2]
    reg.register_collector(lambda: reg.set(metrics.OUTBOX_BACKLOG, backlog[0]))
    reg.register_collector(lambda: 1 / 0)
    with MetricsServer(0, reg) as server:
        assert samples(requests.get(server.url, timeout=5).text)[("kiosk_outbox_backlog", ())] == 2
        backlog[0] = 5
        assert samples(requests.get(server.url, timeout=5).text)[("kiosk_outbox_backlog", ())] == 5
