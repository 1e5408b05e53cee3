"""Drives the Qt-free journey from the GUI thread.

Touches and device signals become journey events; the effects the journey
returns run on the worker pool (``kiosk.journey.machine.perform``) and their results
come back as events. One single-shot timer enforces the current step's
timeout (idle reset on personal screens, a way out of every wait).

Spoken guidance: while the patient has it on, each new screen is read aloud
(``kiosk.journey.spoken.spoken_text`` of the journey) through the ``Speech`` port —
which speaks on its own device thread; this only hands over the sentence.
"""
from __future__ import annotations

import logging
from datetime import date, datetime
from zoneinfo import ZoneInfo

from PySide6.QtCore import QObject, QTimer, Signal

from kiosk.journey import machine as j
from kiosk.journey.spoken import spoken_text
from kiosk.ports import (
    CARD_INSERTED,
    CARD_REMOVED,
    DEVICE_READY,
    HEADPHONES_IN,
    HEADPHONES_OUT,
    MODE_ONLINE,
    PRINTER_UNKNOWN,
    QR_READABLE,
    QR_UNREADABLE,
    SPEECH_FAILED,
    SPEECH_PLAYED,
)
from ui.device_signals import NONE, STARTING, DeviceBridge
from ui.tasks import TaskRunner

log = logging.getLogger(__name__)


