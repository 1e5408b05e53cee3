"""Spoken calls for the calling board: a chime, then a Vietnamese voice
("Mời số 012 vào phòng khám Nội 1"), said ``1 + board.repeat`` times.

All calls go through one queue served by one thread, so a new call waits for
the current one to finish instead of cutting it off. The espeak-ng announcer
synthesises each call to WAV (``espeak-ng -v vi -w``), joins chime and voice
into one file and plays it with the first player that works here (paplay with
a PulseAudio server, else aplay / sox ``play`` with an ALSA card). A machine
without audio (a server, a container) gets one log line saying so; calls are
still synthesised, so the pipeline is exercised and the WAV can be checked.
The simulator records calls and takes a scripted time per call, for tests and
demos without espeak-ng.
"""
from __future__ import annotations

import logging
import os
import queue
import shutil
import subprocess
import threading
import time
import wave
from dataclasses import dataclass
from pathlib import Path

from devices.voice.chime import CHIME_FILE, ensure_chime
from devices.voice.espeak import Espeak, VoiceError
from kiosk.operations.diagnostics import OK, WARN, Check

log = logging.getLogger("kiosk.voice")

MAX_QUEUED_CALLS = 100


@dataclass(frozen=True)
class Announcement:
    """One call: number ``label`` to room ``room_name``."""

    room_code: str
    room_name: str
    label: str

    @property
    def text(self) -> str:
        """What the board prints and the log records (no personal data)."""
        return f"Mời số {self.label} vào {_room_phrase(self.room_name)}"

    @property
    def spoken(self) -> str:
        """What espeak-ng says: the number digit by digit ("không một hai"),
        as Vietnamese call systems do, so leading zeros are heard."""
        digits = " ".join(self.label) if self.label.isdigit() else self.label.replace("-", " ")
        return f"Mời số {digits} vào {_room_phrase(self.room_name)}"


def _room_phrase(room_name: str) -> str:
    name = room_name.strip() or "phòng khám"
    return name[0].lower() + name[1:] if name.lower().startswith("phòng") else name


@dataclass
class PlayedCall:
    """What the announcer did with one call (kept for tests, the benchmark and
    ``kiosk board``). Times are ``time.monotonic()``."""

    announcement: Announcement
    queued_at: float
    started_at: float = 0.0
    finished_at: float = 0.0
    times: int = 1
    wav: Path | None = None  # chime + voice × times, what was (or would be) played
    voice_wav: Path | None = None  # espeak-ng's own output for one saying
    played_with: str = ""  # player command, "" when nothing could be played
    error: str = ""


