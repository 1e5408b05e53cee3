"""Two FHIR requests the outbox needs beyond the ``kiosk.ports.His`` port.

- ``find_visits``: one search for many check-in ids (the sender verifies a
  whole batch in the HIS with one request instead of one per entry).
- ``relabel_visit``: put the offline ticket's number and label on a visit
  that an abandoned online attempt created with an online number, so the
  paper ticket in the patient's hand matches the ward display. Only while
  the visit is still waiting (``arrived``); a visit already called keeps its
  label and the mapping records both.

They use the lead's ``FhirClient`` (``his.client``) and the Encounter layout of
``kiosk.fhir.mapping``; with another ``His`` they fall back to ``find_visit``
and to no relabelling.
"""
from __future__ import annotations

from kiosk.config import HisSection
from kiosk.errors import HisConflict
from kiosk.fhir import mapping as m
from kiosk.fhir.client import version_of
from kiosk.ports import RecordedVisit


def visit_from_encounter(enc: dict) -> RecordedVisit:
    return RecordedVisit(
        patient_id=m.ref_id((enc.get("subject") or {}).get("reference")) or "",
        encounter_id=enc["id"],
        appointment_id=m.ref_id(((enc.get("appointment") or [{}])[0]).get("reference")),
        queue_number=m.extension_value(enc, m.EXT_QUEUE_NUMBER, "valueInteger") or 0,
        queue_label=m.extension_value(enc, m.EXT_QUEUE_LABEL, "valueString") or "")


def find_visits(his, checkin_ids: list[str]) -> tuple[dict[str, RecordedVisit], list[str]]:
    """Visits the HIS holds for these check-in ids, and the ids that have
    more than one (which must never happen)."""
    client = getattr(his, "client", None)
    if client is None or not hasattr(client, "search"):
        return {cid: v for cid in checkin_ids if (v := his.find_visit(cid)) is not None}, []
    system = his.his.checkin_system
    found, _ = client.search("Encounter", {
        "identifier": ",".join(f"{system}|{cid}" for cid in checkin_ids), "_count": str(2 * len(checkin_ids))})
    out: dict[str, RecordedVisit] = {}
    duplicates = []
    for enc in found:
        cid = m.identifier_value(enc, system)
        if cid in out:
            duplicates.append(cid)
        out[cid] = visit_from_encounter(enc)
    return out, duplicates


def relabel_visit(his, encounter_id: str, *, number: int, label: str, department_code: str, day) -> str:
    """Set the offline number/label on the visit; returns the label it now carries."""
    client = getattr(his, "client", None)
    section: HisSection = his.his
    if client is None:
        raise HisConflict("relabel: the HIS adapter has no FHIR client")
    for _ in range(5):
        enc = client.read("Encounter", encounter_id).body or {}
        current = m.extension_value(enc, m.EXT_QUEUE_LABEL, "valueString") or ""
        if current == label or enc.get("status") != "arrived":
            return current
        ext = [e for e in enc.get("extension") or [] if e.get("url") not in (m.EXT_QUEUE_NUMBER, m.EXT_QUEUE_LABEL)]
        enc["extension"] = [{"url": m.EXT_QUEUE_NUMBER, "valueInteger": number},
                            {"url": m.EXT_QUEUE_LABEL, "valueString": label}, *ext]
        idents = [i for i in enc.get("identifier") or [] if i.get("system") != section.queue_system]
        enc["identifier"] = idents + [{"system": section.queue_system,
                                       "value": f"{department_code}-{day:%Y%m%d}-{label}"}]
        try:
            client.update(enc, if_match=version_of(enc))
            return label
        except HisConflict:
            continue
    raise HisConflict("relabel: the visit kept changing")
