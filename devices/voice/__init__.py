"""Voice calls for ward boards: chime + espeak-ng Vietnamese voice, one thread,
calls never overlap. ``build_announcer(config)`` picks the driver from
``display.voice_driver`` (espeak / simulator / none); ``diagnose(config)``
reports what ``kiosk doctor`` should show."""
from __future__ import annotations

import shutil
import subprocess

from kiosk import messages
from kiosk.diagnostics import FAIL, OK, WARN, Check

from .announcer import (
    Announcement,
    Announcer,
    EspeakAnnouncer,
    PlayedCall,
    SimulatedAnnouncer,
    VoiceError,
    audio_output,
)
from .chime import CHIME_FILE

__all__ = ["Announcement", "Announcer", "EspeakAnnouncer", "PlayedCall", "SimulatedAnnouncer",
           "VoiceError", "build_announcer", "diagnose"]

messages.register({
    "error.voice": {
        "vi": "Loa gọi số đang gặp sự cố. Vui lòng theo dõi số trên màn hình.",
        "en": "The call announcements are not working. Please watch the numbers on the screen.",
    },
})


def build_announcer(config) -> Announcer | None:
    d = config.display
    if d.voice_driver == "none":
        return None
    if d.voice_driver == "simulator":
        return SimulatedAnnouncer(repeat=d.repeat)
    return EspeakAnnouncer(voice=d.voice, repeat=d.repeat, work_dir=config.data_dir() / "voice",
                           player=d.audio_player)


def diagnose(config) -> list[Check]:
    d = config.display
    if d.voice_driver != "espeak":
        return [Check("voice.driver", OK, f"display.voice_driver = {d.voice_driver}")]
    checks = []
    espeak = shutil.which("espeak-ng")
    if not espeak:
        checks.append(Check("voice.espeak", FAIL, "espeak-ng not found", "apt-get install espeak-ng"))
    else:
        out = subprocess.run([espeak, f"--voices={d.voice}"], capture_output=True, text=True, timeout=10)
        lines = [ln for ln in out.stdout.splitlines()[1:] if ln.strip()]
        if lines:
            checks.append(Check("voice.espeak", OK, f"espeak-ng voice {d.voice!r} available"))
        else:
            checks.append(Check("voice.espeak", FAIL, f"espeak-ng has no voice {d.voice!r}",
                                "set display.voice to vi (or vi-vn-x-south / vi-vn-x-central)"))
    checks.append(Check("voice.chime", OK if CHIME_FILE.is_file() else WARN, str(CHIME_FILE.name),
                        "" if CHIME_FILE.is_file() else "run: python -m devices.voice.chime"))
    player, reason = audio_output(d.audio_player)
    checks.append(Check("voice.audio", OK if player else WARN, reason,
                        "" if player else "connect speakers / start PulseAudio; calls still show on screen"))
    return checks
