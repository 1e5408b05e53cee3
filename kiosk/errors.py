"""Typed errors. Each carries a message key for the patient (looked up in
``kiosk.texts.messages`` in the current language) and a short technical text for IT
staff. Neither may contain personal data: no names, ID numbers, dates of birth
or addresses — only codes, keys and device names.
"""
from __future__ import annotations


class KioskError(Exception):
    """Base class. ``patient_message_key`` names the catalogue entry shown to
    the patient; ``str(err)`` is the technical text for logs and IT."""

    patient_message_key = "error.generic"

    def __init__(self, detail: str = "", *, key: str | None = None):
        super().__init__(detail or self.__class__.__name__)
        if key:
            self.patient_message_key = key


class ConfigError(KioskError):
    """The configuration is invalid; ``detail`` names the key and what was expected."""

    patient_message_key = "error.out_of_service"


class HisError(KioskError):
    """Base for HIS (hospital information system) problems."""

    patient_message_key = "error.his"


class HisUnavailable(HisError):
    """HIS unreachable, timing out or answering 5xx: the kiosk may go offline."""

    patient_message_key = "error.his_unavailable"
    # When the visit's own write went unanswered: the department the online
    # check-in chose (e.g. the appointment's), which the offline ticket takes over.
    department_code: str | None = None


class HisBadReply(HisUnavailable):
    """The HIS answered, but not with the FHIR answer asked for: an HTML page,
    a body that is not JSON or was cut off, a Bundle whose entries have no id,
    an OperationOutcome with 200, a resource of another type. The text names
    what was wrong. For the check-in it counts as "the HIS is not answering
    properly" (the kiosk uses its cache / the outbox), never as a patient error."""


class HisOutcomeUnknown(HisUnavailable):
    """A write was sent and its answer was lost or garbled: it may or may not
    have happened. Never re-issued blindly — the caller looks the check-in up
    (identifier search) or hands it to the outbox, which does."""


class HisRefused(HisError):
    """The HIS answered with a 4xx other than a retriable conflict."""

    patient_message_key = "error.his_refused"

    def __init__(self, detail: str = "", *, status: int | None = None, key: str | None = None):
        super().__init__(detail, key=key)
        self.status = status


class HisConflict(HisError):
    """A version conflict (412) that retrying did not resolve."""


class PatientAmbiguous(HisError):
    """Several patient records match and the date of birth does not single one out."""

    patient_message_key = "error.patient_ambiguous"


class DepartmentRequired(KioskError):
    """No appointment today: the patient must choose a department."""

    patient_message_key = "error.department_required"


class UnknownDepartment(KioskError):
    patient_message_key = "error.unknown_department"


class InvalidIdentity(KioskError):
    """The identity data cannot be used (e.g. an ID that is not 12 digits)."""

    patient_message_key = "error.invalid_id"


class BookingNotUsable(KioskError):
    """An appointment QR that cannot be used for check-in today."""

    patient_message_key = "error.booking_not_found"


class PatientCodeNotUsable(KioskError):
    """A hospital patient code that matches no patient (or one without a CCCD on record)."""

    patient_message_key = "error.patient_code_not_found"


class CoverageOfAnotherPatient(HisConflict):
    """The HIS holds a BHYT Coverage with this card number for another patient record: staff must look."""
