"""A call as one WAV file for the web boards (``kiosk.ports.CallAudio``):
the same chime and espeak-ng voice as the Qt board's announcer, synthesised
once per call by the queue server and played by every browser showing it.

``EspeakCallAudio`` runs ``espeak-ng -v vi -w`` and joins chime + voice ×
(1 + ``board.repeat``) with ``join_call_wav``; ``SimulatedCallAudio`` makes a
real, playable WAV (the chime, then silence standing for each saying) without
espeak-ng, for tests and demos. Both are safe to call from several threads.
"""
from __future__ import annotations

import struct
import tempfile
import threading
import wave
from pathlib import Path

from devices.voice.announcer import Announcement, join_call_wav
from devices.voice.chime import CHIME_FILE, ensure_chime
from devices.voice.espeak import Espeak
from kiosk.operations.diagnostics import OK, Check


class EspeakCallAudio:
    def __init__(self, *, voice: str = "vi", repeat: int = 1, chime: str | Path = CHIME_FILE):
        self.voice = voice
        self.times = 1 + max(0, int(repeat))
        self.chime = Path(chime)
        self.espeak = Espeak()
        self._lock = threading.Lock()  # one espeak-ng at a time: calls are rare, the CPU is small
        self.made = 0

    def synthesize(self, room_code: str, room_name: str, label: str) -> bytes:
        spoken = Announcement(room_code, room_name, label).spoken
        with self._lock, tempfile.TemporaryDirectory(prefix="kiosk-call-") as tmp:
            ensure_chime(self.chime)
            voice_wav = self.espeak.to_wav(spoken, self.voice, Path(tmp, "voice.wav"))
            data = join_call_wav(self.chime, voice_wav, self.times, Path(tmp, "call.wav")).read_bytes()
            self.made += 1
            return data

    def diagnose(self) -> list[Check]:
        return [self.espeak.voice_check("voice.espeak", self.voice, "board.voice")]


class SimulatedCallAudio:
    """The chime, then ``seconds_per_saying`` of silence per saying: a WAV a
    browser plays for a known time. Records what it was asked to say."""

    def __init__(self, *, repeat: int = 1, seconds_per_saying: float = 0.4, chime: str | Path = CHIME_FILE):
        self.times = 1 + max(0, int(repeat))
        self.seconds_per_saying = seconds_per_saying
        self.chime = Path(chime)
        self.said: list[Announcement] = []
        self._lock = threading.Lock()

    def synthesize(self, room_code: str, room_name: str, label: str) -> bytes:
        ensure_chime(self.chime)
        with wave.open(str(self.chime), "rb") as c:
            params, frames = c.getparams(), c.readframes(c.getnframes())
        silence = struct.pack("<h", 0) * int(params.framerate * self.seconds_per_saying) * params.nchannels
        with self._lock, tempfile.TemporaryDirectory(prefix="kiosk-call-") as tmp:
            out = Path(tmp, "call.wav")
            with wave.open(str(out), "wb") as w:
                w.setnchannels(params.nchannels)
                w.setsampwidth(params.sampwidth)
                w.setframerate(params.framerate)
                w.writeframes(frames + silence * self.times)
            self.said.append(Announcement(room_code, room_name, label))
            return out.read_bytes()

    def diagnose(self) -> list[Check]:
        return [Check("voice.driver", OK, "simulated voice (board.voice_driver = \"simulator\")")]
