"""A scripted walk through every screen, driven through the simulators and
the real buttons: used by ``kiosk demo --offscreen --screenshots DIR`` and by
the screenshot tests. Each scenario is what a patient would do; ``shot(name)``
saves the current screen as PNG."""
from __future__ import annotations

import time
from pathlib import Path

from PySide6.QtWidgets import QApplication

from kiosk import journey as j
from kiosk.demo_data import cccd_qr_payload, demo_person
from kiosk.ports import PRINTER_OK, PRINTER_PAPER_OUT, DemoControls

SCENARIOS = ("chip", "qr", "typed", "walk_in", "card_removed", "paper_out", "offline")


class TourError(RuntimeError):
    """The kiosk did not reach the expected screen in time."""


class TourStopped(TourError):
    """The tour was asked to stop (SIGTERM/SIGINT to `kiosk demo`)."""


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
    def chip(self, person: str = "an") -> None:
        """Card first, then the QR for the key; chip read; booked appointment."""
        self.shot("welcome")
        self.d.set_card_read_time(0.8)
        self.d.insert_card(person)
        self.step("need_key")
        self.shot("card_needs_key")
        self.show_qr(person)
        self.step("reading")
        self.shot("reading")
        self.step("confirm_identity")
        self.d.set_card_read_time(0.2)
        try:  # the face image follows the identity by a moment
            self.wait(lambda: self.c.journey.identity is not None and self.c.journey.identity.photo is not None,
                      5.0, "photo")
        except TourError:
            pass  # a card without a readable photo: the screen works without it
        self.shot("confirm_chip")
        self.tap(self.screen("confirm").yes)
        self.step("appointment")
        self.shot("appointment")
        self.tap(self.screen("appointment").confirm)
        if self.c.journey.step is j.Step.PRIORITY:
            self.shot("priority")
            self.tap(self.screen("priority").none)
        self.finish("done")

    def qr(self, person: str = "nhung") -> None:
        """QR only: lower assurance, shown on the confirm screen."""
        self.show_qr(person)
        self.step("confirm_identity")
        self.shot("confirm_qr")
        self.tap(self.screen("confirm").yes)
        self.wait(lambda: self.c.journey.step in (j.Step.APPOINTMENT, j.Step.DEPARTMENT), what="lookup")
        if self.c.journey.step is j.Step.APPOINTMENT:
            self.tap(self.screen("appointment").confirm)
        else:
            self.tap(self.screen("department").buttons[0])
        if self.c.journey.step is j.Step.PRIORITY:
            self.tap(self.screen("priority").none)
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
        self.step("confirm_identity")
        self.shot("confirm_typed")
        self.tap(self.screen("confirm").yes)
        self.step("department")
        self.wait(lambda: bool(self.screen("department").buttons), what="departments")
        self.shot("department")
        self.tap(self.screen("department").buttons[0])
        self.step("priority")
        self.tap(self.screen("priority").none)
        self.finish("done_typed")

    def walk_in(self, person: str = "huong") -> None:
        """Not known to the HIS, no appointment: choose a department, declare priority."""
        self.show_qr(person)
        self.step("confirm_identity")
        self.d.insert_card(person)  # a card on the reader upgrades the QR identity
        self.step("reading")
        self.step("confirm_identity")
        self.tap(self.screen("confirm").yes)
        self.step("department")
        codes = [d.code for d in self.c.journey.departments]
        self.tap(self.screen("department").buttons[codes.index("SAN") if "SAN" in codes else 0])
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
        self.step("confirm_identity")
        self.tap(self.screen("confirm").yes)
        self.step("department")
        self.tap(self.screen("department").buttons[0])
        self.step("priority")
        self.tap(self.screen("priority").none)
        self.finish("done_not_printed")
        self.printer_state(PRINTER_OK)

    def offline(self, person: str = "ngoc") -> None:
        """The HIS goes away mid-journey: the ticket is issued offline."""
        self.show_qr(person)
        self.step("confirm_identity")
        self.d.his_down()
        self.tap(self.screen("confirm").yes)
        self.step("department", timeout=60)
        self.shot("department_offline")
        self.tap(self.screen("department").buttons[0])
        self.step("priority")
        self.tap(self.screen("priority").none)
        self.wait(lambda: self.c.journey.step in (j.Step.DONE, j.Step.ERROR), timeout=90, what="offline ticket")
        if self.c.journey.step is j.Step.ERROR:
            self.shot("error_offline")
            self.home()
        else:
            self.finish("done_offline")
        self.d.his_up()

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
            getattr(self, name)()
        return self.saved
