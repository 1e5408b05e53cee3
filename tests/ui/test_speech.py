"""Spoken guidance: espeak-ng really synthesises each screen's sentences (WAV
checked for sound and a plausible length), the output device is chosen on
purpose (headphones first), and the kiosk reads each new screen aloud."""
from __future__ import annotations

import array
import shutil
import wave

import pytest

from devices.voice.speaker import EspeakSpeaker, SimulatedSpeaker, sound_cards, speech_output
from kiosk.ports import HEADPHONES_IN, HEADPHONES_OUT
from kiosk.texts.button_labels import SYMBOLS


def wav_facts(path) -> tuple[float, float]:
    """(seconds, RMS of the 16-bit samples)."""
    with wave.open(str(path), "rb") as w:
        frames = w.readframes(w.getnframes())
        seconds = w.getnframes() / w.getframerate()
        assert w.getsampwidth() == 2
    samples = array.array("h", frames)
    rms = (sum(s * s for s in samples) / max(1, len(samples))) ** 0.5
    return seconds, rms


@pytest.mark.parametrize("language, text", [
    ("vi", "Số thứ tự của bạn là 0 1 2. Mời đến Phòng khám Nội 1, Tầng 1, Nhà A."),
    ("en", "Your number is 0 1 2. Please go to Clinic room 1, floor 1."),
])
def test_a_sentence_is_synthesised_to_a_wav_with_sound_of_plausible_length(tmp_path, language, text):
    speaker = EspeakSpeaker(voices={"vi": "vi", "en": "en"}, work_dir=tmp_path, output="none", rate=140)
    speaker.start(lambda _e: None)
    try:
        speaker.say(text, language)
        speaker.wait_idle()
        seconds, rms = wav_facts(speaker.last_wav)
    finally:
        speaker.close()
    words = len(text.split())
    assert words * 0.15 < seconds < words * 1.0  # 140 words a minute is ~0.43 s a word
    assert rms > 300  # not silence
    short = EspeakSpeaker(voices={"vi": "vi"}, work_dir=tmp_path / "short", output="none")
    short.start(lambda _e: None)
    short.say("Xin chào.", "vi")
    short.wait_idle()
    assert wav_facts(short.last_wav)[0] < seconds  # a longer text takes longer to say
    short.close()


def test_volume_is_the_speakers_own_amplitude(tmp_path):
    levels = {}
    for volume in (20, 100):
        speaker = EspeakSpeaker(voices={"vi": "vi"}, work_dir=tmp_path / str(volume), output="none", volume=volume)
        speaker.start(lambda _e: None)
        speaker.say("Mời đến phòng khám.", "vi")
        speaker.wait_idle()
        levels[volume] = wav_facts(speaker.last_wav)[1]
        speaker.close()
    assert levels[100] > 2 * levels[20]


def test_a_new_sentence_supersedes_the_one_waiting_and_silence_drops_it(tmp_path):
    speaker = SimulatedSpeaker()
    speaker.start(lambda _e: None)
    speaker._worker.submit(lambda: __import__("time").sleep(0.3))  # the device thread is busy
    speaker.say("một", "vi")
    speaker.say("hai", "vi")
    speaker.wait_idle()
    assert [s.text for s in speaker.said] == ["hai"]
    speaker._worker.submit(lambda: __import__("time").sleep(0.3))
    speaker.say("ba", "vi")
    speaker.silence()
    speaker.wait_idle()
    assert [s.text for s in speaker.said] == ["hai"]
    speaker.close()


