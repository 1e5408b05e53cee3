"""Identify: how the patient says who they are — the card on the reader (the chip,
read with the ID number from the QR or the keypad), the CCCD QR, an appointment QR
(the HIS says whose booking it is), the typed ID number, or the hospital patient
code (typed, or the QR on the slip).

Entry: the welcome screen (the journey starts here; ``needs`` nothing). The card and
the camera are listened to on every screen (``anywhere``): a card laid on the
confirm or visit screen upgrades a QR / typed identity to the chip's.
Exit: ``identity`` (and ``key``, the chip's access key; ``lookup`` when the HIS
already answered for a patient code); the photo (DG2) may still be arriving.
"""
from __future__ import annotations

import dataclasses

from kiosk.domain import AccessKey, Assurance, Identity, IdentitySource
from kiosk.errors import BookingNotUsable, HisUnavailable, PatientAmbiguous, PatientCodeNotUsable
from kiosk.identity import input_rules
from kiosk.identity.qr_payload import AppointmentQr, PatientCodeQr, QrPayloadError, parse_qr
from kiosk.journey import card_check
from kiosk.journey.events import (
    CITIZEN_ID,
    HOME,
    PATIENT_CODE,
    RETRY,
    TYPE_ID,
    USE_QR,
    VISIT_STEPS,
    CardInserted,
    CardRemoved,
    FindBooking,
    FindPatient,
    IdTyped,
    OpenKeypad,
    PatientCodeTyped,
    QrScanned,
    ReadChip,
    ReadPhoto,
    Step,
)
from kiosk.journey.steps import JourneyStep
from kiosk.ports import PatientLookup

OFFLINE_KEYS = {Step.FINDING_BOOKING: "ui.error.booking_offline", Step.FINDING_PATIENT: "ui.error.patient_code_offline"}
ON_THE_WAY = (RETRY, USE_QR, TYPE_ID, HOME)


