"""The BHYT card check through the real kiosk window (offscreen Qt, the real
controller) with the BHXH gateway simulator and the sandbox HIS, both started
by the tests on random loopback ports: valid (one Coverage, referenced by the
visit, reused by the next), expired with `counter` and with `fee`, a new card,
another facility, the gateway slow past the timeout or down (the check is
made later), an offline check-in then sync, and no personal data in the logs.
The pictures of the README's BHYT section are saved here (`make screenshots`)."""
from __future__ import annotations

import io
import logging
from datetime import date

import pytest

from app.sandbox import GatewaySimulator, SandboxHis
from fhir_his.client import FhirClient
from fhir_his.coverage import coverage_of
from kiosk.demo_data import demo_person
from kiosk.operations.logs import setup_logging
from tests.helpers import docs_images, make_config
from tests.ui.test_screens import layout_problems

pytestmark = pytest.mark.integration
YEAR = date.today().year
IMAGES = docs_images()


@pytest.fixture(scope="module")
def sandbox():
    """A HIS of this module's own: its tests use up the demo appointments in order."""
    with SandboxHis(port=0) as his:
        yield his


@pytest.fixture(scope="module")
def gateway():
    with GatewaySimulator(port=0) as sim:
        yield sim


@pytest.fixture
def on_invalid():
    return "counter"


@pytest.fixture
def insurance_timeout_s():
    return 3.0


@pytest.fixture
def flow():
    return "short"


@pytest.fixture
def kiosk_config(sandbox, gateway, tmp_path, on_invalid, insurance_timeout_s, flow):
    gateway.mode()
    return make_config(sandbox.base_url, kiosk={"data_dir": str(tmp_path / "data"), "idle_timeout_s": 60.0,
                                                "flow": flow},
                       card_reader={"driver": "simulator"}, camera={"driver": "simulator"},
                       printer={"driver": "simulator"}, offline={"go_offline_after_s": 3.0},
                       insurance=gateway.insurance_settings(tmp_path, on_invalid=on_invalid,
                                                            timeout_s=insurance_timeout_s, retry_base_s=0.5,
                                                            retry_max_s=1.0))


def his_client(kiosk) -> FhirClient:
    return FhirClient(kiosk.services.config.his)


def coverages(kiosk, card: str) -> list[dict]:
    his = kiosk.services.config.his
    return his_client(kiosk).search("Coverage", {"identifier": f"{his.bhyt_system}|{card}"})[0]


def visit_coverage(kiosk, encounter_id: str) -> str | None:
    return coverage_of(his_client(kiosk).read("Encounter", encounter_id).body, kiosk.services.config.his)


def shoot(kiosk, name: str) -> None:
    kiosk.qtbot.wait(100)  # a line that has just changed gets its layout first
    kiosk.shoot(IMAGES / "screens" / f"{name}_portrait.png")


def save_ticket(kiosk, name: str) -> None:
    (IMAGES / f"{name}.png").write_bytes(kiosk.printer.last_png())


def finish(kiosk) -> None:
    kiosk.tap(kiosk.screen("done").finish)
    kiosk.wait_step("welcome")


def test_a_valid_card_is_shown_printed_recorded_once_and_reused_by_the_next_visit(kiosk):
    kiosk.insert("an")
    kiosk.wait_step("need_key")
    kiosk.show_qr("an")
    kiosk.wait_step("appointment")
    line = kiosk.screen("appointment").who.coverage
    assert line.isVisible() and line.text() == f"✓ Thẻ BHYT hợp lệ đến 31/12/{YEAR}"
    shoot(kiosk, "appointment_bhyt_valid")
    kiosk.tap(kiosk.screen("appointment").confirm)  # no extra tap for the card check
    kiosk.wait_step("done")
    first = kiosk.journey.result
    assert first.ticket.insurance_status == "valid"
    save_ticket(kiosk, "ticket-bhyt-valid")
    [cov] = coverages(kiosk, "DN4272793012345")
    assert cov["status"] == "active" and visit_coverage(kiosk, first.encounter_id) == cov["id"]
    finish(kiosk)
    kiosk.remove()
    kiosk.qtbot.wait(int((kiosk.camera.repeat_after_s + 1) * 1000))  # the camera reports a code again only
    kiosk.show_qr("an")  # once it has been out of view: the same patient again today, a walk-in now
    kiosk.wait_step("department")
    kiosk.tap(kiosk.screen("department").buttons[0])
    kiosk.wait_step("done")
    second = kiosk.journey.result
    [again] = coverages(kiosk, "DN4272793012345")
    assert again["meta"]["versionId"] == cov["meta"]["versionId"]
    assert visit_coverage(kiosk, second.encounter_id) == cov["id"]