def test_headphones_are_used_when_their_card_is_present(tmp_path, monkeypatch):
    cards = tmp_path / "cards"
    cards.write_text(" 0 [PCH            ]: HDA-Intel - HDA Intel PCH\n                      HDA Intel PCH at 0xf\n")
    assert sound_cards(cards) == {"PCH"}
    monkeypatch.setattr(shutil, "which", lambda name: f"/usr/bin/{name}")
    player, where = speech_output("plughw:CARD=PCH,DEV=0", "Headset", cards)
    assert player == ["/usr/bin/aplay", "-q", "-D", "plughw:CARD=PCH,DEV=0"] and "speakers" in where
    cards.write_text(cards.read_text() + " 1 [Headset        ]: USB-Audio - USB Headset\n")
    player, where = speech_output("plughw:CARD=PCH,DEV=0", "Headset", cards)
    assert player == ["/usr/bin/aplay", "-q", "-D", "plughw:CARD=Headset"] and "headphones" in where
    assert speech_output("none", "", cards)[0] is None


def test_the_jack_watch_reports_headphones_in_and_out(tmp_path):
    cards = tmp_path / "cards"
    cards.write_text(" 0 [PCH ]: HDA-Intel\n")
    events = []
    speaker = EspeakSpeaker(voices={"vi": "vi"}, work_dir=tmp_path, output="none", headphones="Headset",
                            cards_file=cards)
    speaker._worker.idle_every_s = 0.05
    speaker.start(events.append)
    try:
        cards.write_text(" 0 [PCH ]: HDA-Intel\n 1 [Headset ]: USB-Audio\n")
        speaker.wait_idle()
        import time
        deadline = time.monotonic() + 5
        while HEADPHONES_IN not in events and time.monotonic() < deadline:
            time.sleep(0.05)
        cards.write_text(" 0 [PCH ]: HDA-Intel\n")
        while HEADPHONES_OUT not in events and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        speaker.close()
    assert events == [HEADPHONES_IN, HEADPHONES_OUT]  # nothing reported for "not plugged in" at start


@pytest.mark.integration
def test_the_kiosk_reads_each_new_screen_aloud_with_repeat_stop_and_volume(kiosk):
    speech = kiosk.services.speech
    assert kiosk.window.speech_button.isVisible() and not kiosk.window.speech_bar.isVisible()
    kiosk.tap(kiosk.window.speech_button)
    kiosk.qtbot.waitUntil(lambda: kiosk.journey.speech and bool(speech.said))
    assert kiosk.window.speech_bar.isVisible() and kiosk.window.speech_button.isChecked()
    assert speech.said[-1].text.startswith("Hướng dẫn bằng giọng nói đã bật")
    assert "Đặt thẻ căn cước lên đầu đọc" in speech.said[-1].text
    welcome = kiosk.window.current_screen()  # the voice names the buttons exactly as they are labelled
    for button in (welcome.type_id, welcome.patient_code, kiosk.window.repeat_button):
        assert button.text().lstrip(SYMBOLS) in speech.said[-1].text
    kiosk.show_qr("ngoc")
    kiosk.wait_step("department")
    kiosk.qtbot.waitUntil(lambda: "Chọn chuyên khoa" in speech.said[-1].text)
    said = speech.said[-1].text
    assert "Trần Ngọc" in said and "ngày 22 tháng 7 năm 1985" in said and "4 3 2 1" in said
    assert "027185004321" not in said.replace(" ", "") and "Nội khoa" in said
    count = len(speech.said)
    kiosk.tap(kiosk.window.repeat_button)
    kiosk.qtbot.waitUntil(lambda: len(speech.said) == count + 1)
    assert speech.said[-1].text == said
    kiosk.tap(kiosk.window.louder_button)
    kiosk.qtbot.waitUntil(lambda: speech.said[-1].volume == 100)
    assert "100%" in kiosk.window.volume_label.text()
    kiosk.tap(kiosk.window.language)
    kiosk.qtbot.waitUntil(lambda: speech.said[-1].language == "en")
    assert "Choose the department you need" in speech.said[-1].text
    default_idle = kiosk.journey.settings.idle_timeout_s
    assert kiosk.journey.timeout_s() == default_idle * kiosk.journey.settings.speech_timeout_factor
    kiosk.tap(kiosk.window.speech_button)
    kiosk.qtbot.waitUntil(lambda: not kiosk.journey.speech)
    assert not kiosk.window.speech_bar.isVisible() and kiosk.journey.timeout_s() == default_idle


