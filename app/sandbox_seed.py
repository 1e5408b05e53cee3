"""Build the sandbox HIS's demo data as FHIR R4 resources.

From ``assets/demo/hospital.json``: the hospital (Organization), departments
(HealthcareService), clinic rooms (Location), practitioners, patients with
Vietnamese names, and today's booked appointments. Sent as one transaction
with conditional creates, so seeding twice changes nothing.
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta

from kiosk.config.loader import HisSection
from kiosk.demo_data import SEX_TO_GENDER, demo_booking_code, demo_patient_code, load_demo


def _uuid_for(kind: str, key: str) -> str:
    import uuid

    return f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, f'kiosk-demo/{kind}/{key}')}"


def _entry(kind: str, key: str, resource: dict, if_none_exist: str) -> dict:
    return {
        "fullUrl": _uuid_for(kind, key),
        "resource": resource,
        "request": {"method": "POST", "url": resource["resourceType"], "ifNoneExist": if_none_exist},
    }


def build_seed_bundle(his: HisSection, day: date, tz, demo_path: str | None = None) -> dict:
    demo = load_demo(demo_path)
    hospital = demo["hospital"]
    entries = []
    # The demo hospital's own systems (a real HIS has its own; the kiosk only needs the ones in [his]).
    hospital_sid = f"{his.kiosk_namespace}/demo-hospital/sid"
    org_sys = f"{hospital_sid}/organization"
    practitioner_sys = f"{hospital_sid}/practitioner"
    entries.append(_entry("org", hospital["id"], {
        "resourceType": "Organization",
        "identifier": [{"system": org_sys, "value": hospital["id"]}],
        "name": hospital["name"],
        "address": [{"text": hospital["address"]}],
    }, f"identifier={org_sys}|{hospital['id']}"))
    org_ref = {"reference": _uuid_for("org", hospital["id"]), "display": hospital["name"]}

    room_dept = {}
    for dept in demo["departments"]:
        room_refs = []
        for room in dept["rooms"]:
            room_dept[room["code"]] = dept["code"]
            entries.append(_entry("room", room["code"], {
                "resourceType": "Location",
                "identifier": [{"system": his.room_system, "value": room["code"]}],
                "status": "active",
                "name": room["name"],
                "description": room["where"],
                "mode": "instance",
                "physicalType": {"coding": [{
                    "system": "http://terminology.hl7.org/CodeSystem/location-physical-type",
                    "code": "ro", "display": "Room"}]},
                "managingOrganization": org_ref,
            }, f"identifier={his.room_system}|{room['code']}"))
            room_refs.append({"reference": _uuid_for("room", room["code"]), "display": room["name"]})
        entries.append(_entry("dept", dept["code"], {
            "resourceType": "HealthcareService",
            "identifier": [{"system": his.department_system, "value": dept["code"]}],
            "active": True,
            "name": dept["name"],
            "comment": dept.get("name_en", ""),
            "extraDetails": dept.get("hours", ""),
            "providedBy": org_ref,
            "location": room_refs,
        }, f"identifier={his.department_system}|{dept['code']}"))

    practitioner_by_room = {}
    for pr in demo["practitioners"]:
        entries.append(_entry("pr", pr["id"], {
            "resourceType": "Practitioner",
            "identifier": [{"system": practitioner_sys, "value": pr["id"]}],
            "name": [{"text": pr["name"]}],
        }, f"identifier={practitioner_sys}|{pr['id']}"))
        practitioner_by_room[pr["room"]] = pr

    for person in demo["people"]:
        if not person.get("in_his"):
            continue
        records = [("", person["birth_date"])]
        if person.get("duplicate_record_birth_date"):
            records.append(("-dup", person["duplicate_record_birth_date"]))
        for suffix, birth in records:
            key = person["key"] + suffix
            local_id = demo_patient_code(person, suffix)
            entries.append(_entry("patient", key, {
                "resourceType": "Patient",
                "identifier": [
                    {"system": his.cccd_system, "value": person["citizen_id"]},
                    {"system": his.patient_code_system, "value": local_id},
                ],
                "active": True,
                "name": [{"text": person["full_name"], "family": person["full_name"].split()[0],
                          "given": person["full_name"].split()[1:]}],
                "gender": SEX_TO_GENDER.get(person["sex"], "unknown"),
                "birthDate": birth,
                "address": [{"text": person["address"], "country": "VN"}],
            }, f"identifier={his.patient_code_system}|{local_id}"))
        appt = person.get("appointment")
        if appt:
            start = datetime.combine(day, time.fromisoformat(appt["time"]), tzinfo=tz)
            end = start + timedelta(minutes=15)
            booking = demo_booking_code(person, day)
            participants = [
                {"actor": {"reference": _uuid_for("patient", person["key"])}, "status": "accepted"},
                {"actor": {"reference": _uuid_for("room", appt["room"])}, "status": "accepted"},
            ]
            pr = practitioner_by_room.get(appt["room"])
            if pr:
                participants.append({"actor": {"reference": _uuid_for("pr", pr["id"]), "display": pr["name"]},
                                     "status": "accepted"})
            entries.append(_entry("appt", booking, {
                "resourceType": "Appointment",
                "identifier": [{"system": his.booking_system, "value": booking}],
                "status": "booked",
                "serviceType": [{"coding": [{"system": his.department_system, "code": appt["department"]}]}],
                "start": start.isoformat(),
                "end": end.isoformat(),
                "participant": participants,
            }, f"identifier={his.booking_system}|{booking}"))
    return {"resourceType": "Bundle", "type": "transaction", "entry": entries}
