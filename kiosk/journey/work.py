"""The work behind each of the journey's effects, run on a worker thread:
``perform(effect, services)`` calls the kiosk's services (``kiosk.services.KioskServices``)
and turns the outcome — result or failure — into the event the journey handles next."""
from __future__ import annotations

from kiosk.errors import KioskError
from kiosk.journey.events import (
    CheckIn,
    CheckInsurance,
    DepartmentsFailed,
    DepartmentsLoaded,
    FindBooking,
    FindPatient,
    LoadDepartments,
    LookupPatient,
    OpDone,
    OpFailed,
    PrintTicket,
    ReadChip,
    ReadPhoto,
)


def perform(effect, services) -> object:
    """Run one effect against ``kiosk.services.KioskServices``; return the result event."""
    try:
        if isinstance(effect, ReadChip):
            if services.card_reader is None:
                raise KioskError("card_reader: driver is none", key="ui.error.no_reader")
            value = services.card_reader.read_identity(effect.key, with_photo=effect.with_photo,
                                                       timeout=effect.timeout_s)
        elif isinstance(effect, ReadPhoto):
            value = services.card_reader.read_photo(timeout=effect.timeout_s)
        elif isinstance(effect, FindBooking):
            value = services.identity_for_booking(effect.code)
        elif isinstance(effect, FindPatient):
            value = services.patient_for_code(effect.code)
        elif isinstance(effect, LookupPatient):
            value = services.his.lookup_patient(effect.citizen_id, effect.day)
        elif isinstance(effect, CheckInsurance):
            if services.insurance is None:
                raise KioskError("insurance: gateway is none")
            value = services.insurance.check(effect.card_number, effect.full_name, effect.birth_date,
                                             timeout_s=effect.timeout_s)
        elif isinstance(effect, CheckIn):
            value = services.checkin.check_in(effect.request)
        elif isinstance(effect, PrintTicket):
            services.printer.print_ticket(effect.ticket)
            value = None
        elif isinstance(effect, LoadDepartments):
            departments = tuple(services.departments())
            try:
                waiting = dict(services.waiting_counts())
            except Exception:  # counts are a nicety; the list is what matters
                waiting = None
            return DepartmentsLoaded(departments, waiting)
        else:
            raise TypeError(f"journey: unknown effect {type(effect).__name__}")
    except BaseException as exc:  # noqa: BLE001 - every failure becomes an event the journey handles
        if isinstance(effect, LoadDepartments):
            return DepartmentsFailed(exc)
        return OpFailed(effect.op, exc)
    return OpDone(effect.op, value)
