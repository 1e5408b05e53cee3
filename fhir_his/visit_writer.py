"""Recording one visit in the HIS, with the request strategy its capabilities allow.

- **One transaction** (``transaction`` supported): the patient (when new) and
  the Encounter as conditional creates (``ifNoneExist`` on the CCCD and on the
  check-in id), and — when the appointment carries a version — its
  ``booked → arrived`` update with ``ifMatch``. Every entry has a ``fullUrl``
  (the new patient's is ``urn:uuid:{check-in id}``).
- **One conditional create at a time** (no transaction): patient, then the
  Encounter, then the appointment — in that order, so that whatever step fails
  a retry converges: the creates match what exists, and an appointment is
  marked arrived only once its visit exists (a booked patient never turns into
  a walk-in).
- The appointment is written over what was read: ``If-Match``, or a JSON Patch
  with ``test`` on a HIS without versions (``fhir_his.guarded_write``).

Bodies are optional in R4: what was made is taken from the answer's resource,
else read from its ``Location``, else found by its identifier (a conditional
create that matched may answer ``200`` with nothing at all).
"""
from __future__ import annotations

import logging
import uuid

from fhir_his import mapping as m
from fhir_his import replies
from fhir_his.capabilities import Capabilities
from fhir_his.client import FhirClient, Response
from fhir_his.guarded_write import write_over
from kiosk.config.loader import Config
from kiosk.errors import HisBadReply, HisConflict, HisOutcomeUnknown
from kiosk.ports import VisitPlan

log = logging.getLogger(__name__)

ARRIVAL_ATTEMPTS = 4


def urn_for(checkin_id: str, kind: str) -> str:
    """``urn:uuid:`` of a resource a check-in creates: the patient's is the
    check-in id itself (a canonical UUID), the others derived from it."""
    try:
        base = uuid.UUID(checkin_id)
    except ValueError:
        base = uuid.uuid5(uuid.NAMESPACE_URL, f"checkin/{checkin_id}")
    return f"urn:uuid:{base if kind == 'Patient' else uuid.uuid5(base, kind)}"


