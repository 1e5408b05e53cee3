"""Personal data by Law 91/2025/QH15 (issue 25, item 3, the patient-facing part): the
[privacy] settings and their bounds, the notice's content, the consent tap
(``privacy.consent = "tap"``: agree → the chip is read; refuse → the desk, nothing
kept), the face photo read only with ``privacy.read_photo`` and forgotten with the
patient, the spoken sentence, and the tap counts with and without the consent tap."""
from __future__ import annotations

import dataclasses
import re
from datetime import date

import pytest

from kiosk.config.loader import MOVED_KEYS, Config
from kiosk.demo_data import cccd_qr_payload, demo_person, person_identity
from kiosk.errors import ConfigError
from kiosk.journey import machine as j
from kiosk.journey.notice import data_read, notice_body, notice_title
from kiosk.journey.spoken import spoken_text
from kiosk.journey.walker import scripts, walk, walk_all
from tests.helpers import make_config

TODAY = date(2026, 11, 25)
AN = demo_person("an")
QR_AN = cccd_qr_payload(AN)


def journey(**kw) -> j.Journey:
    jr = j.Journey(j.Settings(kiosk_id="K1", **kw), today=lambda: TODAY)
    jr.handle(j.DepartmentsLoaded((), None))
    return jr


def kinds(effects) -> list[type]:
    return [type(e) for e in effects]


# --- config -------------------------------------------------------------------------------

def test_privacy_defaults_the_notice_without_photo_or_tap():
    cfg = Config()
    assert (cfg.privacy.consent, cfg.privacy.read_photo, cfg.privacy.notice_url) == ("notice", False, "")
    s = j.Settings.from_config(make_config())
    assert s.consent == j.CONSENT_NOTICE and not s.read_photo and s.notice_texts == {}
    assert s.hospital_name == cfg.kiosk.hospital_name


def test_the_old_key_card_reader_read_photo_is_still_accepted_and_the_new_one_wins():
    assert MOVED_KEYS[("card_reader", "read_photo")] == ("privacy", "read_photo")
    assert make_config(card_reader={"read_photo": True}).privacy.read_photo is True
    assert make_config(card_reader={"read_photo": True}, privacy={"read_photo": False}).privacy.read_photo is False
    assert make_config(card_reader={"read_photo": False}, privacy={"read_photo": True}).privacy.read_photo is True
    with pytest.raises(ConfigError, match="privacy.read_photo: expected true or false"):
        make_config(card_reader={"read_photo": "yes"})


@pytest.mark.parametrize("section, message", [
    ({"consent": "always"}, "privacy.consent: expected one of notice, tap"),
    ({"notice_url": "ftp://x"}, "privacy.notice_url: expected an http(s) URL"),
    ({"notice_url": "https://bv.example.vn/" + "a" * 300}, "privacy.notice_url: expected an http(s) URL"),
    ({"notice_vi": "x" * 601}, "privacy.notice_vi: expected at most 600 characters"),
    ({"notice_en": "x" * 601}, "privacy.notice_en: expected at most 600 characters"),
])
def test_privacy_settings_are_bounded(section, message):
    with pytest.raises(ConfigError, match=re.escape(message)):
        make_config(privacy=section)


def test_privacy_settings_reach_the_journey():
    cfg = make_config(privacy={"consent": "tap", "read_photo": True, "notice_url": "https://bv.example.vn/rieng-tu",
                               "notice_en": "Our own words."}, kiosk={"hospital_name": "BỆNH VIỆN A"})
    s = j.Settings.from_config(cfg)
    assert (s.consent, s.read_photo, s.notice_url) == ("tap", True, "https://bv.example.vn/rieng-tu")
    assert s.notice_texts == {"en": "Our own words."} and s.hospital_name == "BỆNH VIỆN A"


# --- the notice -----------------------------------------------------------------------------

