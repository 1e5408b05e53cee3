"""Spoken guidance at the kiosk (``kiosk.ports.Speech``): espeak-ng reads each
screen aloud, in Vietnamese or English, on one ``DeviceWorker`` thread.

A new sentence cuts off the one being played (the patient moved on);
``silence`` stops at once. Volume is espeak-ng's amplitude (``-a``), set by
the kiosk itself, so it does not depend on a mixer setting someone changed.

Where the sound goes — chosen on purpose, never left to chance:

1. **Headphones first.** ``speech.headphones`` names the ALSA card of the
   headphone socket (a USB audio adapter with a 3.5 mm jack is the usual
   build: it appears in ``/proc/asound/cards`` when plugged in and its id is
   stable). While that card is present, speech plays there only
   (``aplay -D plughw:CARD=<id>``) — what is said stays private — and the
   kiosk reports HEADPHONES_IN, which turns speech on for the patient.
2. Otherwise ``speech.output``: ``auto`` (PulseAudio if running, else the
   default ALSA device, as the calling board does), an ALSA device name such
   as ``plughw:CARD=PCH,DEV=0`` for the kiosk's speakers, or ``none``.

Without any output the sentence is still synthesised (and kept as a WAV for
tests and diagnostics), so the pipeline is exercised on a machine without sound.
"""
from __future__ import annotations

import logging
import shutil
import subprocess
import threading
from dataclasses import dataclass
from pathlib import Path

from devices.voice.announcer import audio_output
from devices.voice.espeak import Espeak, VoiceError
from devices.worker import DeviceWorker
from kiosk.operations.diagnostics import OK, WARN, Check
from kiosk.ports import HEADPHONES_IN, HEADPHONES_OUT, SPEECH_FAILED, SPEECH_PLAYED, DeviceEventCallback

log = logging.getLogger("kiosk.speech")
ASOUND_CARDS = Path("/proc/asound/cards")
PLAY_TIMEOUT_S = 120.0


def sound_cards(cards_file: Path = ASOUND_CARDS) -> set[str]:
    """The ALSA card ids present now (' 1 [Headset ]: USB-Audio - …' -> 'Headset')."""
    try:
        text = cards_file.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return set()
    return {line.split("[", 1)[1].split("]", 1)[0].strip() for line in text.splitlines() if "[" in line and "]" in line}


def speech_output(output: str, headphones: str, cards_file: Path = ASOUND_CARDS) -> tuple[list[str] | None, str]:
    """The player command for the next sentence and a sentence saying where it plays."""
    aplay = shutil.which("aplay")
    if headphones and headphones in sound_cards(cards_file):
        if aplay:
            return [aplay, "-q", "-D", f"plughw:CARD={headphones}"], f"headphones (ALSA card {headphones})"
        return None, "headphones plugged in but aplay is missing: apt-get install alsa-utils"
    if output == "none":
        return None, "speech.output = none"
    if output == "auto":
        return audio_output("auto")
    if aplay:
        return [aplay, "-q", "-D", output], f"speakers (ALSA device {output})"
    return None, "aplay is missing: apt-get install alsa-utils"


@dataclass(frozen=True)
class Said:
    text: str
    language: str
    volume: int


class SpeakerBase:
    """The device thread, the generation counter that lets a new sentence
    supersede the queued one, and the headphone watch."""

    def __init__(self, *, volume: int = 80, headphones: str = "", cards_file: Path = ASOUND_CARDS):
        self._volume = max(0, min(100, int(volume)))
        self.headphones = headphones
        self.cards_file = Path(cards_file)
        self.said: list[Said] = []  # every sentence handed to the voice (tests, the demo)
        self._gen = 0
        self._lock = threading.Lock()
        self._on_event: DeviceEventCallback = lambda _e: None
        self._jack: bool | None = None
        self._played = True  # the last sentence came out (a change is reported: SPEECH_FAILED / SPEECH_PLAYED)
        self._worker = DeviceWorker("speech", idle=self._watch_jack if headphones else None, idle_every_s=1.0)

    def start(self, on_event: DeviceEventCallback) -> None:
        self._on_event = on_event
        self._worker.start()

    def say(self, text: str, language: str) -> None:
        with self._lock:
            self._gen += 1
            gen = self._gen
        self._cut()
        self._worker.submit(lambda: self._speak_if_current(gen, text, language))

    def silence(self) -> None:
        with self._lock:
            self._gen += 1
        self._cut()

    def set_volume(self, percent: int) -> None:
        self._volume = max(0, min(100, int(percent)))

    def volume(self) -> int:
        return self._volume

    def headphones_in(self) -> bool:
        return bool(self.headphones) and self.headphones in sound_cards(self.cards_file)

    def wait_idle(self, timeout: float = 10.0) -> None:
        """Wait until every sentence handed over so far has been dealt with (tests)."""
        self._worker.call(lambda: None, timeout=timeout)

    def close(self) -> None:
        self.silence()
        self._worker.close()

    def _current(self, gen: int) -> bool:
        with self._lock:
            return gen == self._gen

    def _speak_if_current(self, gen: int, text: str, language: str) -> None:
        if not self._current(gen):
            return  # a newer sentence (or silence) came before this one started
        self.said.append(Said(text, language, self._volume))
        del self.said[:-200]
        try:
            played = self._speak(gen, text, language) is not False
        except Exception:
            self._report_played(False)
            raise
        self._report_played(played)

    def _report_played(self, played: bool) -> None:
        """The screen says when no sound comes out (and when it does again): a patient with
        speech on is not left waiting for a voice that never comes."""
        if played == self._played:
            return
        self._played = played
        self._on_event(SPEECH_PLAYED if played else SPEECH_FAILED)

    def _watch_jack(self) -> None:
        present = self.headphones_in()
        if present != self._jack:
            first, self._jack = self._jack is None, present
            if not (first and not present):
                self._on_event(HEADPHONES_IN if present else HEADPHONES_OUT)

    def _speak(self, gen: int, text: str, language: str) -> bool | None:
        """Say it; False when it could not be played (no voice, no sound output, the player failed)."""
        raise NotImplementedError

    def _cut(self) -> None:
        """Stop the sentence being played (called from any thread)."""


