"""Voice calls for calling boards: chime + espeak-ng Vietnamese voice, one
thread, calls never overlap; the kiosk's spoken guidance; the web boards'
call audio. Each comes as espeak and simulated (``espeak_announcer`` /
``simulated_announcer``, ``espeak_speaker`` / ``simulated_speaker``,
``espeak_call_audio`` / ``simulated_call_audio``); ``app.compose`` picks by
``board.voice_driver`` and ``speech.driver``. Each one's ``diagnose()``
reports what ``kiosk doctor`` should show."""
from __future__ import annotations

from devices.voice.announcer import (
    Announcement,
    Announcer,
    EspeakAnnouncer,
    PlayedCall,
    SimulatedAnnouncer,
)
from devices.voice.espeak import VoiceError
from devices.voice.speaker import EspeakSpeaker, SimulatedSpeaker
from devices.voice.synth import EspeakCallAudio, SimulatedCallAudio

__all__ = ["Announcement", "Announcer", "EspeakAnnouncer", "EspeakCallAudio", "PlayedCall", "SimulatedAnnouncer",
           "SimulatedCallAudio", "VoiceError", "EspeakSpeaker", "SimulatedSpeaker", "espeak_announcer",
           "espeak_call_audio", "espeak_speaker", "simulated_announcer", "simulated_call_audio",
           "simulated_speaker"]


def simulated_announcer(config) -> SimulatedAnnouncer:
    return SimulatedAnnouncer(repeat=config.board.repeat)


def espeak_announcer(config) -> EspeakAnnouncer:
    """A calling board's chime + espeak-ng voice from ``[display]``."""
    d = config.board
    return EspeakAnnouncer(voice=d.voice, repeat=d.repeat, work_dir=config.data_dir() / "voice",
                           player=d.audio_player)


def simulated_speaker(config) -> SimulatedSpeaker:
    return SimulatedSpeaker(volume=config.speech.volume)


def espeak_speaker(config) -> EspeakSpeaker:
    """The kiosk's spoken guidance from ``[speech]``."""
    sp = config.speech
    return EspeakSpeaker(voices={"vi": sp.voice_vi, "en": sp.voice_en}, work_dir=config.data_dir() / "speech",
                         volume=sp.volume, rate=sp.rate, output=sp.output, headphones=sp.headphones)


def simulated_call_audio(config) -> SimulatedCallAudio:
    return SimulatedCallAudio(repeat=config.board.repeat)


def espeak_call_audio(config) -> EspeakCallAudio:
    """The web boards' voice (``kiosk.ports.CallAudio``)."""
    return EspeakCallAudio(voice=config.board.voice, repeat=config.board.repeat)
