"""Voice calls for calling boards: chime + espeak-ng Vietnamese voice, one
thread, calls never overlap. ``build_announcer(config)`` picks the driver from
``board.voice_driver`` (espeak / simulator / none); each announcer's
``diagnose()`` reports what ``kiosk doctor`` should show."""
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
           "SimulatedCallAudio", "VoiceError", "build_announcer", "build_call_audio", "build_speaker",
           "EspeakSpeaker", "SimulatedSpeaker"]


def build_announcer(config) -> Announcer | None:
    d = config.board
    if d.voice_driver == "none":
        return None
    if d.voice_driver == "simulator":
        return SimulatedAnnouncer(repeat=d.repeat)
    return EspeakAnnouncer(voice=d.voice, repeat=d.repeat, work_dir=config.data_dir() / "voice",
                           player=d.audio_player)


def build_speaker(config):
    """The kiosk's spoken guidance from ``speech.driver``: espeak / simulator / none."""
    sp = config.speech
    if sp.driver == "none":
        return None
    if sp.driver == "simulator":
        return SimulatedSpeaker(volume=sp.volume)
    return EspeakSpeaker(voices={"vi": sp.voice_vi, "en": sp.voice_en}, work_dir=config.data_dir() / "speech",
                         volume=sp.volume, rate=sp.rate, output=sp.output, headphones=sp.headphones)


def build_call_audio(config):
    """The web boards' voice (``kiosk.ports.CallAudio``) from ``board.voice_driver``; None when "none"."""
    d = config.board
    if d.voice_driver == "none":
        return None
    if d.voice_driver == "simulator":
        return SimulatedCallAudio(repeat=d.repeat)
    return EspeakCallAudio(voice=d.voice, repeat=d.repeat)
