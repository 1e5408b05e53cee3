"""espeak-ng, the one text-to-speech program the kiosk uses — for the kiosk's
spoken guidance, the Qt board's calls and the web boards' call audio: finding
it, turning a text into a WAV, and checking a voice for ``kiosk doctor``."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from kiosk.errors import KioskError
from kiosk.operations.diagnostics import FAIL, OK, Check

SYNTH_TIMEOUT_S = 10.0  # one sentence; espeak-ng takes well under a second


class VoiceError(KioskError):
    """espeak-ng is missing or failed; the board still shows the call."""

    patient_message_key = "error.voice"
    exit_code: int | None = None  # espeak-ng's, when it ran and failed


class Espeak:
    def __init__(self, program: str | None = None):
        self.program = program or shutil.which("espeak-ng")

    def to_wav(self, text: str, voice: str, wav: Path, *, amplitude: int | None = None,
               rate: int | None = None) -> Path:
        """Speak ``text`` with ``voice`` into ``wav``; VoiceError when it cannot
        (the message names the voice and exit code, never the text)."""
        if not self.program:
            raise VoiceError("espeak-ng not found: install the Debian package espeak-ng")
        args = [self.program, "-v", voice]
        if amplitude is not None:
            args += ["-a", str(amplitude)]  # 0-200, 100 is espeak-ng's default
        if rate is not None:
            args += ["-s", str(rate)]  # words per minute
        try:
            out = subprocess.run([*args, "-w", str(wav), text], capture_output=True, timeout=SYNTH_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            raise VoiceError(f"espeak-ng -v {voice} did not finish within {SYNTH_TIMEOUT_S:g} s") from None
        if out.returncode != 0 or not wav.is_file():
            failed = VoiceError(f"espeak-ng -v {voice} failed (exit {out.returncode}): "
                                f"{out.stderr.decode(errors='replace').strip()[:200]}")
            failed.exit_code = out.returncode
            raise failed
        return wav

    def has_voice(self, voice: str) -> bool:
        out = subprocess.run([self.program, f"--voices={voice}"], capture_output=True, text=True,
                             timeout=SYNTH_TIMEOUT_S)
        return any(line.strip() for line in out.stdout.splitlines()[1:])

    def voice_check(self, name: str, voice: str, setting: str) -> Check:
        """``kiosk doctor``: espeak-ng is installed and has ``voice`` (set by ``setting``)."""
        if not self.program:
            return Check(name, FAIL, "espeak-ng not found", "apt-get install espeak-ng")
        try:
            found = self.has_voice(voice)
        except (OSError, subprocess.TimeoutExpired) as exc:
            return Check(name, FAIL, f"espeak-ng --voices did not answer ({type(exc).__name__})",
                         "reinstall espeak-ng (apt-get install --reinstall espeak-ng)")
        if found:
            return Check(name, OK, f"espeak-ng voice {voice!r} available")
        return Check(name, FAIL, f"espeak-ng has no voice {voice!r}",
                     f"set {setting} to a voice of `espeak-ng --voices=vi` (vi, vi-vn-x-south, vi-vn-x-central)")