@pytest.mark.integration
def test_plugging_headphones_in_turns_speech_on_and_pulling_them_out_turns_it_off(kiosk):
    speech = kiosk.services.speech
    speech.plug_headphones(True)
    kiosk.qtbot.waitUntil(lambda: kiosk.journey.speech, timeout=5000)
    kiosk.qtbot.waitUntil(lambda: bool(speech.said))
    speech.plug_headphones(False)
    kiosk.qtbot.waitUntil(lambda: not kiosk.journey.speech, timeout=5000)


def test_holding_a_button_says_its_name_without_choosing_it(kiosk):
    """ADA §707.3: with spoken guidance on, a finger held on a button makes the kiosk
    say its name and lifting it does not press it; a short touch presses as always."""
    from PySide6.QtCore import QPoint, Qt
    from PySide6.QtTest import QTest

    from kiosk.journey.machine import Step
    from ui.touch_to_hear import spoken_name

    speech = kiosk.services.speech
    window = kiosk.window
    window.touch_to_hear.timer.setInterval(150)  # the kiosk waits 0.7 s; a test need not
    type_id = kiosk.screen("welcome").type_id

    def hold(button):
        count = len(speech.said)
        centre = button.rect().center()
        QTest.mousePress(button, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, centre)
        kiosk.qtbot.waitUntil(lambda: len(speech.said) > count)
        QTest.mouseMove(button, centre + QPoint(3, 2))  # a finger never stays quite still
        QTest.mouseRelease(button, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, centre)
        return speech.said[-1]

    # Speech off: holding is an ordinary press (nothing said, the button works).
    QTest.mousePress(type_id, Qt.MouseButton.LeftButton)
    kiosk.qtbot.wait(300)
    QTest.mouseRelease(type_id, Qt.MouseButton.LeftButton)
    kiosk.wait_step("keypad")
    assert speech.said == []
    kiosk.tap(kiosk.screen("keypad").back)
    kiosk.wait_step("welcome")

    kiosk.tap(window.speech_button)
    kiosk.qtbot.waitUntil(lambda: kiosk.journey.speech and bool(speech.said))
    assert "Chạm và giữ một nút để nghe tên nút" in speech.said[-1].text  # the patient is told how
    heard = hold(type_id)
    assert heard.text == spoken_name(type_id) and heard.text and heard.language == "vi"
    kiosk.qtbot.wait(200)
    assert kiosk.journey.step is Step.WELCOME and not type_id.isDown()  # identified, not chosen

    kiosk.tap(type_id)  # a short touch still chooses it
    kiosk.wait_step("keypad")
    keypad = kiosk.screen("keypad")
    assert hold(keypad.keys["5"]).text == "5" and keypad.pad.digits == ""  # digits can be explored too
    kiosk.tap(keypad.keys["5"])
    assert keypad.pad.digits == "5"


def test_a_sentence_that_cannot_be_played_is_reported_once_and_silence_on_purpose_is_not(tmp_path):
    """The speech bar says "Sound cannot play" (ui/window.py) when the speaker reports it."""
    from kiosk.ports import SPEECH_FAILED

    events = []
    broken = EspeakSpeaker(voices={"vi": "vi"}, work_dir=tmp_path / "broken", output="no-such-alsa-device")
    broken.start(events.append)
    quiet = EspeakSpeaker(voices={"vi": "vi"}, work_dir=tmp_path / "quiet", output="none")
    quiet_events = []
    quiet.start(quiet_events.append)
    try:
        for _ in range(2):
            broken.say("Xin chào.", "vi")
            broken.wait_idle()
            quiet.say("Xin chào.", "vi")
            quiet.wait_idle()
    finally:
        broken.close()
        quiet.close()
    assert events == [SPEECH_FAILED]  # once, not for every sentence
    assert quiet_events == []  # speech.output = "none": nothing failed