class Controller(QObject):
    changed = Signal()          # the journey moved: redraw the current screen
    status_changed = Signal()   # a device or the connection changed
    personal_data_cleared = Signal()
    checked_in = Signal(object)  # CheckInResult (its ticket holds only the masked name)
    printed = Signal(object)     # Ticket, once printed
    services_ready = Signal(object)  # KioskServices, once built (``attach``)

    def __init__(self, services, config, runner: TaskRunner | None = None, parent=None):
        """``services`` may be None while they are still being built (``attach`` them
        later): the window is up at once and the devices join when ready."""
        super().__init__(parent)
        self.services = None
        self.bridge: DeviceBridge | None = None
        self.config = config
        self.tz = ZoneInfo(config.kiosk.timezone)
        self.runner = runner or TaskRunner(parent=self)
        self.journey = j.Journey(j.Settings.from_config(config), today=self.today)
        self.reader_state = self.camera_state = STARTING
        self.connectivity = MODE_ONLINE
        # Until the printer answers its status is unknown, and unknown is never OK.
        self.printer_status = PRINTER_UNKNOWN
        self.journey.handle(j.PrinterStatus(self.printer_status))
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.timeout.connect(self._timed_out)
        self._armed_for = -1
        self._waiting_effects: list = []  # asked for before the services were ready
        self.speech = None  # kiosk.ports.Speech, when the kiosk has a voice
        self.speech_failed = False  # the speaker reported that its last sentence could not be played
        self.qr_unreadable = False  # the camera sees a code it cannot read (the welcome screen says so)
        self.digits_typed = lambda: 0  # how many digits the keypad on screen holds (set by the window)
        self._said: tuple | None = None  # (generation, language) last read aloud
        if services is not None:
            self._wire(services)

    def _wire(self, services) -> None:
        self.services = services
        self.reader_state = NONE if services.card_reader is None else DEVICE_READY
        self.camera_state = NONE if services.scanner is None else DEVICE_READY
        if services.printer is None:
            self._printer_status(NONE)
        self.bridge = DeviceBridge(services, self.runner, parent=self)
        self.bridge.card_event.connect(self._card_event)
        self.bridge.qr_code.connect(lambda text: self.send(j.QrScanned(text)))
        self.bridge.camera_event.connect(self._camera_event)
        self.bridge.connectivity.connect(self._connectivity)
        self.bridge.printer_status.connect(self._printer_status)
        self.bridge.speech_event.connect(self._speech_event)
        self.speech = services.speech

    def attach(self, services) -> None:
        """The services are built: start the devices and run what was waiting."""
        self._wire(services)
        self.start()
        waiting, self._waiting_effects = self._waiting_effects, []
        self._run(waiting)
        self.services_ready.emit(services)

    def out_of_service(self, error: BaseException) -> None:
        key = getattr(error, "patient_message_key", None) or "error.out_of_service"
        self.send(j.OutOfService(key))

    def today(self) -> date:
        return datetime.now(self.tz).date()

    def local_time(self, when: datetime | None) -> str:
        if when is None:
            return ""
        if when.tzinfo is not None:
            when = when.astimezone(self.tz)
        return when.strftime("%H:%M")

    def start(self) -> None:
        if self.bridge is not None:
            self.bridge.start()
            self._run([j.LoadDepartments()])
        self.status_changed.emit()
        self.changed.emit()

    def stop(self) -> None:
        self.timer.stop()
        self.stop_speech()
        if self.bridge is not None:
            self.bridge.stop()
        self.runner.shutdown()

    # --- events in ----------------------------------------------------------------------
    def send(self, event) -> None:
        before = self.journey.step
        had_personal = self.journey.identity is not None or self.journey.result is not None
        effects = self.journey.handle(event)
        self._run(effects)
        self._arm()
        step = self.journey.step
        if step is j.Step.WELCOME and (before is not j.Step.WELCOME or had_personal):
            self.personal_data_cleared.emit()
        if step is j.Step.DONE and before is not j.Step.DONE:
            self.checked_in.emit(self.journey.result)
            if self.journey.printed:
                self.printed.emit(self.journey.result.ticket)
            self.bridge.refresh_printer()  # a ticket may have used the last paper
        self.changed.emit()
        self._speak()

    # --- accessibility: speech and large text ----------------------------------------------
    def toggle_speech(self) -> None:
        turning_on = not self.journey.speech
        if not turning_on and self.speech is not None:
            self.speech.silence()
        self.send(j.SetSpeech(turning_on))

    def toggle_large_text(self) -> None:
        self.send(j.SetLargeText(not self.journey.large_text))

    def repeat_speech(self) -> None:
        self._speak(force=True)

    def stop_speech(self) -> None:
        if self.speech is not None:
            self.speech.silence()

    def change_volume(self, delta: int) -> None:
        if self.speech is not None:
            self.speech.set_volume(self.speech.volume() + delta)
            self.changed.emit()
            self._speak(force=True)  # hear the new volume at once

    def say_control(self, name: str) -> None:
        """A button's name, said because the patient held a finger on it (``ui.touch_to_hear``)."""
        if self.speech is not None and self.journey.speech:
            self.speech.say(name, self.journey.language)

    def spoken(self, intro: bool = False) -> str:
        """What the current screen says (see kiosk.journey.spoken)."""
        return spoken_text(self.journey, self._hospital_time, digits_typed=self.digits_typed(), intro=intro)

    def _hospital_time(self, when: datetime | None) -> datetime | None:
        return when.astimezone(self.tz) if when is not None and when.tzinfo is not None else when

    def _speak(self, force: bool = False) -> None:
        journey = self.journey
        if self.speech is None or not journey.speech:
            self._said = None
            return
        key = (journey.generation, journey.language)
        if key == self._said and not force:
            return
        intro = self._said is None  # just turned on: say how to repeat and stop first
        self._said = key
        self.speech.say(self.spoken(intro=intro), journey.language)

    def _speech_event(self, event: str) -> None:
        """Headphones plugged in: speech on, for this patient; pulled out: off. A sentence
        that could not be played (or one played again) is shown in the speech bar."""
        if event in (SPEECH_FAILED, SPEECH_PLAYED):
            self.speech_failed = event == SPEECH_FAILED
            self.changed.emit()
        elif event == HEADPHONES_IN and not self.journey.speech:
            self.send(j.SetSpeech(True))
        elif event == HEADPHONES_OUT and self.journey.speech:
            self.stop_speech()
            self.send(j.SetSpeech(False))

    def user_activity(self) -> None:
        """A touch on a personal screen restarts its idle countdown."""
        if self.journey.step not in j.BUSY_STEPS and self.timer.isActive():
            self._arm(force=True)

    def _run(self, effects: list) -> None:
        services = self.services
        if services is None:
            self._waiting_effects.extend(effects)
            return
        for effect in effects:
            self.runner.run(lambda e=effect: j.perform(e, services), self.send)

    def _arm(self, force: bool = False) -> None:
        gen = self.journey.generation
        if gen == self._armed_for and not force:
            return
        self._armed_for = gen
        self.timer.stop()
        timeout = self.journey.timeout_s()
        if timeout:
            self.timer.start(int(timeout * 1000))

    def _timed_out(self) -> None:
        self.send(j.TimedOut(self._armed_for))

    # --- device signals -----------------------------------------------------------------
    def _card_event(self, event: str) -> None:
        if event == CARD_INSERTED:
            self.reader_state = DEVICE_READY
            self.send(j.CardInserted())
        elif event == CARD_REMOVED:
            self.reader_state = DEVICE_READY
            self.send(j.CardRemoved())
        else:
            self.reader_state = event
            if event != DEVICE_READY and self.journey.card_present:
                self.send(j.CardRemoved())  # a reader that vanished holds no card
        self.status_changed.emit()
        self.changed.emit()

    def _camera_event(self, event: str) -> None:
        if event in (QR_UNREADABLE, QR_READABLE):  # a hint for the welcome screen, not a camera state
            if self.qr_unreadable != (event == QR_UNREADABLE):
                self.qr_unreadable = event == QR_UNREADABLE
                self.changed.emit()
            return
        self.camera_state = event
        self.status_changed.emit()
        self.changed.emit()

    def _connectivity(self, mode: str) -> None:
        self.connectivity = mode
        self.journey.handle(j.Connectivity(mode))
        self.status_changed.emit()

    def _printer_status(self, status: str) -> None:
        self.printer_status = status
        self.journey.handle(j.PrinterStatus(status))
        self.status_changed.emit()
        self.changed.emit()