class SimulatedSpeaker(SpeakerBase):
    """Records what would be said; ``plug_headphones`` simulates the socket."""

    def __init__(self, *, volume: int = 80):
        super().__init__(volume=volume)
        self._plugged = False
        self._fails = False
        self._worker = DeviceWorker("speech", idle=self._watch_jack, idle_every_s=0.2)

    def plug_headphones(self, plugged: bool = True) -> None:
        self._plugged = plugged

    def fail(self, fails: bool = True) -> None:
        """Simulate a speaker that cannot play (unplugged amplifier, broken sound card)."""
        self._fails = fails

    def headphones_in(self) -> bool:
        return self._plugged

    def _speak(self, gen: int, text: str, language: str) -> bool:
        return not self._fails

    def diagnose(self) -> list[Check]:
        return [Check("speech", WARN, "simulated voice (speech.driver = \"simulator\")",
                      "set speech.driver = \"espeak\" for spoken guidance")]


class EspeakSpeaker(SpeakerBase):
    """espeak-ng to a WAV, then played on the chosen output (see the module text)."""

    def __init__(self, *, voices: dict[str, str], work_dir: str | Path, volume: int = 80, rate: int = 140,
                 output: str = "auto", headphones: str = "", cards_file: Path = ASOUND_CARDS):
        super().__init__(volume=volume, headphones=headphones, cards_file=cards_file)
        self.voices = dict(voices)
        self.rate = rate
        self.output = output
        self.work_dir = Path(work_dir)
        self.espeak = Espeak()
        self.last_wav: Path | None = None
        self.played_with: str = ""
        self._proc: subprocess.Popen | None = None
        self._seq = 0
        self._said_no_audio = False

    def _speak(self, gen: int, text: str, language: str) -> bool:
        if not self.espeak.program:
            raise VoiceError("espeak-ng not found: install the Debian package espeak-ng")
        self.work_dir.mkdir(parents=True, exist_ok=True)
        self._seq += 1
        voice = self.voices.get(language) or self.voices.get("vi", "vi")
        try:
            wav = self.espeak.to_wav(text, voice, self.work_dir / f"speech-{self._seq % 4}.wav",  # a few files, reused
                                     amplitude=round(self._volume * 2), rate=self.rate)
        except VoiceError as exc:  # the exit code only: espeak-ng's own message may quote the sentence
            log.warning("speech: espeak-ng failed", extra={"event": "speech.failed", "exit_code": exc.exit_code})
            return False
        self.last_wav = wav
        player, where = speech_output(self.output, self.headphones, self.cards_file)
        if player is None:
            if not self._said_no_audio:
                log.warning("speech: not played: %s", where, extra={"event": "speech.no_output"})
                self._said_no_audio = True
            return self.output == "none" and not self.headphones_in()  # no output on purpose: nothing failed
        with self._lock:
            if gen != self._gen:
                return True
            self._proc = subprocess.Popen([*player, str(wav)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            proc = self._proc
        self.played_with = where
        try:
            code = proc.wait(timeout=PLAY_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            proc.kill()
            code = 0
        finally:
            with self._lock:
                self._proc = None
        return code == 0 or not self._current(gen)  # cut short by a newer sentence: not a failure

    def _cut(self) -> None:
        with self._lock:
            proc = self._proc
        if proc is not None and proc.poll() is None:
            proc.terminate()

    def diagnose(self) -> list[Check]:
        if not self.espeak.program:
            checks = [self.espeak.voice_check("speech.espeak", "", "")]
        else:
            checks = [self.espeak.voice_check(f"speech.voice_{lang}", voice, f"speech.voice_{lang}")
                      for lang, voice in sorted(self.voices.items())]
        player, where = speech_output(self.output, self.headphones, self.cards_file)
        checks.append(Check("speech.output", OK if player else WARN, where,
                            "" if player else "connect speakers or set speech.output / speech.headphones"))
        if self.headphones:
            present = self.headphones_in()
            checks.append(Check("speech.headphones", OK if present else WARN,
                                f"ALSA card {self.headphones!r} " + ("present" if present else "not present"),
                                "" if present else "plug in the headphone adapter; ids: cat /proc/asound/cards"))
        return checks