def test_an_expired_card_with_counter_sends_the_patient_to_the_desk_and_registers_nothing(kiosk, sandbox):
    before = sandbox.stats()["byResource"].get("POST (transaction)", 0) + sandbox.stats()["byResource"].get(
        "POST Encounter", 0)
    kiosk.show_qr("nhung")
    kiosk.wait_step("insurance")
    screen = kiosk.screen("insurance")
    assert screen.title.text() == "Vui lòng đến quầy tiếp đón"
    assert screen.message.text().startswith("Thẻ bảo hiểm y tế đã hết hạn")
    assert screen.finish.isVisible() and not screen.accept.isVisible()
    assert kiosk.journey.identity is None and kiosk.journey.lookup is None and kiosk.journey.coverage is None
    assert "ĐẶNG THỊ HỒNG NHUNG" not in kiosk.texts() and "1122" not in kiosk.texts()
    shoot(kiosk, "insurance_counter")
    kiosk.tap(screen.finish)
    kiosk.wait_step("welcome")
    after = sandbox.stats()["byResource"].get("POST (transaction)", 0) + sandbox.stats()["byResource"].get(
        "POST Encounter", 0)
    assert after == before and coverages(kiosk, "SV4012799001122") == []


@pytest.mark.parametrize("on_invalid", ["fee"])
def test_an_expired_card_with_fee_takes_one_tap_and_the_ticket_says_fee_paying(kiosk):
    kiosk.show_qr("nhung")
    kiosk.wait_step("insurance")
    screen = kiosk.screen("insurance")
    assert screen.title.text() == "Thẻ BHYT chưa dùng được" and screen.accept.isVisible()
    shoot(kiosk, "insurance_fee")
    kiosk.tap(screen.accept)  # the one extra tap
    kiosk.wait_step("appointment")
    assert kiosk.screen("appointment").who.coverage.text() == "Khám dịch vụ (không dùng BHYT)"
    shoot(kiosk, "appointment_bhyt_fee")
    kiosk.tap(kiosk.screen("appointment").confirm)
    kiosk.wait_step("done")
    result = kiosk.journey.result
    assert result.ticket.insurance_status == "fee"
    save_ticket(kiosk, "ticket-bhyt-fee")
    [cov] = coverages(kiosk, "SV4012799001122")
    assert cov["status"] == "cancelled" and visit_coverage(kiosk, result.encounter_id) is None


@pytest.mark.parametrize("person, card, status, line", [
    ("minh", "DN4363690005555", "new_card", f"✓ Đã có thẻ BHYT mới, hợp lệ đến 31/12/{YEAR + 1}"),
    ("ngoc", "GD4272785004321", "valid_elsewhere",
     f"Thẻ BHYT hợp lệ đến 31/12/{YEAR}, đăng ký khám ban đầu ở nơi khác")])
