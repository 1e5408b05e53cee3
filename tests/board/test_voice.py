"""The voice announcer: chime + espeak-ng, one thread, calls never overlap."""
from __future__ import annotations

import array
import logging
import math
import shutil
import subprocess
import sys
import threading
import wave

import pytest

from app.compose import build_announcer
from devices.voice import Announcement, EspeakAnnouncer, SimulatedAnnouncer
from devices.voice.chime import CHIME_FILE, write_chime
from devices.voice.espeak import Espeak
from kiosk.config.loader import config_from_dict


def rms(path) -> float:
    with wave.open(str(path), "rb") as w:
        assert w.getsampwidth() == 2
        samples = array.array("h", w.readframes(w.getnframes()))
    return math.sqrt(sum(s * s for s in samples) / max(1, len(samples)))


def duration(path) -> float:
    with wave.open(str(path), "rb") as w:
        return w.getnframes() / w.getframerate()


def test_call_text_and_spoken_form():
    a = Announcement("P101", "Phòng khám Nội 1", "012")
    assert a.text == "Mời số 012 vào phòng khám Nội 1"
    assert a.spoken == "Mời số 0 1 2 vào phòng khám Nội 1"
    assert Announcement("X", "Khu B", "K2-005").spoken == "Mời số K2 005 vào Khu B"


def test_chime_is_a_real_two_tone_sound(tmp_path):
    path = write_chime(tmp_path / "c.wav")
    with wave.open(str(path), "rb") as w:
        assert (w.getnchannels(), w.getsampwidth(), w.getframerate()) == (1, 2, 22050)
        samples = array.array("h", w.readframes(w.getnframes()))
    assert 0.8 < len(samples) / 22050 < 1.5
    assert rms(path) > 1000
    # two tones: zero crossings per second differ between the first and second half
    def crossings(chunk):
        return sum(1 for a, b in zip(chunk, chunk[1:]) if (a < 0) != (b < 0))
    first, second = samples[2000:6000], samples[-9000:-5000]
    assert crossings(first) > crossings(second) * 1.1
    assert CHIME_FILE.is_file(), "assets/sounds/chime.wav is shipped"


def test_espeak_announcer_synthesises_real_non_silent_wav(tmp_path, caplog):
    ann = EspeakAnnouncer(voice="vi", repeat=1, work_dir=tmp_path, player="none")
    caplog.set_level(logging.WARNING, logger="kiosk.voice")
    calls = [ann.announce(Announcement("P101", "Phòng khám Nội 1", f"{n:03d}")) for n in (12, 13, 14)]
    assert ann.wait_idle(30)
    ann.stop()
    assert [c.announcement.label for c in ann.history] == ["012", "013", "014"]
    for c in calls:
        assert not c.error
        # byte-identical to what espeak-ng itself writes for the same sentence
        direct = tmp_path / "direct.wav"
        subprocess.run(["espeak-ng", "-v", "vi", "-w", str(direct), c.announcement.spoken], check=True, timeout=10)
        assert c.voice_wav.read_bytes() == direct.read_bytes()
        assert rms(c.voice_wav) > 500
        assert duration(c.voice_wav) > 1.0
        # chime + gap + (voice + gap) × 2
        assert duration(c.wav) == pytest.approx(duration(CHIME_FILE) + 0.35 + 2 * (duration(c.voice_wav) + 0.35),
                                                abs=0.01)
    # "no audio" is said once, not per call
    warnings = [r for r in caplog.records if "not played" in r.getMessage()]
    assert len(warnings) == 1