def test_the_notice_says_what_why_who_how_long_and_the_rights():
    s = j.Settings(hospital_name="BỆNH VIỆN ĐA KHOA TỈNH")
    vi = " ".join(notice_body(s, "vi"))
    for part in ("BỆNH VIỆN ĐA KHOA TỈNH", "họ tên", "số định danh", "ngày sinh", "giới tính", "địa chỉ",
                 "đăng ký khám hôm nay", "gửi hồ sơ đến phòng khám", "đến khi in phiếu",
                 "Luật Khám bệnh, chữa bệnh", "được biết", "từ chối", "quầy", "hỏi bệnh viện"):
        assert part in vi, part
    en = " ".join(notice_body(s, "en"))
    for part in ("name", "ID number", "date of birth", "sex", "address", "check you in today", "until your ticket "
                 "is printed", "as the law requires", "know", "refuse", "desk", "ask the hospital"):
        assert part in en, part
    assert "ảnh" not in vi and "photo" not in en and "BHYT" not in vi  # only what is read
    assert "QR" not in vi and notice_title("vi") and notice_title("en")


def test_the_notice_names_the_photo_and_the_card_status_only_when_they_are_read():
    s = j.Settings(read_photo=True, check_insurance=True, notice_url="https://bv.example.vn/n")
    assert data_read(s, "vi") == "họ tên, số định danh, ngày sinh, giới tính, địa chỉ, ảnh khuôn mặt và tình trạng thẻ BHYT"
    assert data_read(s, "en").endswith("address, face photo and BHYT card status")
    assert "mã QR" in notice_body(s, "vi")[-1] and "QR code" in notice_body(s, "en")[-1]


def test_the_brief_form_for_large_text_is_two_short_sentences():
    s = j.Settings(read_photo=True, check_insurance=True, notice_url="https://bv.example.vn/n")
    for lang, words in (("vi", ("ảnh khuôn mặt", "BHYT", "đến khi in phiếu", "từ chối", "quầy")),
                        ("en", ("face photo", "BHYT", "until the ticket prints", "refuse", "desk"))):
        [brief] = notice_body(s, lang, brief=True)
        assert all(w in brief for w in words) and len(brief) <= 150, (lang, len(brief))
    assert "ảnh" not in notice_body(j.Settings(), "vi", brief=True)[0]


def test_a_hospitals_own_text_replaces_the_body_in_its_language_only():
    s = j.Settings(notice_texts={"vi": "Văn bản của bệnh viện."})
    assert notice_body(s, "vi") == ["Văn bản của bệnh viện."]
    assert "Read from your card" in notice_body(s, "en")[0]


def test_the_welcome_screen_says_the_notice_in_one_short_sentence():
    for lang, words in (("vi", "thông báo về dữ liệu cá nhân"), ("en", "personal data")):
        jr = journey(language=lang)
        said = spoken_text(jr)
        assert words in said
    sentence = spoken_text(journey()).split("Trên màn hình")[1]
    assert len(sentence) < 80


# --- the consent tap ------------------------------------------------------------------------

def test_with_the_notice_only_the_card_goes_straight_on():
    jr = journey()
    jr.handle(j.CardInserted())
    assert jr.step is j.Step.NEED_KEY


def test_consent_tap_agree_then_the_chip_is_read():
    jr = journey(consent=j.CONSENT_TAP)
    assert jr.step is j.Step.WELCOME
    assert jr.handle(j.CardInserted()) == [] and jr.step is j.Step.CONSENT
    assert jr.handle(j.QrScanned(QR_AN)) == [] and jr.step is j.Step.CONSENT  # nothing read before the answer
    assert jr.identity is None and jr.key is None
    assert "Đọc từ thẻ: họ tên" in spoken_text(jr)  # the notice, said on the consent screen
    jr.handle(j.Confirm())
    assert jr.step is j.Step.NEED_KEY and jr.consented  # the card laid before agreeing: now it needs its key
    effects = jr.handle(j.QrScanned(QR_AN))
    assert kinds(effects) == [j.ReadChip] and jr.step is j.Step.READING


def test_consent_tap_agree_after_a_qr_uses_that_qr():
    jr = journey(consent=j.CONSENT_TAP)
    jr.handle(j.QrScanned(QR_AN))
    assert jr.step is j.Step.CONSENT and jr.identity is None
    effects = jr.handle(j.Confirm())
    assert jr.identity is not None and jr.identity.citizen_id == AN["citizen_id"]
    assert j.LookupPatient in kinds(effects)