class VisitWriter:
    def __init__(self, client: FhirClient, caps: Capabilities, config: Config):
        self.client = client
        self.caps = caps
        self.config = config
        self.his = config.his

    # -- what the HIS made ------------------------------------------------------------------
    def _found(self, rtype: str, params: dict) -> dict:
        found, _ = self.client.search(rtype, params)
        if len(found) != 1:
            raise HisBadReply(f"{rtype}: the write was answered, yet {len(found)} match its identifier")
        return found[0]

    def _made(self, rtype: str, body, location: str | None, params: dict) -> dict:
        if isinstance(body, dict) and body.get("resourceType") == rtype and body.get("id"):
            return body
        if location:
            return self.client.read_location(location, rtype).body
        return self._found(rtype, params)

    @staticmethod
    def _as_sent(plan: VisitPlan, sent: dict, status: int, location: str | None, patient_ref: str | None) -> dict | None:
        """The Encounter as stored, without reading it back, when that is
        certain: just created (201) from what the kiosk sent, numbered by the
        kiosk (a HIS that numbers visits adds its number: read it)."""
        rid = m.ref_id(location)
        if status != 201 or not rid or plan.queue_number is None or not (patient_ref or "").startswith("Patient/"):
            return None
        return {**sent, "id": rid, "subject": {**sent.get("subject", {}), "reference": patient_ref}}

    def _encounter_search(self, plan: VisitPlan) -> dict:
        return {"identifier": f"{self.his.checkin_system}|{plan.checkin_id}"}

    def _patient_search(self, plan: VisitPlan) -> dict:
        return {"identifier": f"{self.his.cccd_system}|{plan.identity.citizen_id}"}

    # -- the strategies ---------------------------------------------------------------------
    def write(self, plan: VisitPlan) -> tuple[dict, bool]:
        """Record the visit; returns (the stored Encounter, patient created now)."""
        if self.caps.has("transaction"):
            return self._in_one_transaction(plan)
        return self._one_at_a_time(plan)

    def _patient_entry(self, plan: VisitPlan) -> dict:
        return {"fullUrl": urn_for(plan.checkin_id, "Patient"),
                "resource": m.patient_to_fhir(plan.identity, self.his),
                "request": {"method": "POST", "url": "Patient",
                            "ifNoneExist": f"identifier={self.his.cccd_system}|{plan.identity.citizen_id}"}}

    def _encounter(self, plan: VisitPlan, patient_ref: str) -> dict:
        return m.encounter_to_fhir(plan, patient_ref, self.his, self.config.kiosk.id)

    def _in_one_transaction(self, plan: VisitPlan) -> tuple[dict, bool]:
        entries = []
        new_patient = plan.patient is None
        if new_patient:
            entries.append(self._patient_entry(plan))
            patient_ref = urn_for(plan.checkin_id, "Patient")
        else:
            patient_ref = f"Patient/{plan.patient.id}"
        appt = plan.appointment
        arrive_after = False
        if appt and appt.status == "booked" and appt.resource:
            if appt.version_id:
                entries.append({"fullUrl": f"{self.client.base}/Appointment/{appt.id}",
                                "resource": m.prune(dict(appt.resource, status="arrived")),
                                "request": {"method": "PUT", "url": f"Appointment/{appt.id}",
                                            "ifMatch": f'W/"{appt.version_id}"'}})
            else:
                arrive_after = True  # no version to put in the transaction: compare-and-set after it
        entries.append({"fullUrl": urn_for(plan.checkin_id, "Encounter"),
                        "resource": self._encounter(plan, patient_ref),
                        "request": {"method": "POST", "url": "Encounter",
                                    "ifNoneExist": f"identifier={self.his.checkin_system}|{plan.checkin_id}"}})
        out = self.client.transaction(entries)
        last, response = out[-1], out[-1]["response"]
        if new_patient:
            made = m.ref_id(out[0]["response"].get("location"))
            patient_ref = f"Patient/{made}" if made else None
        enc = (self._as_sent(plan, entries[-1]["resource"], replies.status_code(response["status"]),
                             response.get("location"), patient_ref) if not last.get("resource") else None) \
            or self._made("Encounter", last.get("resource"), response.get("location"), self._encounter_search(plan))
        created = new_patient and replies.status_code(out[0]["response"]["status"]) == 201
        if arrive_after:
            self.arrive(appt.resource)
        return enc, created

    def _create(self, rtype: str, resource: dict, condition: str, search: dict) -> tuple[dict, bool]:
        r: Response = self.client.create(resource, if_none_exist=condition)
        return self._made(rtype, r.body, r.location, search), r.status == 201

    def _one_at_a_time(self, plan: VisitPlan) -> tuple[dict, bool]:
        created = False
        if plan.patient is None:
            entry = self._patient_entry(plan)
            patient, created = self._create("Patient", entry["resource"], entry["request"]["ifNoneExist"],
                                            self._patient_search(plan))
            patient_ref = f"Patient/{patient['id']}"
        else:
            patient_ref = f"Patient/{plan.patient.id}"
        sent = self._encounter(plan, patient_ref)
        r = self.client.create(sent, if_none_exist=f"identifier={self.his.checkin_system}|{plan.checkin_id}")
        enc = (None if r.body else self._as_sent(plan, sent, r.status, r.location, patient_ref)) \
            or self._made("Encounter", r.body, r.location, self._encounter_search(plan))
        appt = plan.appointment
        if appt and appt.status == "booked" and appt.resource:
            self.arrive(appt.resource)
        return enc, created

    # -- the appointment ----------------------------------------------------------------------
    def arrive(self, current: dict) -> None:
        """``booked → arrived``, written over what was read; re-read on a
        conflict or a lost answer. Nothing to do once it is no longer booked
        (arrived by an earlier try, or changed at the desk)."""
        for _ in range(ARRIVAL_ATTEMPTS):
            if current.get("status") != "booked":
                if current.get("status") != "arrived":
                    log.warning("appointment no longer booked at arrival", extra={
                        "event": "his.appointment_not_booked", "status": str(current.get("status"))[:20]})
                return
            try:
                write_over(self.client, current, dict(current, status="arrived"),
                           patch_allowed=self.caps.has("patch", probe=False))
                return
            except (HisConflict, HisOutcomeUnknown):
                current = self.client.read("Appointment", current["id"]).body
        raise HisConflict("appointment: kept changing while it was marked arrived")