def test_a_new_card_and_another_facility_are_valid_and_say_so(kiosk, person, card, status, line):
    kiosk.show_qr(person)  # minh has two records in the HIS: the card's date of birth picks his
    kiosk.wait_step("department")
    assert kiosk.screen("department").who.coverage.text() == line
    shoot(kiosk, f"department_bhyt_{status}")
    kiosk.tap(kiosk.screen("department").buttons[0])
    kiosk.wait_step("done")
    result = kiosk.journey.result
    assert result.ticket.insurance_status == status
    [cov] = coverages(kiosk, card)
    assert visit_coverage(kiosk, result.encounter_id) == cov["id"]
    if status == "new_card":
        assert cov["period"] == {"start": f"{YEAR}-01-01", "end": f"{YEAR + 1}-12-31"}
    else:
        assert "01009" in str(cov["extension"])


@pytest.mark.parametrize("flow", ["step_by_step"])
def test_the_step_by_step_confirm_screen_shows_the_card_check(kiosk):
    kiosk.show_qr("linh")
    kiosk.wait_step("confirm_identity")
    screen = kiosk.screen("confirm")
    kiosk.qtbot.waitUntil(lambda: any("Thẻ BHYT hợp lệ" in value.text() for _, value in screen.rows))
    kiosk.qtbot.wait(100)
    assert layout_problems(kiosk.window) == []  # the row added while the screen is shown gets its height
    shoot(kiosk, "confirm_bhyt_valid")
    kiosk.tap(screen.yes)
    kiosk.wait_step("department")
    assert kiosk.screen("department").who.coverage.text().startswith("✓ Thẻ BHYT hợp lệ")
    assert not kiosk.screen("department").who.text.isVisible()  # who the patient is: on the confirm screen


# --- the gateway slow or down, the HIS offline: the check-in goes on, the BHYT work follows -----------------

TEST_PERSON = {"citizen_id": "099900000000", "old_id": "", "full_name": "NGUYỄN VĂN THỬ", "birth_date": "1980-01-01",
               "sex": "Nam", "address": "Thôn Thử, Xã Mẫu, Tỉnh Giả Lập", "issue_date": "2021-01-01"}


@pytest.fixture
def logs(caplog):
    """Every log line of the test as the kiosk writes it (JSON, DEBUG) and the kiosk's raw records."""
    stream = io.StringIO()
    handler = setup_logging(make_config(logging={"level": "DEBUG", "format": "json"}), stream=stream)
    caplog.set_level(logging.DEBUG)
    yield lambda: stream.getvalue() + "\n".join(
        f"{r.getMessage()} {vars(r)}" for r in caplog.records if r.name.split(".")[0] in ("kiosk", "offline_cache",
                                                                                            "ui", "app"))
    logging.getLogger().removeHandler(handler)
    logging.getLogger().setLevel(logging.WARNING)


def personal_strings(person: dict, cards=()) -> list[str]:
    born = date.fromisoformat(person["birth_date"])
    name = person["full_name"]
    return [person["citizen_id"], person["citizen_id"][-9:], person["citizen_id"][-10:], name, name.title(),
            " ".join(name.split()[1:]), born.isoformat(), born.strftime("%d/%m/%Y"), born.strftime("%d%m%Y"),
            *cards]