def test_calls_never_overlap_with_a_real_player_process(tmp_path):
    """The player is the one thing missing here (no sound card): a small
    program stands in for aplay, logging when it starts and ends. Calls queued
    from several threads at once must play one after the other, in order."""
    log_file = tmp_path / "player.log"
    player = tmp_path / "fake_aplay.py"
    player.write_text(
        "import sys, time, wave\n"
        f"log = open({str(log_file)!r}, 'a')\n"
        "w = wave.open(sys.argv[-1]); w.close()\n"  # a valid WAV or it fails
        "log.write(f'start {time.monotonic()}\\n'); log.flush()\n"
        "time.sleep(0.15)\n"
        "log.write(f'end {time.monotonic()}\\n'); log.flush()\n")
    ann = EspeakAnnouncer(voice="vi", repeat=0, work_dir=tmp_path / "w", player="none")
    ann.player = [sys.executable, str(player)]
    threads = [threading.Thread(target=ann.announce, args=(Announcement("P1", "Phòng 1", f"{n:03d}"),))
               for n in range(1, 6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert ann.wait_idle(30)
    ann.stop()
    events = [line.split() for line in log_file.read_text().splitlines()]
    assert [e[0] for e in events] == ["start", "end"] * 5
    times = [float(e[1]) for e in events]
    assert times == sorted(times)
    assert all(c.played_with == sys.executable for c in ann.history)
    for before, after in zip(ann.history, ann.history[1:]):
        assert after.started_at >= before.finished_at


def test_simulator_records_calls_in_order_without_overlap():
    ann = SimulatedAnnouncer(repeat=2, seconds_per_saying=0.005)
    for n in range(20):
        ann.announce(Announcement("P1", "Phòng 1", str(n)))
    assert ann.wait_idle(10)
    ann.stop()
    assert [c.announcement.label for c in ann.history] == [str(n) for n in range(20)]
    assert all(c.times == 3 for c in ann.history)
    for before, after in zip(ann.history, ann.history[1:]):
        assert after.started_at >= before.finished_at


def test_a_failing_call_does_not_stop_the_queue(tmp_path):
    wrapper = tmp_path / "espeak-wrapper"
    wrapper.write_text("#!/bin/sh\ncase \"$*\" in *'0 0 1'*) echo broken >&2; exit 3;; esac\n"
                       'exec espeak-ng "$@"\n')
    wrapper.chmod(0o755)
    ann = EspeakAnnouncer(voice="vi", repeat=0, work_dir=tmp_path / "w", player="none")
    ann.espeak = Espeak(str(wrapper))
    ann.announce(Announcement("P1", "Phòng 1", "001"))
    ann.announce(Announcement("P1", "Phòng 1", "002"))
    assert ann.wait_idle(20)
    ann.stop()
    assert "exit 3" in ann.history[0].error and "broken" in ann.history[0].error
    assert ann.history[1].error == ""
    assert rms(ann.history[1].voice_wav) > 500


def test_build_announcer_and_diagnose_follow_config(tmp_path):
    cfg = config_from_dict({"kiosk": {"data_dir": str(tmp_path)},
                            "display": {"voice_driver": "simulator", "repeat": 0}})
    assert isinstance(build_announcer(cfg), SimulatedAnnouncer)
    cfg = config_from_dict({"kiosk": {"data_dir": str(tmp_path)}, "display": {"voice_driver": "espeak"}})
    ann = build_announcer(cfg)
    assert isinstance(ann, EspeakAnnouncer) and ann.work_dir == tmp_path / "voice"
    assert build_announcer(config_from_dict({"display": {"voice_driver": "none"}})) is None
    names = {c.name: c.status for c in ann.diagnose()}
    assert set(names) == {"voice.espeak", "voice.chime", "voice.audio"}
    assert names["voice.espeak"] == ("OK" if shutil.which("espeak-ng") else "FAIL")


def test_every_voice_checks_its_espeak_voice_the_same_way(tmp_path):
    """The Qt board, the web boards' call audio and the kiosk's guidance share one
    espeak-ng check: a voice espeak-ng does not have is a FAIL naming the setting."""
    from devices.voice import EspeakCallAudio, EspeakSpeaker

    if not shutil.which("espeak-ng"):
        pytest.fail("espeak-ng is part of the kiosk's Debian packages (make test installs it)")
    board = EspeakAnnouncer(voice="xx-no-such", work_dir=tmp_path, player="none")
    web = EspeakCallAudio(voice="xx-no-such")
    speaker = EspeakSpeaker(voices={"vi": "vi", "en": "xx-no-such"}, work_dir=tmp_path)
    board_check = {c.name: c for c in board.diagnose()}["voice.espeak"]
    web_check = {c.name: c for c in web.diagnose()}["voice.espeak"]
    speech = {c.name: c for c in speaker.diagnose()}
    assert board_check.status == web_check.status == "FAIL" and "board.voice" in web_check.fix
    assert speech["speech.voice_en"].status == "FAIL" and "speech.voice_en" in speech["speech.voice_en"].fix
    assert speech["speech.voice_vi"].status == "OK"
    missing = Espeak("/nonexistent/espeak-ng")
    missing.program = None
    assert missing.voice_check("voice.espeak", "vi", "board.voice").status == "FAIL"
