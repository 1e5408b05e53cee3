"""A scripted walk through every screen, driven through the simulators and
the real buttons: used by ``kiosk demo --offscreen --screenshots DIR`` and by
the screenshot tests. Each scenario is what a patient would do; ``shot(name)``
saves the current screen as PNG."""
from __future__ import annotations

import time
from pathlib import Path

from PySide6.QtWidgets import QApplication

from kiosk.demo_data import cccd_qr_payload, demo_patient_code, demo_person
from kiosk.journey import machine as j
from kiosk.ports import MODE_ONLINE, PRINTER_OK, PRINTER_PAPER_OUT, DemoControls

SCENARIOS = ("chip", "qr", "typed", "patient_code", "walk_in", "card_removed", "paper_out", "offline", "large",
             "voice")


class TourError(RuntimeError):
    """The kiosk did not reach the expected screen in time."""


class TourStopped(TourError):
    """The tour was asked to stop (SIGTERM/SIGINT to `kiosk demo`)."""


class AtTheDesk(Exception):
    """The patient's BHYT card cannot be used and the kiosk sent them to the desk
    (an outcome set to ``"counter"`` in ``[insurance.outcomes]``): the scenario ends there."""


def cccd_qr(person_key: str) -> str:
    """The text of a demo person's CCCD QR code (2021 layout)."""
    return cccd_qr_payload(demo_person(person_key))