class Identify(JourneyStep):
    name = "identify"
    screens = (Step.WELCOME, Step.NEED_KEY, Step.KEYPAD, Step.READING, Step.FINDING_BOOKING, Step.FINDING_PATIENT)
    anywhere = {CardInserted: "card_inserted", CardRemoved: "card_removed", OpenKeypad: "open_keypad",
                QrScanned: "qr_scanned", IdTyped: "id_typed", PatientCodeTyped: "patient_code_typed"}
    timeouts = {Step.WELCOME: None, Step.READING: "read_timeout_s", Step.FINDING_BOOKING: "lookup_timeout_s",
                Step.FINDING_PATIENT: "lookup_timeout_s"}
    busy = frozenset({Step.READING, Step.FINDING_BOOKING, Step.FINDING_PATIENT})
    needs: tuple = ()
    gives = ("identity", "key")

    def enter(self, j, notice: str | None = None) -> list:
        j.go(Step.WELCOME, notice)
        return []

    # --- the patient's events --------------------------------------------------------------
    def card_inserted(self, j, ev) -> list | None:
        j.card_present = True
        upgradable = j.identity is not None and j.identity.source is not IdentitySource.CHIP
        if j.step is Step.WELCOME:
            j.go(Step.NEED_KEY)
        elif upgradable and (j.step is Step.CONFIRM_IDENTITY or j.step in VISIT_STEPS):
            j.fallback = j.identity  # read the chip to upgrade a QR / typed identity
            j.resume_visit = j.step in VISIT_STEPS
            return self.read(j, j.key or AccessKey.from_citizen_id(j.identity.citizen_id))
        elif j.step is Step.ERROR and j.key is not None and j.error and RETRY in j.error.actions:
            return self.read(j, j.key)  # card put back after it was removed mid-read
        return None

    def card_removed(self, j, ev) -> list | None:
        j.card_present = False
        if j.step is Step.NEED_KEY:
            j.reset()
        elif j.step is Step.READING:
            j.fail("ui.error.card_removed", ON_THE_WAY, retry=lambda: self.read(j, j.key))
        return None

    def open_keypad(self, j, ev: OpenKeypad) -> None:
        if j.step in (Step.WELCOME, Step.NEED_KEY, Step.ERROR, Step.KEYPAD):
            j.keypad_field = ev.field if ev.field in (CITIZEN_ID, PATIENT_CODE) else CITIZEN_ID
            j.go(Step.KEYPAD)

    def qr_scanned(self, j, ev: QrScanned) -> list | None:
        if j.step not in (Step.WELCOME, Step.NEED_KEY, Step.KEYPAD, Step.ERROR):
            return None
        s = j.settings
        try:
            parsed = parse_qr(ev.text, s.appointment_pattern, today=j.today(),
                              patient_code_pattern=s.patient_code_pattern)
        except QrPayloadError as exc:
            j.notice = exc.patient_message_key
            return None
        if isinstance(parsed, AppointmentQr):
            return self.ask_his(j, Step.FINDING_BOOKING, parsed.code)
        if isinstance(parsed, PatientCodeQr):
            return self.ask_his(j, Step.FINDING_PATIENT, parsed.code)
        return self.identified(j, parsed.identity(), parsed.access_key())

    def id_typed(self, j, ev: IdTyped) -> list | None:
        typing_id = j.step is Step.KEYPAD and j.keypad_field == CITIZEN_ID
        if not (typing_id or j.step is Step.NEED_KEY):  # the card screen has a keypad of its own
            return None
        try:  # ASCII digits only, in full: the keypad's text is never converted or trimmed
            digits = input_rules.citizen_id(ev.digits, "keypad")
        except input_rules.InputRefused as exc:
            j.notice = exc.patient_message_key
            return None
        return self.identified(j, Identity(citizen_id=digits, source=IdentitySource.TYPED, assurance=Assurance.TYPED))

    def patient_code_typed(self, j, ev: PatientCodeTyped) -> list | None:
        if j.step is not Step.KEYPAD or j.keypad_field != PATIENT_CODE:
            return None
        code = j.codes.from_digits(ev.digits)  # ASCII digits only, never trimmed (kiosk.identity.input_rules)
        if code is None:
            j.notice = "error.invalid_patient_code"
            return None
        return self.ask_his(j, Step.FINDING_PATIENT, code)

    # --- the work --------------------------------------------------------------------------
    def ask_his(self, j, step: Step, code: str) -> list:
        """An appointment QR (FINDING_BOOKING) or a patient code (FINDING_PATIENT): whose is it?"""
        if not j.his_online:
            return j.fail(OFFLINE_KEYS[step], (USE_QR, TYPE_ID, HOME))
        j.go(step)
        j.retry_with = lambda: self.ask_his(j, step, code)
        return [FindBooking(j.op, code) if step is Step.FINDING_BOOKING else FindPatient(j.op, code)]

    def identified(self, j, identity: Identity, key: AccessKey | None = None,
                   lookup: PatientLookup | None = None) -> list:
        """A QR code, the keypad or a patient code gave an ID number: read the chip if a card is there."""
        j.identity = None
        j.lookup = lookup
        j.key = key or AccessKey.from_citizen_id(identity.citizen_id)
        if not card_check.is_for(j, identity.citizen_id):
            card_check.forget(j)  # another person than the card check was about
        if j.card_present:
            j.fallback = identity
            return self.read(j, j.key)
        j.identity, j.fallback = identity, None
        return j.exit(self)

    def read(self, j, key: AccessKey) -> list:
        j.key = key
        j.go(Step.READING)
        return [ReadChip(j.op, key, with_photo=False, timeout_s=max(1.0, j.settings.read_timeout_s - 5))]

    def chip_read(self, j, identity: Identity) -> list:
        fallback = j.fallback
        if fallback is not None and fallback.citizen_id != identity.citizen_id:
            return j.fail("ui.error.card_mismatch", (TYPE_ID, HOME))
        j.identity, j.fallback = identity, None
        effects = j.exit(self)
        if j.settings.read_photo and identity.photo is None:
            j.photo_op = j.next_op()
            effects.append(ReadPhoto(j.photo_op, timeout_s=max(1.0, j.settings.read_timeout_s - 5)))
        return effects

    def chip_failed(self, j, key: str) -> list:
        fallback = j.fallback
        if fallback is not None and fallback.source is not IdentitySource.TYPED:
            # the printed QR (or the patient code) was read correctly: carry on with it (lower assurance)
            j.identity, j.fallback = fallback, None
            return j.exit(self, notice="ui.notice.chip_failed")
        j.resume_visit = False
        return j.fail(key, ON_THE_WAY, retry=lambda: self.read(j, j.key))

    # --- answers and the timer -------------------------------------------------------------
    def done(self, j, value) -> list | None:
        if j.step is Step.READING:
            return self.chip_read(j, value)
        if j.step is Step.FINDING_BOOKING:
            return self.identified(j, value)
        if j.step is Step.FINDING_PATIENT:
            return self.identified(j, value.identity, lookup=value.lookup)
        return None

    def failed(self, j, err: BaseException, key: str) -> list | None:
        if j.step is Step.READING:
            return self.chip_failed(j, key)
        if j.step in OFFLINE_KEYS:
            if isinstance(err, (BookingNotUsable, PatientCodeNotUsable)):
                return j.fail(key, (USE_QR, TYPE_ID, HOME))
            if isinstance(err, HisUnavailable):
                return j.fail(OFFLINE_KEYS[j.step], (USE_QR, TYPE_ID, HOME))
            if isinstance(err, PatientAmbiguous):
                return j.fail(key, (HOME,))
            return j.fail(key, (RETRY, HOME), retry=j.retry_with)
        return None

    def timed_out(self, j) -> list | None:
        if j.step is Step.READING:
            return j.fail("ui.error.read_timeout", ON_THE_WAY, retry=lambda: self.read(j, j.key))
        if j.step in OFFLINE_KEYS:
            return j.fail(OFFLINE_KEYS[j.step], (USE_QR, TYPE_ID, HOME))
        j.reset()
        return None

    def side_ops(self, j) -> dict:
        return {j.photo_op: (self.photo_arrived, self.photo_failed)}

    def photo_arrived(self, j, value) -> None:
        j.photo_op = None
        if value and j.identity is not None and j.identity.source is IdentitySource.CHIP:
            j.identity = dataclasses.replace(j.identity, photo=bytes(value))

    def photo_failed(self, j, err: BaseException, key: str) -> None:
        j.photo_op = None  # no photo: the identity is enough


STEP = Identify()