class Announcer:
    """Base: the queue and the one worker thread. Subclasses implement
    ``_perform(call)``, which runs on the worker thread only."""

    def __init__(self, repeat: int = 1):
        self.repeat = max(0, int(repeat))
        self.history: list[PlayedCall] = []
        self._queue: queue.Queue[PlayedCall | None] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._busy = threading.Event()
        self._lock = threading.Lock()
        self._listeners: list = []
        self.max_history = 200

    # --- public API (any thread) ---
    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="voice", daemon=True)
            self._thread.start()

    def announce(self, announcement: Announcement) -> PlayedCall:
        """Queue a call; returns at once. The call is played after every call
        queued before it has finished."""
        self.start()
        call = PlayedCall(announcement, queued_at=time.monotonic(), times=1 + self.repeat)
        if self._queue.qsize() >= MAX_QUEUED_CALLS:
            log.warning("voice queue full (%d calls): dropping call %s", MAX_QUEUED_CALLS, announcement.label)
            call.error = "queue full"
            return call
        self._queue.put(call)
        return call

    def call(self, room_code: str, room_name: str, label: str) -> PlayedCall:
        """``announce`` for callers that do not import this package (the board's poller)."""
        return self.announce(Announcement(room_code, room_name, label))

    def subscribe(self, callback) -> None:
        """``callback(call)`` runs on the voice thread when a call has been played."""
        self._listeners.append(callback)

    def pending(self) -> int:
        return self._queue.qsize() + (1 if self._busy.is_set() else 0)

    def wait_idle(self, timeout: float = 10.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.pending() == 0:
                return True
            time.sleep(0.01)
        return self.pending() == 0

    def stop(self, timeout: float = 5.0) -> None:
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join(timeout)
            self._thread = None

    # --- worker ---
    def _run(self) -> None:
        while True:
            call = self._queue.get()
            if call is None:
                return
            self._busy.set()
            try:
                call.started_at = time.monotonic()
                try:
                    self._perform(call)
                except Exception as exc:  # a failed call must not stop the next ones
                    call.error = str(exc)
                    log.warning("voice call %s failed: %s", call.announcement.label, exc)
                call.finished_at = time.monotonic()
                with self._lock:
                    self.history.append(call)
                    del self.history[:-self.max_history]
                for cb in list(self._listeners):
                    try:
                        cb(call)
                    except Exception:
                        log.exception("voice listener failed")
            finally:
                self._busy.clear()

    def _perform(self, call: PlayedCall) -> None:
        raise NotImplementedError


class SimulatedAnnouncer(Announcer):
    """Records calls and takes ``seconds_per_saying`` per saying (chime +
    voice) instead of speaking: the same queue and thread as the real one."""

    def __init__(self, repeat: int = 1, seconds_per_saying: float = 0.05):
        super().__init__(repeat)
        self.seconds_per_saying = seconds_per_saying

    def _perform(self, call: PlayedCall) -> None:
        time.sleep(self.seconds_per_saying * call.times)
        call.played_with = "simulator"

    def diagnose(self) -> list[Check]:
        return [Check("voice.driver", OK, "simulated voice (board.voice_driver = \"simulator\")")]

    def close(self) -> None:
        self.stop()


def audio_output(preferred: str = "auto") -> tuple[list[str] | None, str]:
    """The player command for this machine and a sentence saying why.

    PulseAudio/PipeWire (a server socket) → paplay; an ALSA card in /dev/snd →
    aplay or sox ``play``. No device → (None, reason)."""
    if preferred == "none":
        return None, "board.audio_player = none"
    runtime = os.environ.get("XDG_RUNTIME_DIR", "")
    pulse = bool(os.environ.get("PULSE_SERVER")) or (runtime and Path(runtime, "pulse", "native").exists())
    snd = Path("/dev/snd")
    alsa = snd.is_dir() and any(p.name.startswith("pcm") for p in snd.iterdir())
    candidates = {
        "paplay": (pulse, ["paplay"]),
        "aplay": (alsa, ["aplay", "-q"]),
        "play": (alsa or pulse, ["play", "-q"]),
    }
    order = [preferred] if preferred in candidates else ["paplay", "aplay", "play"]
    for name in order:
        device_ok, argv = candidates[name]
        if device_ok and shutil.which(argv[0]):
            return argv, f"playing with {name}"
    if not (pulse or alsa):
        return None, "no audio device (no PulseAudio server, no ALSA card in /dev/snd)"
    return None, f"no audio player found ({', '.join(order)}): install alsa-utils, pulseaudio-utils or sox"


class EspeakAnnouncer(Announcer):
    """Chime + espeak-ng voice, played when the machine has audio."""

    def __init__(self, *, voice: str = "vi", repeat: int = 1, work_dir: str | Path,
                 player: str = "auto", chime: str | Path = CHIME_FILE, keep_files: int = 4,
                 play_timeout_s: float = 30.0):
        super().__init__(repeat)
        self.voice = voice
        self.work_dir = Path(work_dir)
        self.chime = Path(chime)
        self.keep_files = keep_files
        self.play_timeout_s = play_timeout_s
        self.espeak = Espeak()
        self.player, self.player_reason = audio_output(player)
        self._seq = 0
        self._said_no_audio = False

    def _perform(self, call: PlayedCall) -> None:
        self.work_dir.mkdir(parents=True, exist_ok=True)
        ensure_chime(self.chime)
        self._seq += 1
        voice_wav = self.espeak.to_wav(call.announcement.spoken, self.voice, self.work_dir / f"voice-{self._seq:06d}.wav")
        call.voice_wav = voice_wav
        call.wav = join_call_wav(self.chime, voice_wav, call.times, self.work_dir / f"call-{self._seq:06d}.wav")
        self._prune()
        if self.player is None:
            if not self._said_no_audio:
                log.warning("voice: %s; calls are synthesised but not played", self.player_reason)
                self._said_no_audio = True
            return
        result = subprocess.run([*self.player, str(call.wav)], capture_output=True, timeout=self.play_timeout_s)
        call.played_with = self.player[0]
        if result.returncode != 0:
            raise VoiceError(f"{self.player[0]} failed (exit {result.returncode})")

    def diagnose(self) -> list[Check]:
        """espeak-ng and its voice, the chime, and an audio output to play on."""
        checks = [self.espeak.voice_check("voice.espeak", self.voice, "board.voice")]
        checks.append(Check("voice.chime", OK if self.chime.is_file() else WARN, str(self.chime.name),
                            "" if self.chime.is_file() else "run: python -m devices.voice.chime"))
        checks.append(Check("voice.audio", OK if self.player else WARN, self.player_reason,
                            "" if self.player else "connect speakers / start PulseAudio; calls still show on screen"))
        return checks

    def close(self) -> None:
        self.stop()

    def _prune(self) -> None:
        for pattern in ("voice-*.wav", "call-*.wav"):
            files = sorted(self.work_dir.glob(pattern))
            for old in files[:-self.keep_files]:
                old.unlink(missing_ok=True)


def join_call_wav(chime: Path, voice: Path, times: int, out: Path, gap_s: float = 0.35) -> Path:
    """chime, gap, voice, gap, voice… in one WAV (both inputs 16-bit mono at
    the same rate; the chime is written to match espeak-ng's output)."""
    with wave.open(str(voice), "rb") as v:
        params = v.getparams()
        voice_frames = v.readframes(v.getnframes())
    with wave.open(str(chime), "rb") as c:
        if (c.getframerate(), c.getnchannels(), c.getsampwidth()) != (params.framerate, params.nchannels,
                                                                      params.sampwidth):
            raise VoiceError(f"chime {chime.name} format differs from espeak-ng output; regenerate it")
        chime_frames = c.readframes(c.getnframes())
    gap = b"\x00" * (int(params.framerate * gap_s) * params.sampwidth * params.nchannels)
    with wave.open(str(out), "wb") as w:
        w.setnchannels(params.nchannels)
        w.setsampwidth(params.sampwidth)
        w.setframerate(params.framerate)
        w.writeframes(chime_frames + gap + (voice_frames + gap) * max(1, times))
    return out