class Tour:
    def __init__(self, controller, window, controls: DemoControls, out_dir: Path | None = None, *,
                 prefix: str = "", language: str = "vi", on_shot=None, stop_requested=None):
        self.c, self.w, self.d = controller, window, controls
        self.out_dir = Path(out_dir) if out_dir else None
        self.prefix = prefix
        self.saved: list[Path] = []
        self._last_qr: tuple[str, float] = ("", 0.0)
        self.language = language
        self.on_shot = on_shot  # called with the screen's name after each shot (tests check layouts)
        self.stop_requested = stop_requested or (lambda: False)

    # --- plumbing ------------------------------------------------------------------------
    def wait(self, predicate, timeout: float = 20.0, what: str = "") -> None:
        deadline = time.monotonic() + timeout
        while not predicate():
            if self.stop_requested():
                raise TourStopped(f"tour: stopped while waiting for {what or 'the kiosk'}")
            if time.monotonic() > deadline:
                raise TourError(f"tour: timed out waiting for {what or 'the kiosk'} "
                                f"(step {self.c.journey.step.value})")
            QApplication.processEvents()
            time.sleep(0.01)
        QApplication.processEvents()

    def step(self, step: str, timeout: float = 20.0) -> None:
        target = j.Step(step)
        self.wait(lambda: self.c.journey.step is target, timeout, step)

    def pause(self, seconds: float) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            if self.stop_requested():
                raise TourStopped("tour: stopped")
            QApplication.processEvents()
            time.sleep(0.01)

    def show_qr(self, person: str) -> None:
        """Hold a person's CCCD QR code to the camera. The camera reports the
        same code once per few seconds, so showing it again right away waits."""
        payload = cccd_qr(person)
        last, gone_at = self._last_qr
        hold = self.d.qr_repeat_after_s() + 1.0
        if payload == last and time.monotonic() - gone_at < hold:
            self.pause(hold - (time.monotonic() - gone_at))
        self.d.show_qr(payload, seconds=0.6)
        self._last_qr = (payload, time.monotonic() + 0.6)  # when the code leaves the camera's view

    def tap(self, button) -> None:
        if not (button.isVisible() and button.isEnabled()):
            raise TourError(f"tour: button {button.text()!r} is not available")
        button.click()
        QApplication.processEvents()

    def screen(self, name: str):
        return self.w.screens[name]

    def shot(self, name: str) -> None:
        if self.out_dir is None:
            return
        self.pause(0.05)
        self.out_dir.mkdir(parents=True, exist_ok=True)
        path = self.out_dir / f"{self.prefix}{name}.png"
        if not self.w.grab().save(str(path)):
            raise TourError(f"tour: cannot write {path}")
        self.saved.append(path)
        if self.on_shot is not None:
            self.on_shot(name)

    def printer_state(self, state: str) -> None:
        self.d.set_printer_state(state)
        self.c.bridge.refresh_printer()
        self.wait(lambda: self.c.printer_status == state, what=f"printer {state}")

    def home(self) -> None:
        if self.c.journey.step is not j.Step.WELCOME:
            self.c.send(j.GoHome())
        if self.d.card_present():
            self.d.remove_card()
        self.step("welcome")

    def finish(self, name: str) -> None:
        self.step("done", timeout=60)
        self.shot(name)
        self.tap(self.screen("done").finish)
        self.home()

    # --- scenarios -----------------------------------------------------------------------
    def past_confirm(self, name: str | None = None) -> None:
        """The step-by-step flow asks "is this you?" first; the short flow does not."""
        self.wait(lambda: self.c.journey.step in (j.Step.CONFIRM_IDENTITY, j.Step.APPOINTMENT, j.Step.DEPARTMENT,
                                                  j.Step.ERROR, j.Step.INSURANCE), 60, "the identity or the visit screen")
        if self.c.journey.step is j.Step.CONFIRM_IDENTITY:
            if name:
                self.shot(name)
            self.tap(self.screen("confirm").yes)
            self.wait(lambda: self.c.journey.step in (j.Step.APPOINTMENT, j.Step.DEPARTMENT, j.Step.INSURANCE), 60,
                      "lookup")
        self.past_insurance()

    def past_insurance(self) -> None:
        """A BHYT card that cannot be used: the fee-paying visit is accepted, or the kiosk sends the patient to the desk."""
        if self.c.journey.step is not j.Step.INSURANCE:
            return
        screen = self.screen("insurance")
        if screen.accept.isVisible():
            self.shot(self._fresh_name("insurance_fee"))
            self.tap(screen.accept)
            self.wait(lambda: self.c.journey.step in (j.Step.APPOINTMENT, j.Step.DEPARTMENT), what="the visit screen")
            return
        self.shot(self._fresh_name("insurance_counter"))
        self.tap(screen.finish)
        raise AtTheDesk()

    def _fresh_name(self, name: str) -> str:
        """``name``, or ``name_2``, ``name_3``… when several patients of the tour reach the same screen."""
        taken = {p.stem for p in self.saved}
        n = 1
        while (f"{self.prefix}{name}" if n == 1 else f"{self.prefix}{name}_{n}") in taken:
            n += 1
        return name if n == 1 else f"{name}_{n}"

    def wait_photo(self) -> None:
        try:  # the face image follows the identity by a moment
            self.wait(lambda: self.c.journey.identity is not None and self.c.journey.identity.photo is not None,
                      5.0, "photo")
        except TourError:
            pass  # a card without a readable photo: the screen works without it

    def check_in_booked(self) -> None:
        self.tap(self.screen("appointment").confirm)
        if self.c.journey.step is j.Step.PRIORITY:
            self.shot("priority")
            self.tap(self.screen("priority").none)

    def choose_department(self, code: str | None = None) -> None:
        self.wait(lambda: bool(self.screen("department").buttons), what="departments")
        codes = [d.code for d in self.c.journey.departments]
        self.tap(self.screen("department").buttons[codes.index(code) if code in codes else 0])
        if self.c.journey.step is j.Step.PRIORITY:
            self.tap(self.screen("priority").none)

    def chip(self, person: str = "an") -> None:
        """Card first, then the QR for the key; chip read; booked appointment: one touch."""
        self.shot("welcome")
        self.d.set_card_read_time(0.8)
        self.d.insert_card(person)
        self.step("need_key")
        self.shot("card_needs_key")
        self.show_qr(person)
        self.step("reading")
        self.shot("reading")
        self.d.set_card_read_time(0.2)
        self.past_confirm("confirm_chip")
        self.step("appointment")
        self.wait_photo()
        self.shot("appointment")
        self.toggle_large("appointment_large")  # one touch, on any screen
        self.check_in_booked()
        self.step("done", timeout=60)
        self.toggle_large("done_large")
        self.finish("done")

    def toggle_large(self, name: str) -> None:
        """Large text on for one picture, then off again."""
        self.tap(self.w.large_button)
        self.wait(lambda: self.c.journey.large_text, what="large text")
        self.shot(name)
        self.tap(self.w.large_button)
        self.wait(lambda: not self.c.journey.large_text, what="normal text")

    def qr(self, person: str = "nhung") -> None:
        """QR only: lower assurance, shown above the appointment, with the priority buttons."""
        self.show_qr(person)
        self.past_confirm("confirm_qr")
        if self.c.journey.step is j.Step.APPOINTMENT:
            self.shot("appointment_qr")
            self.tap(self.w.speech_button)  # read aloud, from the middle of the journey on
            self.wait(lambda: self.c.journey.speech, what="speech on")
            self.shot("appointment_voice")
            self.tap(self.w.speech_button)
            self.check_in_booked()
        else:
            self.choose_department()
        self.finish("done_qr")

    def typed(self, person: str = "ngoc") -> None:
        """The keypad: a wrong number is refused before any HIS call."""
        self.tap(self.screen("welcome").type_id)
        self.step("keypad")
        keypad = self.screen("keypad")
        for d in demo_person(person)["citizen_id"][:7]:
            self.tap(keypad.keys[d])
        self.shot("keypad")
        for d in demo_person(person)["citizen_id"][7:]:
            self.tap(keypad.keys[d])
        self.tap(keypad.ok)
        self.past_confirm("confirm_typed")
        self.step("department")
        self.wait(lambda: bool(self.screen("department").buttons), what="departments")
        self.shot("department")
        self.choose_department()
        self.finish("done_typed")

    def patient_code(self, typed: str = "hung", slip: str = "ngoc") -> None:
        """The hospital patient code: typed on the keypad, then an old slip's barcode shown to the camera."""
        self.tap(self.screen("welcome").patient_code)
        self.step("keypad")
        keypad = self.screen("keypad")
        for d in demo_patient_code(demo_person(typed))[3:]:
            self.tap(keypad.keys[d])
        self.shot("keypad_patient_code")
        self.tap(keypad.ok)
        self.past_confirm("confirm_patient_code")
        self.step("appointment")
        self.shot("appointment_patient_code")
        self.check_in_booked()
        self.finish("done_patient_code")
        self.d.show_slip(demo_patient_code(demo_person(slip)), seconds=0.6)
        self.past_confirm()
        self.step("department")
        self.shot("department_patient_code_slip")
        self.choose_department()
        self.finish("done_slip")

    def walk_in(self, person: str = "huong") -> None:
        """Not known to the HIS, no appointment: a card upgrades the QR identity; priority, then a department."""
        self.show_qr(person)
        self.wait(lambda: self.c.journey.step in (j.Step.CONFIRM_IDENTITY, j.Step.DEPARTMENT, j.Step.INSURANCE), 60,
                  "identity")
        self.past_insurance()  # no BHYT card: the desk, or a fee-paying visit
        self.d.insert_card(person)  # a card on the reader upgrades the QR identity
        self.step("reading")
        self.past_confirm()
        self.step("department")
        self.wait(lambda: bool(self.screen("department").buttons), what="departments")
        codes = [d.code for d in self.c.journey.departments]
        department = self.screen("department")
        if department.priority.isVisible():  # short flow: the priority buttons sit above the departments
            self.tap(department.priority.buttons[j.DECLARABLE_PRIORITIES[0]])
            self.shot("department_priority")
            self.tap(department.buttons[codes.index("SAN") if "SAN" in codes else 0])
        else:
            self.tap(department.buttons[codes.index("SAN") if "SAN" in codes else 0])
            self.step("priority")
            self.shot("priority_walk_in")
            self.tap(self.screen("priority").choices[j.DECLARABLE_PRIORITIES[0]])
        self.finish("done_priority")

    def card_removed(self, person: str = "an") -> None:
        """The card is lifted while the chip is read: a clear next step."""
        self.d.set_card_read_time(2.0)
        self.d.insert_card(person)
        self.step("need_key")
        self.show_qr(person)
        self.step("reading")
        self.d.remove_card()
        self.step("error")
        self.d.set_card_read_time(0.2)
        self.shot("error_card_removed")
        self.home()

    def paper_out(self, person: str = "ngoc") -> None:
        """The printer is out of paper: said on the welcome screen, number shown on screen."""
        self.printer_state(PRINTER_PAPER_OUT)
        self.shot("welcome_paper_out")
        self.show_qr(person)
        self.past_confirm()
        self.step("department")
        self.choose_department()
        self.finish("done_not_printed")
        self.printer_state(PRINTER_OK)

    def offline(self, person: str = "ngoc") -> None:
        """The HIS goes away mid-journey: the ticket is issued offline."""
        self.d.his_down()
        self.show_qr(person)
        self.past_confirm()
        self.step("department", timeout=60)
        self.shot("department_offline")
        self.choose_department()
        self.wait(lambda: self.c.journey.step in (j.Step.DONE, j.Step.ERROR), timeout=90, what="offline ticket")
        if self.c.journey.step is j.Step.ERROR:
            self.shot("error_offline")
            self.home()
        else:
            self.finish("done_offline")
        self.d.his_up()
        # the next probe (offline.probe_interval_s) finds the HIS back: the next screens are online again
        self.wait(lambda: self.c.connectivity == MODE_ONLINE, timeout=60, what="the kiosk back online")

    def large(self, person: str = "ngoc") -> None:
        """Large text and high contrast, one touch in the header (a walk-in, start to ticket)."""
        self.tap(self.w.large_button)
        self.wait(lambda: self.c.journey.large_text, what="large text")
        self.shot("welcome_large")
        self.d.insert_card(person)
        self.step("need_key")
        self.shot("card_needs_key_large")
        self.show_qr(person)
        self.past_confirm()
        self.step("department")
        self.wait(lambda: bool(self.screen("department").buttons), what="departments")
        self.shot("department_large")
        self.choose_department()
        self.finish("done_walk_in_large")
        self.tap(self.w.large_button)
        self.tap(self.screen("welcome").patient_code)
        self.step("keypad")
        for d in "004321":
            self.tap(self.screen("keypad").keys[d])
        self.shot("keypad_large")
        self.tap(self.screen("keypad").back)
        self.step("welcome")

    def voice(self, person: str = "ngoc") -> None:
        """Spoken guidance on: the speech bar (repeat, stop, volume) and each screen read aloud."""
        self.tap(self.w.speech_button)
        self.wait(lambda: self.c.journey.speech, what="speech on")
        self.shot("welcome_voice")
        self.show_qr(person)
        self.past_confirm()
        self.step("department")
        self.wait(lambda: bool(self.screen("department").buttons), what="departments")
        self.tap(self.w.louder_button)
        self.shot("department_voice")
        self.choose_department()
        self.finish("done_voice")

    def set_language(self) -> None:
        """Each patient starts in Vietnamese; touch the language button if the tour is in English."""
        if self.c.journey.language != self.language:
            self.tap(self.w.language)
            self.wait(lambda: self.c.journey.language == self.language, what="language")

    def run(self, scenarios=SCENARIOS) -> list[Path]:
        if self.d.simulates("camera"):  # the camera starts on a worker: a code shown before it runs is lost
            self.wait(self.d.camera_running, timeout=60, what="the camera to start")
        for name in scenarios:
            self.set_language()
            try:
                getattr(self, name)()
            except AtTheDesk:
                self.home()
        return self.saved
