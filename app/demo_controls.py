"""The demo's controls: ``kiosk.ports.DemoControls`` over the simulators, the
sandbox HIS and the BHXH gateway simulator, for the demo panel and the tour
(``kiosk demo``, ``kiosk ui --tour``)."""
from __future__ import annotations

from kiosk.ports import DemoControls
from kiosk.services import KioskServices


class SimulatorControls(DemoControls):
    """``kiosk.ports.DemoControls`` over the simulators and the sandbox HIS."""

    GATEWAY_MODES = ("up", "slow", "down")

    def __init__(self, services: KioskServices, sandbox=None, gateway=None):
        """``sandbox``: the sandbox HIS; ``gateway``: the BHXH gateway simulator (``app.sandbox``)."""
        self.reader, self.scanner, self.printer = services.card_reader, services.scanner, services.printer
        self.sandbox = sandbox
        self.gateway = gateway
        self.slow_s = services.config.insurance.timeout_s + 5.0  # "slow": past the patient's wait
        self.config = services.config

    def insert_card(self, person_key: str) -> None:
        self.reader.insert_card(person_key)

    def remove_card(self) -> None:
        self.reader.remove_card()

    def card_present(self) -> bool:
        return self.reader is not None and self.reader.card is not None

    def set_card_read_time(self, seconds: float) -> None:
        self.reader.set_slow(seconds)

    def show_qr(self, text: str, seconds: float = 1.0) -> None:
        self.scanner.show(text, seconds=seconds)

    def show_unreadable_qr(self) -> None:
        self.scanner.show_unreadable()

    def show_slip(self, code: str, seconds: float = 1.0) -> None:
        self.scanner.show_slip(code, seconds=seconds)

    def qr_repeat_after_s(self) -> float:
        return self.scanner.repeat_after_s

    def camera_running(self) -> bool:
        return self.scanner is not None and bool(getattr(self.scanner, "running", True))

    def set_printer_state(self, state: str) -> None:
        self.printer.set_state(state)

    def last_ticket_png(self) -> bytes | None:
        return self.printer.last_png()

    def his_down(self) -> None:
        if self.sandbox is not None:
            self.sandbox.set_faults(fail_status=503, fail_count=1_000_000)

    def his_up(self) -> None:
        if self.sandbox is not None:
            self.sandbox.set_faults()

    def set_gateway(self, mode: str) -> None:
        if mode not in self.GATEWAY_MODES:
            raise ValueError(f"gateway mode must be one of {self.GATEWAY_MODES}, got {mode!r}")
        if self.gateway is not None:
            self.gateway.mode(slow_s=self.slow_s if mode == "slow" else 0.0, down=mode == "down")

    def insurance_policy(self) -> dict[str, str] | None:
        """What each BHYT outcome leads to ([insurance.outcomes]); None when the kiosk checks no cards."""
        if self.config.insurance.gateway == "none":
            return None
        return self.config.insurance.policy()

    def simulates(self, part: str) -> bool:
        from devices.camera.simulator import SimulatedScanner
        from devices.card.simulator import SimulatedCardReader
        from devices.printer.simulator import SimulatedPrinter

        return {"card_reader": isinstance(self.reader, SimulatedCardReader),
                "camera": isinstance(self.scanner, SimulatedScanner),
                "printer": isinstance(self.printer, SimulatedPrinter),
                "his": self.sandbox is not None, "gateway": self.gateway is not None}.get(part, False)
