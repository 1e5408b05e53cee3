"""The call chime: a short two-tone "ding-dong", synthesised here so the
project ships no third-party sound file.

``python -m devices.voice.chime [FILE]`` writes it (default
``assets/sounds/chime.wav``). The format matches espeak-ng's WAV output
(22 050 Hz, mono, 16-bit) so the announcer can join chime and voice into one
file and play it with one player call.
"""
from __future__ import annotations

import math
import struct
import sys
import wave
from pathlib import Path

SAMPLE_RATE = 22050
ASSETS_SOUNDS = Path(__file__).resolve().parents[2] / "assets" / "sounds"
CHIME_FILE = ASSETS_SOUNDS / "chime.wav"

# (frequency Hz, duration s): E6 then C6, like a classic two-tone door chime.
TONES = ((1318.5, 0.42), (1046.5, 0.62))


def chime_samples(sample_rate: int = SAMPLE_RATE, volume: float = 0.5) -> list[int]:
    """16-bit samples of the two tones. Each tone has a soft 8 ms attack and an
    exponential decay, plus a quiet octave partial, so it sounds like a bell
    rather than a beep and does not click."""
    samples: list[int] = []
    for freq, seconds in TONES:
        n = int(sample_rate * seconds)
        attack = int(sample_rate * 0.008)
        for i in range(n):
            t = i / sample_rate
            env = min(1.0, i / attack) * math.exp(-4.0 * t / seconds)
            value = math.sin(2 * math.pi * freq * t) + 0.25 * math.sin(2 * math.pi * 2 * freq * t)
            samples.append(int(max(-1.0, min(1.0, volume * env * value / 1.25)) * 32767))
    return samples


def write_chime(path: str | Path = CHIME_FILE, sample_rate: int = SAMPLE_RATE) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    data = chime_samples(sample_rate)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(sample_rate)
        w.writeframes(struct.pack(f"<{len(data)}h", *data))
    return path


def ensure_chime(path: str | Path = CHIME_FILE) -> Path:
    """The chime file, written first if it is missing (e.g. a trimmed install)."""
    path = Path(path)
    if not path.is_file():
        write_chime(path)
    return path


if __name__ == "__main__":
    print(write_chime(sys.argv[1] if len(sys.argv) > 1 else CHIME_FILE))