def test_consent_tap_typed_number_waits_for_agreement():
    jr = journey(consent=j.CONSENT_TAP)
    jr.handle(j.OpenKeypad())
    assert jr.step is j.Step.KEYPAD
    jr.handle(j.IdTyped(AN["citizen_id"]))
    assert jr.step is j.Step.CONSENT and jr.identity is None
    jr.handle(j.Confirm())
    assert jr.identity is not None and jr.identity.citizen_id == AN["citizen_id"]


def test_consent_tap_refuse_goes_to_the_desk_and_keeps_nothing():
    jr = journey(consent=j.CONSENT_TAP)
    jr.handle(j.QrScanned(QR_AN))
    assert jr.handle(j.RefuseConsent()) == []
    assert jr.step is j.Step.ERROR and jr.error.key == "ui.error.consent_refused" and jr.error.actions == (j.HOME,)
    assert jr.presented is None and jr.identity is None and jr.fallback is None and jr.key is None
    assert not jr.consented
    jr.handle(j.GoHome())
    assert jr.step is j.Step.WELCOME
    jr.handle(j.CardInserted())
    assert jr.step is j.Step.CONSENT  # the next patient is asked again


def test_consent_is_asked_of_each_patient_and_a_timeout_forgets_what_was_held():
    jr = journey(consent=j.CONSENT_TAP)
    jr.handle(j.QrScanned(QR_AN))
    jr.handle(j.TimedOut(jr.generation))
    assert jr.step is j.Step.WELCOME and jr.presented is None and not jr.consented


def test_an_out_of_service_kiosk_asks_nothing():
    jr = journey(consent=j.CONSENT_TAP)
    jr.handle(j.OutOfService())
    jr.handle(j.CardInserted())
    jr.handle(j.QrScanned(QR_AN))
    assert jr.step is j.Step.ERROR and jr.presented is None and jr.identity is None and jr.card_present


def test_the_card_taken_away_before_answering_ends_it():
    jr = journey(consent=j.CONSENT_TAP)
    jr.handle(j.CardInserted())
    jr.handle(j.CardRemoved())
    assert jr.step is j.Step.WELCOME and jr.presented is None and not jr.card_present


def test_the_walker_counts_one_tap_more_with_the_consent_tap_and_the_default_counts_are_unchanged():
    for flow in (j.FLOW_SHORT, j.FLOW_STEP_BY_STEP):
        notice = {w.journey: w.taps for w in walk_all(flow)}
        tap = {w.journey: w.taps for w in walk_all(flow, consent=j.CONSENT_TAP)}
        assert notice.keys() == tap.keys() and all(tap[k] == notice[k] + 1 for k in notice)
    key, script = scripts(j.FLOW_SHORT)["booked, chip (card, then its QR)"]
    assert walk("chip", script, key).taps == 1
    with_tap = walk("chip", script, key, consent=j.CONSENT_TAP)
    assert with_tap.taps == 2 and j.Step.CONSENT in with_tap.screens


# --- the face photo ------------------------------------------------------------------------

def read_chip(jr) -> list:
    jr.handle(j.CardInserted())
    read = next(e for e in jr.handle(j.QrScanned(QR_AN)) if isinstance(e, j.ReadChip))
    assert not read.with_photo  # the identity first, without DG2
    return jr.handle(j.OpDone(read.op, person_identity(AN)))


def test_no_photo_is_read_unless_configured():
    assert j.ReadPhoto not in kinds(read_chip(journey()))


def test_the_photo_is_read_when_configured_and_forgotten_with_the_patient():
    jr = journey(read_photo=True)
    photo = next(e for e in read_chip(jr) if isinstance(e, j.ReadPhoto))
    jr.handle(j.OpDone(photo.op, b"\xff\xd8\xff\xe0photo"))
    assert jr.identity.photo == b"\xff\xd8\xff\xe0photo"
    jr.handle(j.GoHome())
    assert jr.identity is None and jr.fallback is None and jr.photo_op is None
    assert all(b"\xff\xd8" not in repr(v).encode("latin-1", "replace") for v in vars(jr).values())


def test_the_photo_never_reaches_the_check_in_request():
    from kiosk.domain import CheckInRequest

    ident = dataclasses.replace(person_identity(AN), photo=b"\xff\xd8\xff\xe0photo")
    fields = {f.name for f in dataclasses.fields(CheckInRequest)}
    assert "photo" not in fields
    assert "photo" not in repr(ident)  # a repr (logs, errors) never carries the bytes