@pytest.mark.parametrize("insurance_timeout_s", [2.0])
def test_a_gateway_slower_than_the_timeout_does_not_hold_the_patient_and_the_check_is_made_later(kiosk, gateway,
                                                                                               logs):
    gateway.mode(slow_s=60.0)  # answers long after the patient's wait
    try:
        kiosk.show_qr("hung")
        kiosk.wait_step("appointment", timeout=30000)
        answer = kiosk.journey.coverage  # the adapter's own answer at insurance.timeout_s, not the gateway's
        assert answer.status.value == "unavailable" and "insurance.timeout_s" in answer.staff_reason
        assert kiosk.journey.insurance_shown == "unchecked"
        assert kiosk.screen("appointment").who.coverage.text() == "Chưa kiểm tra được thẻ BHYT: sẽ kiểm tra lại sau"
        shoot(kiosk, "appointment_bhyt_unchecked")
        kiosk.tap(kiosk.screen("appointment").confirm)
        kiosk.wait_step("done")
        result = kiosk.journey.result
        assert result.ticket.insurance_status == "unchecked"
        save_ticket(kiosk, "ticket-bhyt-unchecked")
        assert coverages(kiosk, "HT3272748000777") == []
        assert kiosk.services.outbox.insurance_backlog() == 1  # queued, retried in the background
    finally:
        gateway.mode()  # the gateway answers again: the queued check goes through
    kiosk.qtbot.waitUntil(lambda: bool(coverages(kiosk, "HT3272748000777")), timeout=60000)
    [cov] = coverages(kiosk, "HT3272748000777")  # the new card (004)
    kiosk.qtbot.waitUntil(lambda: visit_coverage(kiosk, result.encounter_id) == cov["id"], timeout=10000)
    [entry] = kiosk.services.outbox.insurance_entries()
    assert entry["state"] == "done" and entry["tries_total"] >= 1
    hung = demo_person("hung")
    leaks = [s for s in personal_strings(hung, ["HT2272748000777", "HT3272748000777"]) if s in logs()]
    assert '"event": "insurance.queue_done"' in logs() and leaks == []


def test_a_gateway_that_is_down_gives_a_ticket_not_yet_checked_and_the_visit_is_linked_later(kiosk, gateway, logs):
    gateway.mode(down=True)  # HTTP 503 at once
    try:
        kiosk.show_qr("linh")
        kiosk.wait_step("department")
        assert kiosk.journey.insurance_shown == "unchecked"
        kiosk.tap(kiosk.screen("department").buttons[0])
        kiosk.wait_step("done")
        result = kiosk.journey.result
        assert result.ticket.insurance_status == "unchecked" and result.mode == "online"
        assert visit_coverage(kiosk, result.encounter_id) is None
    finally:
        gateway.mode()
    kiosk.qtbot.waitUntil(lambda: visit_coverage(kiosk, result.encounter_id) is not None, timeout=60000)
    [cov] = coverages(kiosk, "TE1272721009876")
    assert visit_coverage(kiosk, result.encounter_id) == cov["id"]
    leaks = [s for s in personal_strings(demo_person("linh"), ["TE1272721009876"]) if s in logs()]
    assert leaks == []


def test_an_offline_check_in_carries_the_answer_and_the_sync_writes_the_coverage_once(kiosk, sandbox, logs):
    from kiosk.demo_data import cccd_qr_payload

    card = "GD499" + TEST_PERSON["citizen_id"][-10:]
    sandbox.set_faults(fail_status=503, fail_count=1_000_000)
    try:
        kiosk.camera.show(cccd_qr_payload(TEST_PERSON), seconds=0.6)
        kiosk.wait_step("department", timeout=60000)
        assert kiosk.journey.offline and kiosk.journey.insurance_shown == "valid"  # the gateway still answered
        kiosk.tap(kiosk.screen("department").buttons[0])
        kiosk.wait_step("done", timeout=60000)
        result = kiosk.journey.result
        assert result.mode == "offline" and result.ticket.insurance_status == "valid"
    finally:
        sandbox.set_faults()
    parts = kiosk.services.outbox
    kiosk.qtbot.waitUntil(lambda: parts.store.counts()["delivered"] >= 1, timeout=60000)  # the probe, then the sender
    encounter_id = parts.store.entries()[0]["his_encounter_id"]
    # the sender records the Coverage right after the visit is seen in the HIS
    kiosk.qtbot.waitUntil(lambda: visit_coverage(kiosk, encounter_id) is not None, timeout=30000)
    [cov] = coverages(kiosk, card)
    assert visit_coverage(kiosk, encounter_id) == cov["id"]
    assert parts.sender.sync_now().claimed == 0
    [again] = coverages(kiosk, card)
    assert again["meta"]["versionId"] == cov["meta"]["versionId"]
    leaks = [s for s in personal_strings(TEST_PERSON, [card]) if s in logs()]
    assert leaks == []
